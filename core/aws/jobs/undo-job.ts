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
import { byPartition } from '../../job-parts';
import { hashPrefixOf, type ItemKey, objectKeyFor } from '../../object-key';
import type { Partition } from '../../partition';
import { keyNames } from '../../table-manifest';
import { BackupReader } from '../backup-reader';
import { changedSince } from '../changes';
import { clearJob, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { addRequests, noRequests, type RequestSummary } from '../request-tally';
import type { JobContext, JobDefinition } from '../run-job';
import { prepareTarget } from '../target-table';
import {
  checkUndo,
  type UndoConflict,
  type UndoCounts,
  type UndoDeps,
  type UndoItem,
  type UndoRequest,
  undoItems,
} from '../undo';

/** An undo as a job: the items changed in the window, shared among `partitions` tasks by hash prefix. */
export interface UndoJobRequest extends UndoRequest {
  /** Only these items (those of them changed in the window). */
  keys?: ItemKey[];
  /** Tasks the items are shared among (up to 256). @default 1 */
  partitions?: number;
}

/** How the plan found the items to undo. */
export interface UndoFound {
  /** Items with a change in [since, until] (all of them, before `keys` chose among them). */
  changedItems: number;
  /** The change index, or a listing of every version where the index does not cover (`note`). */
  changesFrom: 'index' | 'listing';
  note?: string;
  /** `keys` given that did not change in the window: nothing to undo. */
  keysNotChanged?: number;
}

interface UndoParams {
  request: UndoRequest;
  found: UndoFound;
  startedMs: number;
}

type UndoTask = { partition: Partition; items: UndoItem[] };

/** Conflicts a summary lists with their states (all are counted; the CLI prints every one). */
export const LISTED_CONFLICTS = 100;

export interface UndoJobSummary extends UndoCounts, UndoFound {
  jobId: string;
  sinceMs: number;
  untilMs: number;
  targetTable: string;
  dryRun: boolean;
  partitions: number;
  /** The first LISTED_CONFLICTS conflicts, with both states. */
  conflictItems: UndoConflict[];
  durationMs: number;
}

export type UndoJobContext = JobContext & Pick<UndoDeps, 'onDecided' | 'onOutcome'>;

/** The items changed in [since, until], by the change index where it covers, chosen by `keys`. */
async function findItems(ctx: JobContext, req: UndoJobRequest, names: readonly string[]) {
  const reader = new BackupReader(ctx.s3, req.source);
  const window = { sinceMs: req.sinceMs - 1, atMs: req.untilMs };
  const { items, report } = await changedSince(ctx.s3, reader, window, names);
  if (report.note)
    ctx.log.warn('undo: the change index does not cover the window; every version was listed', {
      note: report.note,
    });
  const wanted = req.keys ? new Set(req.keys.map((k) => objectKeyFor(req.source, k))) : undefined;
  const chosen = items.filter((i) => !wanted || wanted.has(i.objectKey));
  const found: UndoFound = {
    changedItems: items.length,
    changesFrom: report.source,
    ...(report.note ? { note: report.note } : {}),
    ...(wanted ? { keysNotChanged: wanted.size - chosen.length } : {}),
  };
  return { items: chosen.map((i): UndoItem => ({ key: i.key, objectKey: i.objectKey })), found };
}

async function plan(ctx: JobContext, req: UndoJobRequest): Promise<JobPlan<UndoParams, UndoTask>> {
  const manifest = await checkUndo(ctx, req);
  // Another target must have the source's key schema; it is never created by an undo.
  if (req.targetTable !== req.source.table)
    await prepareTarget(
      ctx.dynamodb,
      manifest,
      req.targetTable,
      false,
      'an undo writes into an existing table: make a copy first (restore --create-table), or pick another --target-table',
    );
  const { items, found } = await findItems(ctx, req, keyNames(manifest));
  const { keys: _keys, partitions = 1, ...request } = req;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 256)
    throw new InputError(
      `Expected \`--partitions\` for an undo to be a whole number from 1 to 256, got ${partitions}`,
    );
  const ref: JobRef = {
    job: 'undo',
    jobId: newJobId('undo', ctx.now?.() ?? Date.now()),
    table: req.source.table,
    bucket: req.source.bucket,
    prefix: req.source.prefix,
  };
  const params: UndoParams = { request, found, startedMs: Date.now() };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  const units = byPartition(partitions, items, (i) =>
    hashPrefixOf(req.source, i.objectKey ?? objectKeyFor(req.source, i.key)),
  );
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: [],
    partitions: units.map((u, i) => ({ ...ref, step: 'partition', id: taskId('p', i), part: 0, params: u })),
  };
}

type TaskResult = UndoCounts & { conflictItems: UndoConflict[] };

async function partition(ctx: UndoJobContext, task: JobTask<UndoTask>): Promise<TaskOutcome<UndoTask>> {
  const params = await readPlanParams<UndoParams>(ctx.s3, task);
  const done = await undoItems(ctx, params.request, task.params.items);
  const result: TaskResult = { ...done.counts, conflictItems: done.conflicts.slice(0, LISTED_CONFLICTS) };
  await saveTaskResult(ctx.s3, task, result);
  return done.remaining.length
    ? continueTask(task, { ...task.params, items: done.remaining })
    : { done: true, id: task.id };
}

async function finish(ctx: JobContext, p: JobPlan<UndoParams, UndoTask>): Promise<UndoJobSummary> {
  const params = await readPlanParams<UndoParams>(ctx.s3, p);
  const results = await readTaskResults<TaskResult>(ctx.s3, p, 'partition');
  const total: UndoCounts & RequestSummary = {
    restored: 0,
    deleted: 0,
    unchanged: 0,
    conflicts: 0,
    ...noRequests(),
  };
  const conflictItems: UndoConflict[] = [];
  for (const r of results) {
    total.restored += r.restored;
    total.deleted += r.deleted;
    total.unchanged += r.unchanged;
    total.conflicts += r.conflicts;
    addRequests(total, r);
    conflictItems.push(...r.conflictItems.slice(0, LISTED_CONFLICTS - conflictItems.length));
  }
  await clearJob(ctx.s3, p);
  const req = params.request;
  const summary: UndoJobSummary = {
    jobId: p.jobId,
    sinceMs: req.sinceMs,
    untilMs: req.untilMs,
    targetTable: req.targetTable,
    dryRun: Boolean(req.dryRun),
    partitions: p.partitions.length,
    ...params.found,
    ...total,
    conflictItems,
    durationMs: Date.now() - params.startedMs,
  };
  // Conflicts hold item values: never in the logs.
  ctx.log.info('undo job finished', { ...summary, conflictItems: undefined });
  return summary;
}

/** The undo job: `plan` finds the items, each partition task undoes its share, `finish` adds up. */
export const undoJob: JobDefinition<UndoJobRequest, UndoParams, UndoTask, UndoJobSummary> = {
  plan,
  partition,
  finish,
};
