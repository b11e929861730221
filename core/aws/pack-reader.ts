import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { splitByKeys } from '../job-parts';
import type { Log } from '../log';
import type { BackupLocation } from '../object-key';
import {
  choosePack,
  chunkKey,
  compareObjectKeys,
  decodeChunk,
  PACK_FORMAT,
  type PackEntry,
  type PackManifest,
  packManifestKey,
  packsRoot,
} from '../pack-format';
import { type Partition, prefixesOf } from '../partition';
import { readJsonIfExists, readObjectIfExists } from './version-store';

/** A finished pack, ready to read. */
export interface Pack {
  id: string;
  manifest: PackManifest;
}

/** The ids of every pack of the table, finished or not. */
export async function listPackIds(s3: S3Client, loc: BackupLocation): Promise<string[]> {
  const root = packsRoot(loc);
  const ids: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: loc.bucket, Prefix: root, Delimiter: '/' },
  )) {
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) ids.push(p.Prefix.slice(root.length, -1));
  }
  return ids;
}

/** The finished pack best suited to a read as of `atMs` (see choosePack), or undefined. */
export async function openPack(s3: S3Client, loc: BackupLocation, atMs: number): Promise<Pack | undefined> {
  for (const id of choosePack(await listPackIds(s3, loc), atMs)) {
    const manifest = await readJsonIfExists<PackManifest>(s3, loc.bucket, packManifestKey(loc, id));
    if (manifest?.format === PACK_FORMAT) return { id, manifest };
  }
  return undefined;
}

/**
 * Walks one hash prefix of a pack alongside a listing of that prefix: `find` must be called with
 * object keys in listing order, one call at a time. Holds one chunk in memory. A chunk that cannot
 * be read is logged once; the rest of the prefix then reads from S3 as if there were no pack.
 */
export class PackCursor {
  private chunk = -1;
  private entries: Array<PackEntry | undefined> = [];
  private pos = 0;
  private broken = false;

  constructor(
    private readonly s3: S3Client,
    private readonly loc: BackupLocation,
    private readonly pack: Pack,
    private readonly hh: string,
    private readonly log: Log,
  ) {}

  async find(objectKey: string): Promise<PackEntry | undefined> {
    const lastKeys = this.pack.manifest.prefixes[this.hh]?.lastKeys ?? [];
    while (!this.broken) {
      const entry = this.entries[this.pos];
      if (entry) {
        const c = compareObjectKeys(entry.objectKey, objectKey);
        if (c > 0) return undefined;
        // Consumed entries are dropped as the cursor passes them: a chunk is freed as it is read.
        this.entries[this.pos++] = undefined;
        if (c === 0) return entry;
        continue;
      }
      // Next chunk that can hold objectKey; chunks wholly before it are never read.
      let next = this.chunk + 1;
      while (next < lastKeys.length && compareObjectKeys(lastKeys[next] as string, objectKey) < 0) next++;
      if (next >= lastKeys.length) return undefined;
      await this.load(next);
    }
    return undefined;
  }

  private async load(n: number): Promise<void> {
    this.chunk = n;
    this.entries = [];
    this.pos = 0;
    try {
      this.entries = await readChunk(this.s3, this.loc, this.pack, this.hh, n);
    } catch (err) {
      this.broken = true;
      this.log.warn('pack chunk unreadable; reading these items from their versions instead', {
        pack: this.pack.id,
        hashPrefix: this.hh,
        chunk: n,
        error: (err as Error).message,
      });
    }
  }
}

/**
 * `count` task ranges of `range` (job-parts' splitByKeys): more tasks than prefixes cut prefixes
 * at the chunk boundaries of the pack best suited to `atMs`, read only when needed.
 */
export async function splitForJob(
  s3: S3Client,
  loc: BackupLocation,
  at: { atMs: number; range: Partition; count: number },
): Promise<Partition[]> {
  if (at.count <= prefixesOf(at.range).length) return splitByKeys(at.range, at.count);
  const pack = await openPack(s3, loc, at.atMs);
  return splitByKeys(at.range, at.count, pack && ((hh) => pack.manifest.prefixes[hh]?.lastKeys));
}

/**
 * A prefix's pack entries in order, after `after` when given, reading the next chunk while this
 * one is handed out. Throws on a chunk that cannot be read (the caller lists instead).
 */
export async function* packEntries(
  s3: S3Client,
  loc: BackupLocation,
  pack: Pack,
  at: { hh: string; after?: string | undefined },
): AsyncGenerator<PackEntry> {
  const lastKeys = pack.manifest.prefixes[at.hh]?.lastKeys ?? [];
  const after = at.after;
  const wanted = lastKeys
    .map((last, n) => ({ last, n }))
    .filter(({ last }) => after === undefined || compareObjectKeys(last, after) > 0);
  const read = (n: number) => readChunk(s3, loc, pack, at.hh, n);
  let next = wanted[0] ? read(wanted[0].n) : undefined;
  next?.catch(() => {}); // awaited below; a failure surfaces there
  for (let i = 0; next; i++) {
    const entries = await next;
    const following = wanted[i + 1];
    next = following ? read(following.n) : undefined;
    next?.catch(() => {});
    for (const e of entries) if (after === undefined || compareObjectKeys(e.objectKey, after) > 0) yield e;
  }
}

/** One chunk's entries; throws when it is missing or damaged (gzip CRC, JSON). */
async function readChunk(s3: S3Client, loc: BackupLocation, pack: Pack, hh: string, n: number) {
  const bytes = await readObjectIfExists(s3, loc.bucket, chunkKey(loc, pack.id, hh, n));
  if (!bytes) throw new Error(`pack ${pack.id} lacks chunk ${n} of hash prefix ${hh}`);
  return decodeChunk(bytes);
}
