import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type SdkItem, sdkItemToWire, wireItemToSdk } from '../../ddb-json';
import { InputError } from '../../errors';
import { eventFields, eventLocation, eventWhole } from '../../event-fields';
import { gapWarning } from '../../gaps';
import {
  continueTask,
  type JobPlan,
  type JobRef,
  type JobTask,
  newJobId,
  type TaskOutcome,
  taskId,
} from '../../job-model';
import { assertCovered, MAX_PARTITIONS } from '../../job-parts';
import { countForTable, type MetricSink } from '../../metrics';
import { type BackupLocation, decodeObjectKey, HASH_PREFIXES, type ItemKey } from '../../object-key';
import { inKeyRange, type Partition } from '../../partition';
import { DEFAULT_CLOCK_SKEW_MS } from '../../select-version';
import { keyNames } from '../../table-manifest';
import { assertAnswerable } from '../backup-check';
import { BackupReader } from '../backup-reader';
import { lastBackfillStart, listGaps } from '../gap-store';
import { clearJob, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { requireManifest } from '../manifest-store';
import { splitForJob } from '../pack-reader';
import type { JobContext, JobDefinition } from '../run-job';
import { imageHash, type TargetEntry } from '../target-snapshot';
import { runSpillTask, SpillView, spillSegmentsFor } from '../target-spill';
import {
  type Drift,
  type DriftKind,
  MAX_DRIFT_SAMPLES,
  type VerifyReport,
  type VerifyRequest,
} from '../verify';

/** A verify step's context: where `VerifyDrift` goes (Powertools Metrics in Lambda). */
export type VerifyJobContext = JobContext & { metrics?: MetricSink };

/** The run's plan.json. */
interface VerifyParams {
  keyNames: string[];
  /** Scan segments of the live table's one read (the prepare tasks). */
  spillSegments: number;
  sampledPrefixes: number;
  settleMs: number;
  concurrency?: number;
  startedMs: number;
}

type VerifyTask =
  | { kind: 'spill'; segment: number }
  /** `rest`: a continuation's share, what the runs before it left (see ScanStats.remaining). */
  | { kind: 'compare'; partition: Partition; rest?: Partition[] };

/** A compare task run's stored result. */
interface VerifyTaskResult {
  covered: Partition[];
  checked: number;
  counts: Record<DriftKind, number>;
  samples: Drift[];
}

const locOf = (ref: JobRef): BackupLocation => ({ bucket: ref.bucket, prefix: ref.prefix, table: ref.table });

async function plan(ctx: JobContext, req: VerifyRequest): Promise<JobPlan<VerifyParams, VerifyTask>> {
  const startedMs = Date.now();
  const percent = req.samplePercent ?? 100;
  if (!(percent > 0 && percent <= 100))
    throw new InputError(`Expected \`--sample\` to be a percentage from 1 to 100, got ${percent}`);
  const manifest = await requireManifest(ctx.s3, req.source);
  await assertAnswerable(ctx.s3, req.source, manifest, [{ flag: 'now', atMs: startedMs }], startedMs);
  const sampledPrefixes = Math.max(1, Math.round((256 * percent) / 100));
  const ranges = await splitForJob(ctx.s3, req.source, {
    atMs: startedMs,
    range: { from: '00', to: HASH_PREFIXES[sampledPrefixes - 1] as string },
    count: req.partitions ?? 1,
  });
  const spillSegments = req.spillSegments ?? (await spillSegmentsFor(ctx.dynamodb, req.source.table, 1));
  const ref: JobRef = { job: 'verify', jobId: newJobId('verify', startedMs), ...req.source };
  const params: VerifyParams = {
    keyNames: keyNames(manifest),
    spillSegments,
    sampledPrefixes,
    settleMs: req.settleMs ?? 10_000,
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    startedMs,
  };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  const task = (step: JobTask['step'], id: string, p: VerifyTask): JobTask<VerifyTask> => ({
    ...ref,
    step,
    id,
    part: 0,
    params: p,
  });
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: Array.from({ length: spillSegments }, (_, segment) =>
      task('prepare', taskId('s', segment), { kind: 'spill', segment }),
    ),
    partitions: ranges.map((partition, i) =>
      task('partition', taskId('p', i), { kind: 'compare', partition }),
    ),
  };
}

const paramsOf = (ctx: JobContext, ref: JobRef) => readPlanParams<VerifyParams>(ctx.s3, ref);

