import { InputError } from '../../errors';
import {
  continueTask,
  type JobPlan,
  type JobRef,
  type JobTask,
  newJobId,
  type TaskOutcome,
  taskId,
} from '../../job-model';
import { assertCovered, byPartition } from '../../job-parts';
import { hashPrefixOf, type ItemKey, objectKeyFor } from '../../object-key';
import { type Partition, WHOLE } from '../../partition';
import { keyNames } from '../../table-manifest';
import { loadTransform } from '../../transform';
import { BackupReader } from '../backup-reader';
import { changedSince } from '../changes';
import { clearJob, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { splitForJob } from '../pack-reader';
import { addRequests } from '../request-tally';
import {
  checkRestore,
  emptySummary,
  type RestoreDeps,
  type RestoreRequest,
  type RestoreSummary,
  restore,
} from '../restore';
import type { JobContext, JobDefinition } from '../run-job';
import { runSpillTask, SpillView, spilledItems, spillSegmentsFor } from '../target-spill';
import { prepareTarget } from '../target-table';

/** A restore as a job: the restore request, split into `partitions` tasks. */
export interface RestoreJobRequest extends Omit<RestoreRequest, 'partition' | 'targetView' | 'targetEmpty'> {
  /** Ranges of hash prefixes run as separate tasks. @default 1 */
  partitions?: number;
  /** Parallel-scan segments of the target's one read. @default one per 250,000 items, at least 4 */
  spillSegments?: number;
}

/** What every task of the run reads from the run's plan.json (not copied into each task). */
interface RestoreParams {
  request: Omit<RestoreRequest, 'partition' | 'targetView' | 'keys'>;
  /** Target scan segments, 0 when the target is not read (created by the plan, or `--keys`). */
  spillSegments: number;
  keyNames: string[];
  startedMs: number;
  /** A roll forward's changed items, and how they were found. */
  rolledForward?: RolledForward;
}

/** What a roll forward (`sinceMs`) found to write, reported in the summary. */
export interface RolledForward {
  sinceMs: number;
  changedItems: number;
  /** The change index, or a listing of every version where the index does not cover (`note`). */
  changesFrom: 'index' | 'listing';
  note?: string;
}

/** The keys of the items changed in (sinceMs, atMs], from the change index where it covers. */
async function changedKeys(
  ctx: JobContext,
  req: RestoreJobRequest,
  names: readonly string[],
): Promise<{ keys: ItemKey[]; report: RolledForward }> {
  const sinceMs = req.sinceMs ?? 0;
  const reader = new BackupReader(ctx.s3, req.source);
  const { items, report: found } = await changedSince(ctx.s3, reader, { sinceMs, atMs: req.atMs }, names);
  const keys = items.map((i) => i.key);
  const report: RolledForward = {
    sinceMs,
    changedItems: keys.length,
    changesFrom: found.source,
    ...(found.note ? { note: found.note } : {}),
  };
  if (found.note)
    ctx.log.warn('roll forward: the change index does not cover the window; every version was listed', {
      note: found.note,
    });
  return { keys, report };
}

type RestoreTask =
  | { kind: 'spill'; segment: number }
  /** `rest`: a continuation's share, what the runs before it left (see ScanStats.remaining). */
  | { kind: 'restore'; partition: Partition; rest?: Partition[]; keys?: ItemKey[] };

export interface RestoreJobSummary extends RestoreSummary {
  jobId: string;
  partitions: number;
  /** Items the target's one scan read (all partitions together); 0 when it was not read. */
  targetItemsRead: number;
  rolledForward?: RolledForward;
}

export type RestoreJobContext = JobContext & Pick<RestoreDeps, 'onProgress'>;

async function plan(ctx: JobContext, req: RestoreJobRequest): Promise<JobPlan<RestoreParams, RestoreTask>> {
  const manifest = await checkRestore(ctx, req);
  // A transform that cannot load is refused before a target is created or anything is read.
  if (req.transform) await loadTransform(req.transform, keyNames(manifest));
  // The target is created, or its key schema checked, before anything is written.
  const created =
    req.createTable && req.dryRun
      ? false
      : await prepareTarget(ctx.dynamodb, manifest, req.targetTable, Boolean(req.createTable));
  const empty = created || Boolean(req.createTable && req.dryRun);
  const rolled = req.sinceMs !== undefined ? await changedKeys(ctx, req, keyNames(manifest)) : undefined;
  // The tasks restore the keys found here: `sinceMs` has done its work.
  const { partitions: count = 1, spillSegments: askedSegments, keys: asked, sinceMs: _since, ...given } = req;
  const keys = rolled?.keys ?? asked;
  // Rolled forward, an item absent at T is deleted from the copy, whatever the mode.
  const rest = rolled ? { ...given, mode: 'rewind' as const } : given;
  const spillSegments =
    empty || keys ? 0 : (askedSegments ?? (await spillSegmentsFor(ctx.dynamodb, req.targetTable, 4)));
  const ref: JobRef = {
    job: 'restore',
    jobId: newJobId('restore', ctx.now?.() ?? Date.now()),
    ...refOf(req),
  };
  const params: RestoreParams = {
    request: { ...rest, createTable: false, ...(empty ? { targetEmpty: true } : {}) },
    spillSegments,
    keyNames: keyNames(manifest),
    startedMs: Date.now(),
    ...(rolled ? { rolledForward: rolled.report } : {}),
  };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  const task = (step: JobTask['step'], id: string, p: RestoreTask): JobTask<RestoreTask> => ({
    ...ref,
    step,
    id,
    part: 0,
    params: p,
  });
  const units = keys
    ? keyUnits(req, Math.min(count, 256), keys)
    : (await splitForJob(ctx.s3, req.source, { atMs: req.atMs, range: WHOLE, count })).map((partition) => ({
        partition,
      }));
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: Array.from({ length: spillSegments }, (_, segment) =>
      task('prepare', taskId('s', segment), { kind: 'spill', segment }),
    ),
    partitions: units.map((u, i) => task('partition', taskId('p', i), { kind: 'restore', ...u })),
  };
}

