import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InputError, RewindError } from '../../errors';
import {
  checkJobId,
  continueTask,
  type JobPlan,
  type JobRef,
  type JobTask,
  NO_DEADLINE,
  newJobId,
  type TaskOutcome,
  taskId,
} from '../../job-model';
import { wholeNumber } from '../../number-arg';
import { type BackupLocation, backupLocation } from '../../object-key';
import { keyNames } from '../../table-manifest';
import { TaskPool } from '../../task-pool';
import { backfillPage, type SegmentCheckpoint, type SegmentScan, waitTurn } from '../backfill';
import { recordBackfillCompleted, recordBackfillStarted } from '../gap-store';
import { getJobJson, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { recordManifest } from '../manifest-store';
import type { JobContext, JobDefinition } from '../run-job';
import { assertVersionedBucket } from '../version-store';

/**
 * A backfill as a job: one partition task per DynamoDB parallel-scan segment, each keeping its
 * checkpoint in the run's folder (`_jobs/<jobId>/checkpoints/<task id>.json`) after every page,
 * so a task stopped by its deadline, killed, or retried carries on from the last written page.
 */
export interface BackfillJobRequest {
  source: BackupLocation;
  /** Parallel scan segments, one task each. @default 4 */
  segments?: number;
  /** Read capacity units per second at most, for all segments together. */
  maxRcu?: number;
  /** Share of a provisioned table's read capacity to use, 1-100 (all segments together). */
  readPercent?: number;
  /**
   * The stream's change-time precision: 1000 on AWS, 60000 on DynamoDB Local. A scanned image is
   * stamped with its scan time rounded down to it, so it ranks before any streamed change of the
   * same instant (which the scan may not have seen). @default 1000
   */
  timePrecisionMs?: number;
  /** Continue this run: its id, start time and stored segment checkpoints. */
  resumeJobId?: string;
}

/** The run's parameters, stored as plan.json: every task reads them (not copied into each). */
export interface BackfillParams {
  segments: number;
  keyNames: string[];
  timePrecisionMs: number;
  /** Each segment's read units per second (see segmentRcu); absent when unlimited. */
  segmentRcu?: number;
  /** When the run first started: the coverage recorded, and the start in `_meta/backfill.json`. */
  startedAtMs: number;
  /** When this plan ran: a segment finished before it was resumed; the duration counts from it. */
  plannedAtMs: number;
}

/** A task's own params: which segment. The cursor is in the segment's stored checkpoint. */
export interface BackfillTask {
  segment: number;
}

/** What a finished segment stores; every run of the segment's task stores the same. */
interface SegmentResult {
  id: string;
  items: number;
  repaired: number;
  finishedAtMs: number;
}

export interface BackfillSummary {
  jobId: string;
  items: number;
  segments: number;
  /** Items whose backfill version had landed above a newer streamed change, and were put right. */
  repaired: number;
  /** Segments an earlier run of the job had already finished. */
  resumedSegments: number;
  durationMs: number;
}

/** The CLI's progress bar: called after each page with the number of items it wrote. */
export type BackfillJobContext = JobContext & Pick<SegmentScan, 'onItemsWritten'>;

/** S3 writes in flight per segment task (each item is a PUT, a listing and sometimes copies). */
const WRITES_IN_FLIGHT = 16;
const MAX_SEGMENTS = 1_000_000;

/**
 * `--max-rcu` is the total: each segment gets an equal share, not rounded (the token bucket takes
 * fractions; rounding down could reach 0 and rounding up would exceed the total), so the
 * segments together never read faster than the total, however many run at once. A segment that
 * finishes early does not pass its share on: the rate can only fall below the total.
 */
export const segmentRcu = (totalRcu: number, segments: number): number => totalRcu / segments;

/** `--read-percent` of a provisioned table's read capacity, as a total RCU (not rounded). */
export const rcuFromPercent = (provisionedRcu: number, percent: number): number =>
  (provisionedRcu * percent) / 100;

async function plan(
  ctx: JobContext,
  req: BackfillJobRequest,
): Promise<JobPlan<BackfillParams, BackfillTask>> {
  // The wall clock, not ctx.now: segments compare their finishing time with it.
  const now = Date.now();
  const { source } = req;
  await assertVersionedBucket(ctx.s3, source.bucket);
  const segments = req.segments ?? 4;
  if (!Number.isInteger(segments) || segments < 1 || segments > MAX_SEGMENTS) {
    throw new InputError(
      `Expected \`--segments\` to be a whole number from 1 to ${MAX_SEGMENTS}, got ${segments}`,
    );
  }
  const totalRcu = await readRate(ctx.dynamodb, source.table, req);
  const jobId =
    req.resumeJobId === undefined
      ? newJobId('backfill', ctx.now?.() ?? now)
      : checkBackfillId(req.resumeJobId);
  const ref: JobRef = {
    job: 'backfill',
    jobId,
    table: source.table,
    bucket: source.bucket,
    prefix: source.prefix,
  };
  const resumed = req.resumeJobId === undefined ? undefined : await storedRun(ctx, ref, segments);
  const startedAtMs = resumed?.startedAtMs ?? now;
  const manifest = await recordManifest(ctx.s3, ctx.dynamodb, source, startedAtMs);
  await recordBackfillStarted(ctx.s3, source, startedAtMs);
  const params: BackfillParams = {
    segments,
    keyNames: keyNames(manifest),
    timePrecisionMs: req.timePrecisionMs ?? 1000,
    ...(totalRcu === undefined ? {} : { segmentRcu: segmentRcu(totalRcu, segments) }),
    startedAtMs,
    plannedAtMs: now,
  };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: [],
    partitions: Array.from({ length: segments }, (_, segment) => ({
      ...ref,
      step: 'partition' as const,
      id: taskId('s', segment),
      part: 0,
      params: { segment },
    })),
  };
}