/** The live table, read once: one scan segment spilled per hash prefix (target-spill.ts). */
async function prepare(ctx: JobContext, task: JobTask<VerifyTask>): Promise<TaskOutcome<VerifyTask>> {
  const unit = task.params;
  if (unit.kind !== 'spill')
    throw new InputError(`Expected a spill task in the prepare step, got ${unit.kind}`);
  const params = await paramsOf(ctx, task);
  return runSpillTask(
    ctx,
    { ...task, params: unit },
    {
      table: task.table,
      keyNames: params.keyNames,
      source: locOf(task),
      totalSegments: params.spillSegments,
    },
  );
}

/**
 * The task's prefixes of the spilled table against the backup's latest state; differences are
 * checked again one by one after the settle window. Stopped by the deadline, it settles what it
 * found and hands on the rest of its range.
 */
async function partition(ctx: JobContext, task: JobTask<VerifyTask>): Promise<TaskOutcome<VerifyTask>> {
  const unit = task.params;
  if (unit.kind !== 'compare')
    throw new InputError(`Expected a compare task in the partition step, got ${unit.kind}`);
  const params = await paramsOf(ctx, task);
  // "Latest" is as of a moment safely after now: every version written so far is in.
  const reader = new BackupReader(ctx.s3, locOf(task), {
    clockSkewMs: 0,
    ...(params.concurrency ? { concurrency: params.concurrency } : {}),
    log: ctx.log,
  });
  const view = await SpillView.open(ctx.s3, task, params.spillSegments, unit.partition);
  const found = await compareAll(reader, view, unit.rest ?? [unit.partition], ctx);
  const drift: Drift[] = [];
  if (found.candidates.length) {
    await new Promise((r) => setTimeout(r, params.settleMs));
    for (const c of found.candidates) {
      const again = await recheck(ctx.dynamodb, reader, params.keyNames, c);
      if (again) drift.push(again);
    }
  }
  const counts: Record<DriftKind, number> = { 'missing-from-backup': 0, 'only-in-backup': 0, differs: 0 };
  for (const d of drift) counts[d.kind]++;
  const result: VerifyTaskResult = {
    checked: found.checked,
    counts,
    samples: drift.slice(0, MAX_DRIFT_SAMPLES),
    covered: found.covered,
  };
  await saveTaskResult(ctx.s3, task, result);
  return found.remaining.length
    ? continueTask(task, { kind: 'compare', partition: unit.partition, rest: found.remaining })
    : { done: true, id: task.id };
}

/** One pass over the range: the table's spill against the backup's latest state. */
async function compareAll(
  reader: BackupReader,
  view: SpillView,
  ranges: Partition[],
  ctx: JobContext,
): Promise<{ candidates: Drift[]; checked: number; covered: Partition[]; remaining: Partition[] }> {
  const candidates: Drift[] = [];
  let checked = 0;
  const scan = {
    atMs: Date.now() + DEFAULT_CLOCK_SKEW_MS,
    ranges,
    ...(ctx.deadline ? { deadline: ctx.deadline } : {}),
  };
  const stats = await reader.scan(scan, (hh) => {
    const live = view.load(hh);
    live.catch(() => {}); // awaited by the first item, or by end
    return {
      item: async (item) => {
        checked++;
        const entries = await live;
        const current = entries.get(item.objectKey);
        entries.delete(item.objectKey);
        const found = compare(item.objectKey, current, item.image ? imageHash(item.image) : undefined);
        if (found) candidates.push(found);
      },
      end: async (done) => {
        for (const [objectKey, current] of await live) {
          if (!inKeyRange(objectKey, done)) continue; // another task's cut of this prefix
          checked++;
          candidates.push(compare(objectKey, current, undefined) as Drift);
        }
      },
    };
  });
  return { candidates, checked, covered: stats.covered, remaining: stats.remaining };
}

/** The drift between the table's copy of an item and the backup's, if they differ. */
function compare(
  objectKey: string,
  current: TargetEntry | undefined,
  backupHash: string | undefined,
): Drift | undefined {
  if (current && !backupHash)
    return { kind: 'missing-from-backup', objectKey, key: current.key, tableHash: current.imageHash };
  if (!current && backupHash) return { kind: 'only-in-backup', objectKey, backupHash };
  if (current && backupHash && current.imageHash !== backupHash)
    return { kind: 'differs', objectKey, key: current.key, tableHash: current.imageHash, backupHash };
  return undefined;
}

