import type { ChangeMeta } from './change-record';
import type { ListedVersion } from './select-version';

/** When the item's life around T began or ended, and when it next changed. */
export interface ItemSpan {
  /** The change that began the life the item is in at T (absent when that is not known). */
  existedFromMs?: number;
  /** When the item was deleted, when it is absent at T. */
  existedUntilMs?: number;
  /** The first change after T. */
  nextChangeMs?: number;
}

/**
 * The span around T from the item's listing and few metadata reads (`readMeta` is expected to
 * answer from what the as-of read already learned). The listing is in write order, and first
 * deliveries of an item's changes are written in stream order; a delete writes a tombstone and
 * then a delete marker, so the version after the last marker before the chosen one began the
 * item's current life, and the first version after the chosen one whose change time is after T
 * is the next change (a redelivered copy repeats an earlier change, so it is skipped by time).
 */
export async function itemSpan(
  versions: readonly ListedVersion[],
  chosen: { version: ListedVersion; meta: ChangeMeta | undefined } | undefined,
  atMs: number,
  readMeta: (v: ListedVersion) => Promise<ChangeMeta | undefined>,
): Promise<ItemSpan> {
  const oldestFirst = [...versions].reverse();
  const at = chosen ? oldestFirst.findIndex((v) => v.versionId === chosen.version.versionId) : -1;
  const span: ItemSpan = {};
  for (const v of oldestFirst.slice(at + 1)) {
    if (v.isDeleteMarker) continue;
    const meta = await readMeta(v);
    if (meta && meta.timeMs > atMs) {
      span.nextChangeMs = meta.timeMs;
      break;
    }
  }
  if (!chosen?.meta) return span;
  if (chosen.meta.event === 'REMOVE') return { ...span, existedUntilMs: chosen.meta.timeMs };
  let start = at;
  while (start > 0 && !oldestFirst[start - 1]?.isDeleteMarker) start--;
  const first = oldestFirst[start] as ListedVersion;
  const meta = start === at ? chosen.meta : await readMeta(first);
  return meta ? { ...span, existedFromMs: meta.timeMs } : span;
}