/** A run id to resume: one a backfill plan made (it becomes part of S3 keys). */
function checkBackfillId(jobId: string): string {
  let valid = jobId.startsWith('backfill-');
  try {
    checkJobId(jobId);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new InputError(
      `Expected "resumeJobId" to be the id of a backfill run (like backfill-20261202T101500Z-0a1b2c3d), got ${JSON.stringify(jobId)}`,
    );
  }
  return jobId;
}

/** The run to resume, which must exist and have scanned with the same segments. */
async function storedRun(ctx: JobContext, ref: JobRef, segments: number): Promise<BackfillParams> {
  const stored = await getJobJson<BackfillParams>(ctx.s3, ref, 'plan.json');
  if (!stored) {
    throw new InputError(
      `No backfill run ${ref.jobId} of table ${ref.table} in s3://${ref.bucket}/${ref.prefix}${ref.table}/_jobs/ (wrong id, or its folder expired): start a new backfill instead of resuming`,
    );
  }
  if (stored.segments !== segments) {
    throw new InputError(
      `Backfill run ${ref.jobId} scans ${stored.segments} segments: resume it with ${stored.segments} segments, or start a new backfill`,
    );
  }
  return stored;
}

/** The total read rate the request allows (RCU per second), or undefined for unlimited. */
async function readRate(
  dynamodb: DynamoDBClient,
  table: string,
  req: BackfillJobRequest,
): Promise<number | undefined> {
  if (req.maxRcu !== undefined && req.readPercent !== undefined) {
    throw new InputError('Give either `--max-rcu` or `--read-percent`, not both');
  }
  if (req.maxRcu !== undefined) {
    if (!(req.maxRcu > 0))
      throw new InputError(`Expected \`--max-rcu\` to be a positive number, got ${req.maxRcu}`);
    return req.maxRcu;
  }
  if (req.readPercent === undefined) return undefined;
  if (!(req.readPercent > 0 && req.readPercent <= 100)) {
    throw new InputError(`Expected \`--read-percent\` to be from 1 to 100, got ${req.readPercent}`);
  }
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const rcu = Table?.ProvisionedThroughput?.ReadCapacityUnits ?? 0;
  if (Table?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' || rcu === 0) {
    throw new InputError(
      `Table ${table} is on-demand, so --read-percent has no capacity to take a share of: use --max-rcu`,
    );
  }
  return rcuFromPercent(rcu, req.readPercent);
}

