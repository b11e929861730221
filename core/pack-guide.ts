import { MAX_SPAN_MS } from './change-index';
import { compareObjectKeys, type PackEntry, type PackManifest } from './pack-format';

/**
 * A read as of T from a pack without listing every version (DESIGN.md "Packs: reading without a
 * listing"). The pack holds each item as of its time C, from listings begun after `listedFromMs`
 * (S3's clock). An item's answer can differ at T only through a version the pack did not weigh:
 * one with a change time after C, or one written after its prefix was listed. Writers put a
 * batch's index object after its versions, so every such version is named by an index object
 * written after `listedFromMs`, or by one holding a change after C. Those items are read through
 * their own listings; every other item is the pack's entry.
 */

/** A writer finishes a change within a day of it (the stream's retention), plus a Lambda's hour. */
export const LATE_WRITE_MS = MAX_SPAN_MS + 3600_000;
/** Slack on compared times: LastModified can be whole seconds, change times rounded down. */
export const GUIDE_SLACK_MS = 2000;
/** Past this many changed items in a hash prefix, one listing of the prefix is cheaper. */
export const PER_PREFIX_KEYS = 32;
/** Past this many changed items in all, the index path holds too much: the listing it is. */
export const MAX_GUIDED_KEYS = 200_000;

/** Why a pack cannot guide a read as of `atMs`, or the window of the index it needs. */
export function guideWindow(
  manifest: Pick<PackManifest, 'createdMs' | 'listedFromMs'>,
  atMs: number,
): { sinceMs: number; untilMs: number } | { reason: string } {
  if (manifest.listedFromMs === undefined)
    return { reason: 'the pack predates reads without a listing (make a new one with ddb-rewind pack)' };
  if (atMs < manifest.createdMs) return { reason: 'the pack was made after T' };
  // Changes this far before the listings began cannot have been written after them.
  return { sinceMs: manifest.listedFromMs - LATE_WRITE_MS, untilMs: atMs + GUIDE_SLACK_MS };
}

/** Whether an index object (by its name's span and its LastModified) may name such a version. */
export function indexObjectMatters(
  o: { span: { firstMs: number; lastMs: number }; lastModifiedMs: number },
  manifest: Pick<PackManifest, 'createdMs' | 'listedFromMs'>,
  atMs: number,
): boolean {
  if (o.span.firstMs > atMs + GUIDE_SLACK_MS) return false;
  // Both are S3's clock, and listedFromMs is rounded down: no slack needed.
  const writtenAfter = o.lastModifiedMs >= (manifest.listedFromMs ?? 0);
  return writtenAfter || o.span.lastMs > manifest.createdMs;
}

/** A change of such an object that can bear on T (a superset: extra items only cost reads). */
export const changeMatters = (timeMs: number, atMs: number): boolean => timeMs <= atMs + GUIDE_SLACK_MS;

/** One object key of a guided walk: the pack's entry, and whether the key must be listed. */
export interface GuidedKey {
  objectKey: string;
  packed?: PackEntry;
  /** True: the index says the item changed since the pack; read it through its own listing. */
  listed: boolean;
}

/**
 * A prefix's keys in listing order: the pack's entries (in order) merged with the changed keys
 * (sorted by compareObjectKeys), up to `until` when given.
 */
export async function* guidedKeys(
  entries: AsyncIterable<PackEntry>,
  changed: readonly string[],
  until?: string,
): AsyncGenerator<GuidedKey> {
  const past = (key: string) => until !== undefined && compareObjectKeys(key, until) > 0;
  let i = 0;
  for await (const entry of entries) {
    if (past(entry.objectKey)) break;
    while (i < changed.length && compareObjectKeys(changed[i] as string, entry.objectKey) < 0) {
      if (past(changed[i] as string)) return;
      yield { objectKey: changed[i++] as string, listed: true };
    }
    const same = changed[i] === entry.objectKey;
    if (same) i++;
    yield { objectKey: entry.objectKey, packed: entry, listed: same };
  }
  for (; i < changed.length && !past(changed[i] as string); i++)
    yield { objectKey: changed[i] as string, listed: true };
}
