import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Log } from '../log';
import { type BackupLocation, HASH_PREFIXES, itemsRoot } from '../object-key';
import {
  Chunker,
  chunkKey,
  encodeChunk,
  PACK_FORMAT,
  type PackEntry,
  type PackManifest,
  packIdOf,
  packManifestKey,
} from '../pack-format';
import { DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { TaskPool } from '../task-pool';
import { assertAnswerable } from './backup-check';
import { versionAsOf } from './items-as-of';
import { requireManifest } from './manifest-store';
import { openPack, PackCursor } from './pack-reader';
import { listKeyVersions, readVersionRaw } from './version-store';

export interface PackSummary {
  packId: string;
  items: number;
  /** Entries taken from the previous pack (unchanged items): no GET. */
  reused: number;
  /** The previous pack, if one was used. */
  previous?: string;
  s3Requests: number;
  durationMs: number;
}

/**
 * Writes a pack of the table's backup: for every item the version holding it as of now (for a
 * deleted item, its tombstone) with body and metadata. Items whose version is in the previous
 * pack are copied from it, so a pack made daily reads only what changed since the last one.
 * pack.json goes last: until it exists, readers ignore the pack; a killed run leaves an
 * unfinished pack that is never used.
 */
export async function writePack(
  deps: { s3: S3Client; log: Log; now?: () => number },
  loc: BackupLocation,
  options: { concurrency?: number } = {},
): Promise<PackSummary> {
  const started = Date.now();
  const described = await requireManifest(deps.s3, loc);
  const createdMs = deps.now?.() ?? Date.now();
  await assertAnswerable(deps.s3, loc, described, [{ flag: 'now', atMs: createdMs }], createdMs);
  const counter = { s3: 1, versions: 0 };
  const previous = await openPack(deps.s3, loc, createdMs, counter);
  const id = packIdOf(createdMs);
  const concurrency = options.concurrency ?? 32;
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    table: loc.table,
    createdMs,
    prefixes: {},
    items: 0,
    reused: 0,
  };
  const asOf = { atMs: createdMs, clockSkewMs: DEFAULT_CLOCK_SKEW_MS, counter };
  const prefixPool = new TaskPool(Math.min(16, concurrency));
  for (const hh of HASH_PREFIXES) {
    await prefixPool.submit(async () => {
      const cursor = previous && new PackCursor(deps.s3, loc, previous, hh, deps.log, counter);
      const chunker = new Chunker();
      const lastKeys: string[] = [];
      const put = async (entries: PackEntry[]) => {
        const n = lastKeys.length;
        lastKeys.push((entries.at(-1) as PackEntry).objectKey);
        counter.s3++;
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: loc.bucket,
            Key: chunkKey(loc, id, hh, n),
            Body: encodeChunk(entries),
            // Not Content-Encoding gzip: a client or proxy could then inflate it on the way.
            ContentType: 'application/gzip',
          }),
        );
      };
      // Reads run ahead in parallel; entries are taken in listing order, which chunks must keep.
      const window: Array<Promise<PackEntry | undefined>> = [];
      const settle = async () => {
        const entry = await (window.shift() as Promise<PackEntry | undefined>);
        if (!entry) return;
        manifest.items++;
        const full = chunker.add(entry);
        if (full) await put(full);
      };
      const perPrefix = Math.max(2, Math.ceil(concurrency / 4));
      for await (const group of listKeyVersions(deps.s3, loc.bucket, `${itemsRoot(loc)}${hh}/`, counter)) {
        // The version a read as of the pack's time chooses: the item's latest change (not a
        // redelivered copy that happens to be newest in S3), or its tombstone.
        const old = await cursor?.find(group.objectKey);
        const entry = versionAsOf(deps.s3, loc.bucket, group.objectKey, group.versions, asOf, old).then(
          async (chosen): Promise<PackEntry | undefined> => {
            if (!chosen) return undefined;
            if (old && chosen.version.versionId === old.versionId) {
              manifest.reused++;
              return old;
            }
            const { body, metadata } =
              chosen.body !== undefined && chosen.metadata
                ? { body: chosen.body, metadata: chosen.metadata }
                : await readVersionRaw(
                    deps.s3,
                    loc.bucket,
                    group.objectKey,
                    chosen.version.versionId,
                    counter,
                  );
            return { objectKey: group.objectKey, versionId: chosen.version.versionId, metadata, body };
          },
        );
        // Awaited in order by settle; this only keeps an early failure from counting as unhandled.
        entry.catch(() => {});
        window.push(entry);
        if (window.length >= perPrefix) await settle();
      }
      while (window.length) await settle();
      const last = chunker.take();
      if (last) await put(last);
      if (lastKeys.length) manifest.prefixes[hh] = { lastKeys };
    });
  }
  await prefixPool.drain();
  counter.s3++;
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: packManifestKey(loc, id),
      Body: JSON.stringify(manifest),
      ContentType: 'application/json',
    }),
  );
  const summary: PackSummary = {
    packId: id,
    items: manifest.items,
    reused: manifest.reused,
    ...(previous ? { previous: previous.id } : {}),
    s3Requests: counter.s3,
    durationMs: Date.now() - started,
  };
  deps.log.info('pack written', { ...summary });
  return summary;
}