const paramsOf = (ctx: JobContext, ref: JobRef) => readPlanParams<BackfillParams>(ctx.s3, ref);

const checkpointName = (task: JobTask<BackfillTask>) => `checkpoints/${task.id}.json`;

/**
 * One segment, page by page from its stored checkpoint, which is stored again after each page's
 * writes. Stops at the deadline with the task that carries on; a run of a finished segment only
 * stores its result again, so a retry leaves the same result.
 */
async function partition(
  ctx: BackfillJobContext,
  task: JobTask<BackfillTask>,
): Promise<TaskOutcome<BackfillTask>> {
  const params = await paramsOf(ctx, task);
  // The task comes from a map's item on AWS: checked before it names S3 keys or a scan.
  const segment = task.params?.segment;
  if (!Number.isSafeInteger(segment) || segment < 0 || segment >= params.segments) {
    throw new InputError(
      `Expected the task's segment to be from 0 to ${params.segments - 1}, got ${segment}`,
    );
  }
  const name = checkpointName(task);
  const state = (await getJobJson<SegmentCheckpoint>(ctx.s3, task, name)) ?? { items: 0, repaired: 0 };
  const scan = scanOf(ctx, task, params);
  const deadline = ctx.deadline ?? NO_DEADLINE;
  const pool = new TaskPool(WRITES_IN_FLIGHT);
  while (!state.finished) {
    // Out of time while waiting for the segment's share of the rate: the next part waits the rest.
    if (!(await waitTurn(state.readyAtMs, deadline))) return continueTask(task, task.params);
    await backfillPage(scan, state, pool);
    await putJobJson(ctx.s3, task, name, state);
    // Checked after a page, so every part makes progress even when started late.
    if (!state.finished && deadline()) return continueTask(task, task.params);
  }
  const result: SegmentResult = {
    id: task.id,
    items: state.items,
    repaired: state.repaired,
    finishedAtMs: state.finishedAtMs ?? 0,
  };
  await saveTaskResult(ctx.s3, task, result);
  return { done: true, id: task.id };
}

const scanOf = (
  ctx: BackfillJobContext,
  task: JobTask<BackfillTask>,
  params: BackfillParams,
): SegmentScan => ({
  s3: ctx.s3,
  dynamodb: ctx.dynamodb,
  log: ctx.log,
  source: { bucket: task.bucket, prefix: task.prefix, table: task.table },
  segment: task.params.segment,
  segments: params.segments,
  keyNames: params.keyNames,
  timePrecisionMs: params.timePrecisionMs,
  ...(params.segmentRcu === undefined ? {} : { rcu: params.segmentRcu }),
  ...(ctx.onItemsWritten ? { onItemsWritten: ctx.onItemsWritten } : {}),
});

/** Adds up the segments' results and records the backfill as complete. */
async function finish(ctx: JobContext, p: JobPlan<BackfillParams, BackfillTask>): Promise<BackfillSummary> {
  const params = await paramsOf(ctx, p);
  // A segment's result may be stored by several runs (a retry, a resume, another part): all equal.
  const bySegment = new Map<string, SegmentResult>();
  for (const r of await readTaskResults<SegmentResult>(ctx.s3, p, 'partition')) bySegment.set(r.id, r);
  if (bySegment.size !== params.segments) {
    throw new RewindError(
      `Backfill run ${p.jobId} has finished ${bySegment.size} of ${params.segments} segments: run the rest (resume the run) before its finish step`,
    );
  }
  const summary: BackfillSummary = {
    jobId: p.jobId,
    items: 0,
    segments: params.segments,
    repaired: 0,
    resumedSegments: 0,
    durationMs: 0,
  };
  for (const r of bySegment.values()) {
    summary.items += r.items;
    summary.repaired += r.repaired;
    if (r.finishedAtMs < params.plannedAtMs) summary.resumedSegments++;
  }
  // The run's folder is left for the lifecycle rule: a retried finish, or a resume of a finished
  // run, then gives the same summary (deleting on a versioned bucket would free nothing anyway).
  await recordBackfillCompleted(
    ctx.s3,
    { bucket: p.bucket, prefix: p.prefix, table: p.table },
    params.startedAtMs,
  );
  summary.durationMs = Date.now() - params.plannedAtMs;
  ctx.log.info('backfill job finished', { ...summary });
  return summary;
}

