import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { eventFields, eventLocation, eventWhole } from '../../event-fields';
import {
  continueTask,
  type JobPlan,
  type JobRef,
  type JobTask,
  newJobId,
  type TaskOutcome,
  taskId,
} from '../../job-model';
import { assertCovered } from '../../job-parts';
import type { BackupLocation } from '../../object-key';
import {
  Chunker,
  chunkKey,
  encodeChunk,
  mergePackParts,
  type PackEntry,
  type PackPart,
  packIdOf,
  packManifestKey,
  packsRoot,
} from '../../pack-format';
import { type Partition, splitPartitions } from '../../partition';
import { assertAnswerable } from '../backup-check';
import { BackupReader, type PrefixVisit, type ScannedItem } from '../backup-reader';
import { clearJob, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { requireManifest } from '../manifest-store';
import { openPack } from '../pack-reader';
import { addRequests, counted, type RequestSummary, RequestTally, requestSummary } from '../request-tally';
import type { JobContext, JobDefinition } from '../run-job';

/** A pack as a job: the backup's items as of the plan's time, split into `partitions` tasks. */
export interface PackJobRequest {
  source: BackupLocation;
  /** Ranges of hash prefixes run as separate tasks. @default 1 */
  partitions?: number;
  /** Most S3 requests in flight in one task. @default 32 */
  concurrency?: number;
  /** Uncompressed bytes per chunk (tests make many small chunks). @default CHUNK_BYTES (256 KiB) */
  chunkBytes?: number;
}

export interface PackSummary extends RequestSummary {
  packId: string;
  items: number;
  /** Entries taken from the previous pack (unchanged items): no GET. */
  reused: number;
  /** The previous pack, if one was used. */
  previous?: string;
  durationMs: number;
  jobId: string;
  partitions: number;
}

/** The run's plan.json: what every task needs besides its range. */
interface PackParams {
  packId: string;
  /** The pack's time: items as of then; versions written later are not in it. */
  createdMs: number;
  /** S3's clock before any task listed (see PackManifest.listedFromMs). */
  listedFromMs?: number;
  previous?: string;
  concurrency?: number;
  chunkBytes?: number;
  startedMs: number;
}

interface PackTask {
  partition: Partition;
  /** A continuation's share: what the runs before it left (see ScanStats.remaining). */
  rest?: Partition[];
  /** Per prefix a run before stopped inside: the number its next chunk takes. */
  nextChunk?: Record<string, number>;
}

/** A task run's stored result: its share of pack.json, what it covered, its requests. */
interface PackTaskResult extends PackPart, RequestSummary {
  covered: Partition[];
}

const locOf = (ref: JobRef): BackupLocation => ({ bucket: ref.bucket, prefix: ref.prefix, table: ref.table });

/** The checks writePack always made, the pack's id and time, and the previous pack. */
async function plan(ctx: JobContext, req: PackJobRequest): Promise<JobPlan<PackParams, PackTask>> {
  const startedMs = Date.now();
  const loc = req.source;
  const described = await requireManifest(ctx.s3, loc);
  const createdMs = ctx.now?.() ?? Date.now();
  await assertAnswerable(ctx.s3, loc, described, [{ flag: 'now', atMs: createdMs }], createdMs);
  const previous = await openPack(ctx.s3, loc, createdMs);
  const ref: JobRef = { job: 'pack', jobId: newJobId('pack', createdMs), ...loc };
  const packId = packIdOf(createdMs);
  const params: PackParams = {
    packId,
    createdMs,
    listedFromMs: await s3Now(ctx.s3, loc, packId),
    ...(previous ? { previous: previous.id } : {}),
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    ...(req.chunkBytes ? { chunkBytes: req.chunkBytes } : {}),
    startedMs,
  };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: [],
    partitions: splitPartitions(req.partitions ?? 1).map((partition, i) => ({
      ...ref,
      step: 'partition',
      id: taskId('p', i),
      part: 0,
      params: { partition },
    })),
  };
}

/**
 * S3's own clock now, as a lower bound: the LastModified of a marker written into the pack's
 * folder (readers compare it with other LastModified values, never with this host's clock).
 */
async function s3Now(s3: S3Client, loc: BackupLocation, packId: string): Promise<number> {
  const Key = `${packsRoot(loc)}${packId}/begun.json`;
  await s3.send(
    new PutObjectCommand({ Bucket: loc.bucket, Key, Body: '{}', ContentType: 'application/json' }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key }));
  if (!head.LastModified) throw new Error(`S3 returned no LastModified for ${Key}`);
  return head.LastModified.getTime();
}

const paramsOf = (ctx: JobContext, ref: JobRef) => readPlanParams<PackParams>(ctx.s3, ref);

/**
 * Writes the chunks of the task's prefixes (items in listing order) and stores its share of
 * pack.json. Run again, it writes the same chunk keys and result; stopped by the deadline, it
 * hands on the rest of its range.
 */
