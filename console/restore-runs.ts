import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { describeError } from '../cli/errors';
import { BackupReader } from '../core/aws/backup-reader';
import {
  type RestoreJobContext,
  type RestoreJobRequest,
  type RestoreJobSummary,
  restoreJob,
} from '../core/aws/jobs/restore-job';
import type { RestoreMode, RestoreSummary } from '../core/aws/restore';
import { runJob } from '../core/aws/run-job';
import { sdkItemToWire, type WireItem, wireItemToSdk } from '../core/ddb-json';
import { InputError } from '../core/errors';
import { type AttributeChange, diffItems } from '../core/item-diff';
import type { Log } from '../core/log';
import { type BackupLocation, type ItemKey, objectKeyFor } from '../core/object-key';
import { progressTracker, type RestoreProgress } from '../core/restore-progress';

/** What a restore form asks for. */
export interface RestoreAsk {
  source: BackupLocation;
  atMs: number;
  target: string;
  mode: RestoreMode;
  createTable: boolean;
  /** One item (the item page's forms); otherwise the whole table. */
  key?: ItemKey;
  /** The item's key as the pages show it. */
  keyText?: string;
}

/** A dry run waiting for its confirmation. */
export interface PlannedRestore {
  id: string;
  ask: RestoreAsk;
  plan: RestoreJobSummary;
  /** One item: the target's item now against the item the restore writes. */
  itemDiff?: { exists: boolean; changes: AttributeChange[] };
  expiresMs: number;
}

export interface RestoreRun {
  id: string;
  ask: RestoreAsk;
  state: 'running' | 'done' | 'failed';
  progress: RestoreProgress;
  summary?: RestoreJobSummary;
  error?: string;
  startedMs: number;
}

export interface RestoreRunsDeps {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  now?: () => number;
}

/** A plan is good for this long: the backup and the target move on. */
const PLAN_TTL_MS = 15 * 60_000;

/**
 * The console's restores: each is the CLI's restore job, first as a dry run (the plan the page
 * shows), then, once confirmed, for real in the background, its progress kept for polling.
 */
export class RestoreRuns {
  private readonly plans = new Map<string, PlannedRestore>();
  private readonly runs = new Map<string, RestoreRun>();
  private readonly now: () => number;

  constructor(private readonly deps: RestoreRunsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The dry run of a restore; nothing is written. */
  async preview(ask: RestoreAsk): Promise<PlannedRestore> {
    const plan = await runJob(this.deps, restoreJob, { ...jobRequest(ask), dryRun: true });
    const itemDiff = ask.key ? await this.itemDiff(ask, ask.key) : undefined;
    const planned: PlannedRestore = {
      id: randomUUID(),
      ask,
      plan,
      ...(itemDiff ? { itemDiff } : {}),
      expiresMs: this.now() + PLAN_TTL_MS,
    };
    for (const [id, p] of this.plans) if (p.expiresMs < this.now()) this.plans.delete(id);
    this.plans.set(planned.id, planned);
    return planned;
  }

  plan(id: string): PlannedRestore | undefined {
    return this.plans.get(id);
  }

  /** Runs a confirmed plan in the background; the plan is used up. */
  start(planId: string): RestoreRun {
    const planned = this.plans.get(planId);
    if (!planned || planned.expiresMs < this.now())
      throw new InputError('That plan is unknown or older than 15 minutes: preview the restore again');
    this.plans.delete(planId);
    const run: RestoreRun = {
      id: randomUUID(),
      ask: planned.ask,
      state: 'running',
      progress: { put: 0, deleted: 0, unchanged: 0 },
      startedMs: this.now(),
    };
    this.runs.set(run.id, run);
    const track = progressTracker();
    const onProgress = (s: Readonly<RestoreSummary>) => {
      run.progress = track(s);
    };
    const ctx: RestoreJobContext = { ...this.deps, onProgress };
    runJob(ctx, restoreJob, jobRequest(planned.ask)).then(
      (summary) => {
        run.summary = summary;
        run.state = 'done';
      },
      (err: unknown) => {
        run.error = describeError(err);
        run.state = 'failed';
        // The error's name only: a message may quote an item's values.
        this.deps.log.warn('console restore failed', { run: run.id, error: (err as Error).name });
      },
    );
    return run;
  }

  run(id: string): RestoreRun | undefined {
    return this.runs.get(id);
  }

  /** The target's item now against the item as of T, with the diff the timeline uses. */
  private async itemDiff(ask: RestoreAsk, key: ItemKey): Promise<PlannedRestore['itemDiff']> {
    const reader = new BackupReader(this.deps.s3, ask.source);
    const asOf = await reader.itemAsOf(objectKeyFor(ask.source, key), ask.atMs);
    let current: WireItem | undefined;
    try {
      const got = await this.deps.dynamodb.send(
        new GetItemCommand({ TableName: ask.target, Key: wireItemToSdk(key), ConsistentRead: true }),
      );
      current = got.Item ? sdkItemToWire(got.Item) : undefined;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
    return { exists: current !== undefined, changes: diffItems(current, asOf.image) };
  }
}

/** The restore job's request for a console restore: the CLI's defaults, in place only onto the source. */
function jobRequest(ask: RestoreAsk): RestoreJobRequest {
  return {
    source: ask.source,
    atMs: ask.atMs,
    targetTable: ask.target,
    mode: ask.mode,
    createTable: ask.createTable,
    inPlace: ask.target === ask.source.table,
    concurrency: 32,
    partitions: 1,
    usePack: true,
    ...(ask.key ? { keys: [ask.key] } : {}),
  };
}