/** The same comparison for one item, now: still drifting, or settled (undefined). */
async function recheck(
  dynamodb: DynamoDBClient,
  reader: BackupReader,
  names: string[],
  c: Drift,
): Promise<Drift | undefined> {
  const loc = reader.loc;
  const item = await reader.itemAsOf(c.objectKey, Date.now() + DEFAULT_CLOCK_SKEW_MS);
  const key =
    c.key ??
    (item.image
      ? Object.fromEntries(names.map((n) => [n, item.image?.[n]]))
      : decodeObjectKey(loc, c.objectKey));
  if (!key) return c;
  const got = await dynamodb.send(
    new GetItemCommand({ TableName: loc.table, Key: wireItemToSdk(key as ItemKey), ConsistentRead: true }),
  );
  const tableHash = got.Item ? imageHash(sdkItemToWire(got.Item as SdkItem)) : undefined;
  const backupHash = item.image ? imageHash(item.image) : undefined;
  if (tableHash === backupHash) return undefined;
  const kind: DriftKind = !backupHash ? 'missing-from-backup' : !tableHash ? 'only-in-backup' : 'differs';
  return {
    kind,
    objectKey: c.objectKey,
    key: key as ItemKey,
    ...(tableHash ? { tableHash } : {}),
    ...(backupHash ? { backupHash } : {}),
  };
}

/** The tasks' results as one report; publishes `VerifyDrift` (nothing when in sync). */
async function finish(ctx: VerifyJobContext, p: JobPlan<VerifyParams, VerifyTask>): Promise<VerifyReport> {
  const params = await paramsOf(ctx, p);
  const results = await readTaskResults<VerifyTaskResult>(ctx.s3, p, 'partition');
  assertCovered(
    p,
    p.partitions.flatMap((t) => (t.params.kind === 'compare' ? [t.params.partition] : [])),
    results.map((r) => r.covered),
  );
  const counts: Record<DriftKind, number> = { 'missing-from-backup': 0, 'only-in-backup': 0, differs: 0 };
  for (const r of results)
    for (const kind of Object.keys(counts) as DriftKind[]) counts[kind] += r.counts[kind];
  const drifting = counts['missing-from-backup'] + counts['only-in-backup'] + counts.differs;
  const loc = locOf(p);
  const backfilledFrom = (await lastBackfillStart(ctx.s3, loc)) ?? 0;
  const open = (await listGaps(ctx.s3, loc)).filter((g) => g.toMs > backfilledFrom);
  await clearJob(ctx.s3, p);
  countForTable(ctx.metrics, loc.table, 'VerifyDrift', drifting);
  const report: VerifyReport = {
    inSync: drifting === 0,
    checkedItems: results.reduce((n, r) => n + r.checked, 0),
    sampledPrefixes: params.sampledPrefixes,
    drift: results.flatMap((r) => r.samples).slice(0, MAX_DRIFT_SAMPLES),
    counts,
    warnings: open.length ? [gapWarning(loc.table, open)] : [],
    durationMs: Date.now() - params.startedMs,
    jobId: p.jobId,
    partitions: p.partitions.length,
  };
  ctx.log.info('verify finished', { ...report, drift: undefined, warnings: undefined });
  return report;
}

/** The verify job: the live table spilled once (prepare), compared per partition, merged by finish. */
export const verifyJob: JobDefinition<VerifyRequest, VerifyParams, VerifyTask, VerifyReport> = {
  plan,
  prepare,
  partition,
  finish,
};

/**
 * The verify workflow's plan event: `table`, `bucket`, `prefix`?, `sample`? (percent of the
 * hash prefixes, 1-100), `settleMs`?, `partitions`?, `concurrency`?, `spillSegments`?.
 */
export function parseVerifyEvent(event: unknown): VerifyRequest {
  const e = eventFields(event, 'verify');
  const source = eventLocation(e, 'verify');
  const whole = (name: string, min: number, max: number) => eventWhole(e, name, 'verify', { min, max });
  const samplePercent = whole('sample', 1, 100);
  const settleMs = whole('settleMs', 0, 3_600_000);
  const partitions = whole('partitions', 1, MAX_PARTITIONS);
  const concurrency = whole('concurrency', 1, 1024);
  const spillSegments = whole('spillSegments', 1, 1000);
  return {
    source,
    ...(samplePercent ? { samplePercent } : {}),
    ...(settleMs !== undefined ? { settleMs } : {}),
    ...(partitions ? { partitions } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(spillSegments ? { spillSegments } : {}),
  };
}