export const backfillJob: JobDefinition<BackfillJobRequest, BackfillParams, BackfillTask, BackfillSummary> = {
  plan,
  partition,
  finish,
};

/** Fields a Step Functions state may add to the event besides the request's. */
const ROUTING_FIELDS = new Set(['job', 'action', 'step']);
const EVENT_FIELDS = new Set([
  'table',
  'bucket',
  'prefix',
  'segments',
  'maxRcu',
  'readPercent',
  'timePrecisionMs',
  'resumeJobId',
]);

/**
 * The backfill Lambda's event: `table`, `bucket`, `prefix`?, `segments`? (1-1000000, default 4),
 * `maxRcu`? (the total, 1-10000000) or `readPercent`? (1-100), `timePrecisionMs`? (default
 * 1000), `resumeJobId`?. An unknown field is refused: a misspelt `maxRcu` must not mean unlimited.
 */
export function parseBackfillEvent(event: unknown): BackfillJobRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InputError(`Expected the backfill event to be a JSON object, got ${JSON.stringify(event)}`);
  }
  const e = event as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !EVENT_FIELDS.has(k) && !ROUTING_FIELDS.has(k));
  if (unknown.length) {
    throw new InputError(
      `Unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} in the backfill event: expected ${[...EVENT_FIELDS].join(', ')}`,
    );
  }
  const maxRcu = eventNumber(e, 'maxRcu', 10_000_000);
  const readPercent = eventNumber(e, 'readPercent', 100);
  if (maxRcu !== undefined && readPercent !== undefined)
    throw new InputError('Give either "maxRcu" or "readPercent" in the backfill event, not both');
  const resumeJobId = eventText(e, 'resumeJobId');
  return {
    source: backupLocation(requiredText(e, 'bucket'), requiredText(e, 'table'), eventText(e, 'prefix')),
    segments: eventNumber(e, 'segments', MAX_SEGMENTS) ?? 4,
    timePrecisionMs: eventNumber(e, 'timePrecisionMs', 3_600_000) ?? 1000,
    ...(maxRcu === undefined ? {} : { maxRcu }),
    ...(readPercent === undefined ? {} : { readPercent }),
    ...(resumeJobId === undefined ? {} : { resumeJobId: checkBackfillId(resumeJobId) }),
  };
}

function eventText(e: Record<string, unknown>, name: string): string | undefined {
  const v = e[name];
  if (v === undefined || typeof v === 'string') return v;
  throw new InputError(`Expected "${name}" in the backfill event to be a string, got ${JSON.stringify(v)}`);
}

function requiredText(e: Record<string, unknown>, name: string): string {
  const v = eventText(e, name);
  if (v === undefined) throw new InputError(`Expected "${name}" in the backfill event`);
  return v;
}

/** A whole number from 1 to `max`, as a JSON number or a string of digits (a state's input). */
function eventNumber(e: Record<string, unknown>, name: string, max: number): number | undefined {
  const v = e[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' && typeof v !== 'string') {
    throw new InputError(`Expected "${name}" in the backfill event to be a number, got ${JSON.stringify(v)}`);
  }
  return wholeNumber(`"${name}" in the backfill event`, v, { min: 1, max });
}
