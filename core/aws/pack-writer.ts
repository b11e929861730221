import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Log } from '../log';
import type { BackupLocation } from '../object-key';
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
import { assertAnswerable } from './backup-check';
import { BackupReader, type PrefixVisit, type ScannedItem } from './backup-reader';
import { requireManifest } from './manifest-store';
import { counted, type RequestSummary, requestSummary } from './request-tally';

export interface PackSummary extends RequestSummary {
  packId: string;
  items: number;
  /** Entries taken from the previous pack (unchanged items): no GET. */
  reused: number;
  /** The previous pack, if one was used. */
  previous?: string;
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
  const reader = new BackupReader(deps.s3, loc, {
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    log: deps.log,
  });
  const id = packIdOf(createdMs);
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    table: loc.table,
    createdMs,
    prefixes: {},
    items: 0,
    reused: 0,
  };
  const s3 = counted(deps.s3, reader.tally);
  const previous = await reader.openPack(createdMs);
  // Items in listing order: a chunk holds a run of object keys, and readers walk them in order.
  await reader.scan({ atMs: createdMs, ordered: true, ...(previous ? { pack: previous } : {}) }, (hh) =>
    prefixWriter(s3, reader, { id, hh, manifest }),
  );
  // Last: until pack.json exists, readers ignore the pack.
  await s3.send(
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
    ...requestSummary(reader.tally),
    durationMs: Date.now() - started,
  };
  deps.log.info('pack written', { ...summary });
  return summary;
}

/** One prefix of a pack: its items' entries, in listing order, cut into chunks. */
function prefixWriter(
  s3: S3Client,
  reader: BackupReader,
  at: { id: string; hh: string; manifest: PackManifest },
): PrefixVisit<ScannedItem> {
  const loc = reader.loc;
  const chunker = new Chunker();
  const lastKeys: string[] = [];
  const put = async (entries: PackEntry[]) => {
    const n = lastKeys.length;
    lastKeys.push((entries.at(-1) as PackEntry).objectKey);
    await s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: chunkKey(loc, at.id, at.hh, n),
        Body: encodeChunk(entries),
        // Not Content-Encoding gzip: a client or proxy could then inflate it on the way.
        ContentType: 'application/gzip',
      }),
    );
  };
  return {
    item: async (item) => {
      const entry = await entryOf(reader, item, at.manifest);
      if (!entry) return;
      at.manifest.items++;
      const full = chunker.add(entry);
      if (full) await put(full);
    },
    end: async () => {
      const last = chunker.take();
      if (last) await put(last);
      if (lastKeys.length) at.manifest.prefixes[at.hh] = { lastKeys };
    },
  };
}

/**
 * The entry of an item: the version a read as of the pack's time chooses (the item's latest
 * change, not a redelivered copy that happens to be newest in S3, or its tombstone), copied from
 * the previous pack when it holds that version.
 */
async function entryOf(
  reader: BackupReader,
  item: ScannedItem,
  manifest: PackManifest,
): Promise<PackEntry | undefined> {
  const chosen = item.chosen;
  if (!chosen) return undefined;
  if (item.packed && chosen.version.versionId === item.packed.versionId) {
    manifest.reused++;
    return item.packed;
  }
  const { body, metadata } =
    chosen.body !== undefined && chosen.metadata
      ? { body: chosen.body, metadata: chosen.metadata }
      : await reader.readRaw(item.objectKey, chosen.version.versionId);
  return { objectKey: item.objectKey, versionId: chosen.version.versionId, metadata, body };
}