async function partition(ctx: JobContext, task: JobTask<PackTask>): Promise<TaskOutcome<PackTask>> {
  const params = await paramsOf(ctx, task);
  const { partition: range, rest, nextChunk = {} } = task.params;
  const reader = new BackupReader(ctx.s3, locOf(task), {
    ...(params.concurrency ? { concurrency: params.concurrency } : {}),
    log: ctx.log,
  });
  const share: PackPart = { prefixes: {}, items: 0, reused: 0 };
  const s3 = counted(ctx.s3, reader.tally);
  const previous = await reader.openPack(params.createdMs);
  const stats = await reader.scan(
    {
      atMs: params.createdMs,
      ranges: rest ?? [range],
      // Items in listing order: a chunk holds a run of object keys, and readers walk them in order.
      ordered: true,
      ...(previous ? { pack: previous } : {}),
      ...(ctx.deadline ? { deadline: ctx.deadline } : {}),
    },
    (hh) =>
      prefixWriter(s3, reader, {
        id: params.packId,
        hh,
        share,
        firstChunk: nextChunk[hh] ?? 0,
        chunkBytes: params.chunkBytes,
      }),
  );
  const result: PackTaskResult = { ...share, ...requestSummary(reader.tally), covered: stats.covered };
  await saveTaskResult(ctx.s3, task, result);
  if (!stats.remaining.length) return { done: true, id: task.id };
  // A prefix cut by the deadline goes on with the chunk after this run's last.
  const next: Record<string, number> = {};
  for (const r of stats.remaining) {
    const piece = share.prefixes[r.from];
    if (r.after !== undefined)
      next[r.from] = piece ? (piece.firstChunk ?? 0) + piece.lastKeys.length : (nextChunk[r.from] ?? 0);
  }
  return continueTask(task, { partition: range, rest: stats.remaining, nextChunk: next });
}

/** One prefix of a pack: its items' entries, in listing order, cut into chunks. */
function prefixWriter(
  s3: S3Client,
  reader: BackupReader,
  at: { id: string; hh: string; share: PackPart; firstChunk: number; chunkBytes?: number | undefined },
): PrefixVisit<ScannedItem> {
  const loc = reader.loc;
  const chunker = new Chunker(at.chunkBytes);
  const lastKeys: string[] = [];
  const put = async (entries: PackEntry[]) => {
    const n = at.firstChunk + lastKeys.length;
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
      const entry = await entryOf(reader, item, at.share);
      if (!entry) return;
      at.share.items++;
      const full = chunker.add(entry);
      if (full) await put(full);
    },
    end: async () => {
      const last = chunker.take();
      if (last) await put(last);
      if (lastKeys.length)
        at.share.prefixes[at.hh] = { lastKeys, ...(at.firstChunk ? { firstChunk: at.firstChunk } : {}) };
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
  share: PackPart,
): Promise<PackEntry | undefined> {
  const chosen = item.chosen;
  if (!chosen) return undefined;
  if (item.packed && chosen.version.versionId === item.packed.versionId) {
    share.reused++;
    return item.packed;
  }
  const { body, metadata } =
    chosen.body !== undefined && chosen.metadata
      ? { body: chosen.body, metadata: chosen.metadata }
      : await reader.readRaw(item.objectKey, chosen.version.versionId);
  return { objectKey: item.objectKey, versionId: chosen.version.versionId, metadata, body };
}

/** Merges the shares and writes pack.json, last: until it exists, readers ignore the pack. */
async function finish(ctx: JobContext, p: JobPlan<PackParams, PackTask>): Promise<PackSummary> {
  const params = await paramsOf(ctx, p);
  const results = await readTaskResults<PackTaskResult>(ctx.s3, p, 'partition');
  assertCovered(
    p,
    p.partitions.map((t) => t.params.partition),
    results.map((r) => r.covered),
  );
  const loc = locOf(p);
  const manifest = mergePackParts(loc.table, params.createdMs, results, params.listedFromMs);
  const tally = new RequestTally();
  await counted(ctx.s3, tally).send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: packManifestKey(loc, params.packId),
      Body: JSON.stringify(manifest),
      ContentType: 'application/json',
    }),
  );
  await clearJob(ctx.s3, p);
  const requests = requestSummary(tally);
  for (const r of results) addRequests(requests, r);
  const summary: PackSummary = {
    packId: params.packId,
    items: manifest.items,
    reused: manifest.reused,
    ...(params.previous ? { previous: params.previous } : {}),
    ...requests,
    durationMs: Date.now() - params.startedMs,
    jobId: p.jobId,
    partitions: p.partitions.length,
  };
  ctx.log.info('pack written', { ...summary });
  return summary;
}

/**
 * The pack job. Chunks go first, pack.json last (finish): a run killed before its finish leaves
 * an unfinished pack no reader uses.
 */
export const packJob: JobDefinition<PackJobRequest, PackParams, PackTask, PackSummary> = {
  plan,
  partition,
  finish,
};

/** The pack workflow's plan event: `table`, `bucket`, `prefix`?, `partitions`?, `concurrency`?. */
export function parsePackEvent(event: unknown): PackJobRequest {
  const e = eventFields(event, 'pack');
  const partitions = eventWhole(e, 'partitions', 'pack', { min: 1, max: 256 });
  const concurrency = eventWhole(e, 'concurrency', 'pack', { min: 1, max: 1024 });
  return {
    source: eventLocation(e, 'pack'),
    ...(partitions ? { partitions } : {}),
    ...(concurrency ? { concurrency } : {}),
  };
}