const refOf = (req: RestoreJobRequest) => ({
  table: req.source.table,
  bucket: req.source.bucket,
  prefix: req.source.prefix,
});

/** `--keys`: each key goes to the one partition holding its hash prefix. */
const keyUnits = (req: RestoreJobRequest, count: number, keys: ItemKey[]) =>
  byPartition(count, keys, (key) => hashPrefixOf(req.source, objectKeyFor(req.source, key))).map(
    ({ partition, items }) => ({ partition, keys: items }),
  );

const paramsOf = (ctx: JobContext, ref: JobRef) => readPlanParams<RestoreParams>(ctx.s3, ref);

async function prepare(ctx: JobContext, task: JobTask<RestoreTask>): Promise<TaskOutcome<RestoreTask>> {
  const unit = task.params;
  if (unit.kind !== 'spill')
    throw new InputError(`Expected a spill task in the prepare step, got ${unit.kind}`);
  const params = await paramsOf(ctx, task);
  return runSpillTask(
    ctx,
    { ...task, params: unit },
    {
      table: params.request.targetTable,
      keyNames: params.keyNames,
      source: params.request.source,
      totalSegments: params.spillSegments,
    },
  );
}

async function partition(
  ctx: RestoreJobContext,
  task: JobTask<RestoreTask>,
): Promise<TaskOutcome<RestoreTask>> {
  const unit = task.params;
  if (unit.kind !== 'restore')
    throw new InputError(`Expected a restore task in the partition step, got ${unit.kind}`);
  const params = await paramsOf(ctx, task);
  const targetView = params.spillSegments
    ? await SpillView.open(ctx.s3, task, params.spillSegments, unit.partition)
    : undefined;
  const summary = await restore(ctx, {
    ...params.request,
    partition: unit.partition,
    ...(unit.rest ? { ranges: unit.rest } : {}),
    ...(unit.keys ? { keys: unit.keys } : {}),
    ...(targetView ? { targetView } : {}),
  });
  // What this run finished: a finish with a hole in it must refuse, not report success.
  const { remaining, covered, ...rest } = summary;
  await saveTaskResult(ctx.s3, task, { ...rest, covered: unit.keys ? [unit.partition] : (covered ?? []) });
  return remaining ? continueTask(task, { ...unit, rest: remaining }) : { done: true, id: task.id };
}

async function finish(ctx: JobContext, p: JobPlan<RestoreParams, RestoreTask>): Promise<RestoreJobSummary> {
  const params = await paramsOf(ctx, p);
  const results = await readTaskResults<RestoreSummary & { covered: Partition[] }>(ctx.s3, p, 'partition');
  const planned = p.partitions.flatMap((t) => (t.params.kind === 'restore' ? [t.params.partition] : []));
  assertCovered(
    p,
    planned,
    results.map((r) => r.covered),
  );
  const prepared = await readTaskResults<RestoreSummary>(ctx.s3, p, 'prepare');
  const total = mergeSummaries(params, results);
  for (const r of prepared) addRequests(total, r);
  const targetItemsRead = params.spillSegments ? await spilledItems(ctx.s3, p, params.spillSegments) : 0;
  await clearJob(ctx.s3, p);
  const summary = {
    ...total,
    jobId: p.jobId,
    partitions: p.partitions.length,
    targetItemsRead,
    ...(params.rolledForward ? { rolledForward: params.rolledForward } : {}),
  };
  ctx.log.info('restore job finished', { ...summary, samples: undefined });
  return summary;
}

/** The partitions' summaries as one: counts and requests added, warnings once each. */
function mergeSummaries(params: RestoreParams, results: RestoreSummary[]): RestoreSummary {
  const req = params.request;
  const total: RestoreSummary = {
    ...emptySummary(req),
    durationMs: Date.now() - params.startedMs,
    warnings: [...new Set(results.flatMap((r) => r.warnings))],
  };
  for (const r of results) {
    total.itemsPut += r.itemsPut;
    total.itemsDeleted += r.itemsDeleted;
    total.itemsUnchanged += r.itemsUnchanged;
    total.versionsScanned += r.versionsScanned;
    total.itemsFromPack += r.itemsFromPack;
    if (r.pack) total.pack = r.pack;
    if (r.packIndex) total.packIndex = r.packIndex;
    addRequests(total, r);
    total.samples?.put.push(...(r.samples?.put ?? []).slice(0, 10 - total.samples.put.length));
    total.samples?.delete.push(...(r.samples?.delete ?? []).slice(0, 10 - total.samples.delete.length));
    const shown = total.samples?.transformed;
    if (shown) shown.push(...(r.samples?.transformed ?? []).slice(0, 3 - shown.length));
  }
  return total;
}

/** The restore job. Its tasks' requests are merged into the summary by `finish`. */
export const restoreJob: JobDefinition<RestoreJobRequest, RestoreParams, RestoreTask, RestoreJobSummary> = {
  plan,
  prepare,
  partition,
  finish,
};
