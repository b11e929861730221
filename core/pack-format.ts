import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from './errors';
import { type BackupLocation, tableRoot } from './object-key';

/**
 * A pack is a copy, in a few large objects, of one version per item: the version holding the item
 * as of the pack's time (a deleted item's tombstone), body and S3 metadata, keyed by version id. A
 * reader that has chosen version V of an item (by the usual listing and `selectAsOf`) takes V's
 * body from the pack when the pack holds V, instead of a GetObject. S3 versions are immutable, so
 * a pack can only save requests, never change an answer; a missing or partial pack costs GETs.
 *
 * Layout, beside the items: `<prefix><table>/_packs/<pack id>/`
 * - `<hh>/<nnnnn>.ndjson.gz`: that hash prefix's entries in S3 listing order (UTF-8 byte order of
 *   the object key), one JSON object per line, split into chunks of about {@link CHUNK_BYTES}.
 * - `pack.json`: written last; a pack without it is unfinished and never read.
 */
export const PACK_FORMAT = 'ddb-rewind-pack/1';

/** Uncompressed bytes per chunk: a reader holds one chunk per prefix it is reading. */
export const CHUNK_BYTES = 256 * 1024;

export interface PackEntry {
  objectKey: string;
  versionId: string;
  /** The version's S3 user metadata, as GetObject returns it (`rw-*` without `x-amz-meta-`). */
  metadata: Record<string, string>;
  /** The version's body, exactly as stored. */
  body: string;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  table: string;
  /** When the listing began, epoch ms: versions written later are not in the pack. */
  createdMs: number;
  /**
   * S3's clock before any prefix was listed (a version written later is named by an index object
   * written later): lets a read skip the listing (pack-guide.ts). Absent in older packs.
   */
  listedFromMs?: number;
  /** Chunk count and the last object key of each chunk, per hash prefix that has entries. */
  prefixes: Record<string, { lastKeys: string[] }>;
  items: number;
  /** Entries copied from an earlier pack rather than read from S3. */
  reused: number;
}

/**
 * One task run's share of a pack's manifest: its prefixes' chunks and counts. A run a deadline
 * stopped inside a prefix holds the chunks it wrote; its continuation's share goes on at
 * `firstChunk`.
 */
export interface PackPart extends Pick<PackManifest, 'items' | 'reused'> {
  prefixes: Record<string, { lastKeys: string[]; firstChunk?: number }>;
}

/** pack.json from its task runs' shares (disjoint ranges of keys). */
export function mergePackParts(
  table: string,
  createdMs: number,
  parts: readonly PackPart[],
  listedFromMs?: number,
): PackManifest {
  const pieces = new Map<string, Array<{ lastKeys: string[]; firstChunk?: number }>>();
  for (const part of parts)
    for (const [hh, piece] of Object.entries(part.prefixes))
      pieces.set(hh, [...(pieces.get(hh) ?? []), piece]);
  const prefixes: PackManifest['prefixes'] = {};
  for (const hh of [...pieces.keys()].sort()) {
    const lastKeys: string[] = [];
    for (const piece of (pieces.get(hh) ?? []).sort((a, b) => (a.firstChunk ?? 0) - (b.firstChunk ?? 0))) {
      // Chunk numbers are positions in lastKeys: a hole or overlap would send readers to the wrong chunk.
      if ((piece.firstChunk ?? 0) !== lastKeys.length)
        throw new Error(
          `Pack shares of prefix ${hh} do not follow on: chunk ${piece.firstChunk ?? 0} after ${lastKeys.length}`,
        );
      lastKeys.push(...piece.lastKeys);
    }
    prefixes[hh] = { lastKeys };
  }
  return {
    format: PACK_FORMAT,
    table,
    createdMs,
    ...(listedFromMs !== undefined ? { listedFromMs } : {}),
    prefixes,
    items: parts.reduce((n, p) => n + p.items, 0),
    reused: parts.reduce((n, p) => n + p.reused, 0),
  };
}

export const packsRoot = (loc: BackupLocation): string => `${tableRoot(loc)}_packs/`;

/** Sortable and readable: `2026-11-28T01-02-03.456Z`. */
export const packIdOf = (createdMs: number): string => new Date(createdMs).toISOString().replaceAll(':', '-');

export function createdMsOfPackId(id: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d\.\d{3}Z)$/.exec(id);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}:${m[2]}:${m[3]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

export const packManifestKey = (loc: BackupLocation, id: string): string =>
  `${packsRoot(loc)}${id}/pack.json`;

export const chunkKey = (loc: BackupLocation, id: string, hh: string, n: number): string =>
  `${packsRoot(loc)}${id}/${hh}/${String(n).padStart(5, '0')}.ndjson.gz`;

export function encodeChunk(entries: readonly PackEntry[]): Buffer {
  return gzipSync(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/** Throws (gzip's CRC, JSON) on a damaged chunk: a reader then falls back to GetObject. */
export function decodeChunk(data: Uint8Array): PackEntry[] {
  const text = gunzipSync(data).toString('utf8');
  const out: PackEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as Partial<PackEntry>;
    if (typeof e.objectKey !== 'string' || typeof e.versionId !== 'string' || typeof e.body !== 'string') {
      throw new InputError('Pack chunk line lacks objectKey, versionId or body: the pack is damaged');
    }
    out.push({ objectKey: e.objectKey, versionId: e.versionId, metadata: e.metadata ?? {}, body: e.body });
  }
  return out;
}

/** Splits a prefix's entries, in order, into chunks of about `limit` uncompressed bytes. */
export class Chunker {
  private entries: PackEntry[] = [];
  private bytes = 0;

  constructor(private readonly limit = CHUNK_BYTES) {}

  /** Adds an entry; returns a full chunk to write when this one would overflow it. */
  add(entry: PackEntry): PackEntry[] | undefined {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    let full: PackEntry[] | undefined;
    if (this.entries.length && this.bytes + size > this.limit) full = this.take();
    this.entries.push(entry);
    this.bytes += size;
    return full;
  }

  /** The last, partial chunk (undefined when empty). */
  take(): PackEntry[] | undefined {
    if (!this.entries.length) return undefined;
    const out = this.entries;
    this.entries = [];
    this.bytes = 0;
    return out;
  }
}

/**
 * The pack a read as of `atMs` should use: the newest made at or before atMs (it holds the
 * versions most items still had at atMs), else the oldest made after it.
 */
export function choosePack(ids: readonly string[], atMs: number): string[] {
  const dated = ids
    .map((id) => ({ id, ms: createdMsOfPackId(id) }))
    .filter((p): p is { id: string; ms: number } => p.ms !== undefined);
  const before = dated.filter((p) => p.ms <= atMs).sort((a, b) => b.ms - a.ms);
  const after = dated.filter((p) => p.ms > atMs).sort((a, b) => a.ms - b.ms);
  // All candidates in preference order: an unfinished pack (no pack.json) is skipped for the next.
  return [...before, ...after].map((p) => p.id);
}

/** S3 listing order: UTF-8 bytes, which JS string comparison matches only for BMP text. */
export function compareObjectKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
