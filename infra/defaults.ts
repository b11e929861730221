import * as path from 'node:path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type BundlingOptions, LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { InputError } from '../core/errors';
import { catalogName } from '../core/export-catalog';
import type { JobKind } from '../core/job-model';
import { backupLocation, itemsRoot, metaRoot, tableRoot } from '../core/object-key';
import type { BackupBucketProps, NoncurrentVersionTransition } from './backup-bucket';
import { asBucket } from './cdk-types';

/**
 * Pure defaults, in the style of aws-solutions-constructs' `*-defaults.ts`: props in, CDK props
 * out, no constructs built here. The constructs compose these; tests can read the same values.
 */

/** Every default of TableBackup and BackupBucket in one place (the docs' props table mirrors it). */
export const DEFAULTS = {
  prefix: '',
  writerConcurrency: 16,
  writerMemorySize: 512,
  writerTimeout: Duration.minutes(1),
  batchSize: 100,
  // A backup must not drop a batch over a transient outage (S3 errors, throttling, a bad deploy):
  // what Lambda gives up on is lost to the backup, recorded only as a gap. The writer parks what
  // can never be stored and bisectBatchOnError isolates a record that still fails the function,
  // so what is left to retry are faults that pass; maxRecordAge (24 h) bounds the retrying.
  // aws-solutions-constructs' default is 500 too.
  retryAttempts: 500,
  // The stream keeps records for 24 h: older ones are gone, so waiting longer gains nothing.
  maxRecordAge: Duration.hours(24),
  parallelizationFactor: 1,
  restoreMemorySize: 1769, // one full vCPU: restores are bound by parallel S3 reads and JSON work
  restoreMaxConcurrency: 8,
  // Pack, export, verify and backfill: the same one vCPU, the same map width.
  jobMemorySize: 1769,
  jobMaxConcurrency: 8,
  // Lambda's most: a task stops starting new work two minutes before it and hands on the rest.
  jobTimeout: Duration.minutes(15),
  // A job's scratch folder outlives any run (a run resumes by redrive within days), then goes.
  jobScratchExpiration: Duration.days(7),
  backfillOnDeploy: true,
  iteratorAgeThreshold: Duration.minutes(5),
  backupLagThreshold: Duration.minutes(10),
  logRetention: RetentionDays.THREE_MONTHS,
  serverAccessLogsPrefix: 'ddb-rewind/',
  deadLetterRetention: Duration.days(14),
  failureRecorderMemorySize: 256,
  failureRecorderTimeout: Duration.seconds(30),
  // Messages per recorder call: each is one small S3 PUT.
  failureRecorderBatchSize: 10,
  // Deliveries of an on-failure message before it moves to the recorder's own dead-letter queue.
  failureRecorderMaxReceiveCount: 5,
} as const;

/**
 * The repository root: Lambda entries and the lock file are found from here, not from cwd. In the
 * installed package this is its dist/ folder, which holds the functions prebuilt (LAMBDA_ENTRIES).
 */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Every Lambda function's entry (relative to the repository root; each exports `handler`). */
export const LAMBDA_ENTRIES = {
  writer: 'functions/stream-writer/handler.ts',
  failureRecorder: 'functions/failure-recorder/handler.ts',
  jobs: 'functions/jobs/handler.ts',
  ensureStream: 'infra/ensure-stream/handler.ts',
} as const;

/** Where `npm run build` puts an entry's bundle (`index.js`), under the package's dist/. */
export const prebuiltFolder = (entry: string): string =>
  `lambda/${entry.replace(/\.ts$/, '').replaceAll('/', '-')}`;

/** The writer's metric, as functions/stream-writer/handler.ts emits it (Powertools EMF). */
export const BACKUP_LAG_METRIC = {
  namespace: 'ddb-rewind',
  metricName: 'BackupLagMs',
  // Powertools adds its serviceName ('writer') as a dimension beside `table`: an alarm must name both.
  service: 'writer',
} as const;

/** The failure recorder's count of lost batches (functions/failure-recorder/handler.ts), per table. */
export const LOST_BATCHES_METRIC = {
  namespace: 'ddb-rewind',
  metricName: 'LostBatches',
  service: 'failure-recorder',
} as const;

/** The writer's count of poison records parked under `<table>/_dead-letter/`, per table. */
export const RECORDS_PARKED_METRIC = {
  namespace: 'ddb-rewind',
  metricName: 'RecordsParked',
  service: 'writer',
} as const;

/**
 * The verify job's drift count (functions/jobs/handler.ts), per table: published only when a
 * verify finds drift, with the `service` dimension `verify` beside `table`, as the others.
 */
export const VERIFY_DRIFT_METRIC = {
  namespace: 'ddb-rewind',
  metricName: 'VerifyDrift',
  service: 'verify',
} as const;

/** Where one table's backup lives in the bucket, computed by the one codec (core/object-key). */
export interface BackupFolders {
  /** '' or a folder ending in '/': what BACKUP_PREFIX gets. */
  prefix: string;
  /** `<prefix><table>/` */
  tableRoot: string;
  /** `<prefix><table>/v1/`: the item objects. */
  itemsRoot: string;
  /** `<prefix><table>/_meta/` */
  metaRoot: string;
  /** `<prefix><table>/_jobs/`: every job run's scratch folder (core/aws/job-store.ts). */
  jobsRoot: string;
  /** `<prefix><table>/_packs/` */
  packsRoot: string;
  /** `<prefix><table>/_exports/`: where exports go when no `exportBucket` is given. */
  exportsRoot: string;
  /** `<prefix><table>/_changes/`: the change index (core/change-index.ts). */
  changesRoot: string;
}

export function backupFolders(prefix: string, table: string): BackupFolders {
  // The bucket plays no part in folder names; a placeholder lets core check prefix and table.
  // A table of this app has a token for a name, which only CloudFormation resolves.
  const checked = backupLocation(
    'placeholder-bucket',
    Token.isUnresolved(table) ? 'placeholder' : table,
    prefix,
  );
  const loc = { ...checked, table };
  const root = tableRoot(loc);
  return {
    prefix: loc.prefix,
    tableRoot: root,
    itemsRoot: itemsRoot(loc),
    metaRoot: metaRoot(loc),
    jobsRoot: `${root}_jobs/`,
    packsRoot: `${root}_packs/`,
    exportsRoot: `${root}_exports/`,
    changesRoot: `${root}_changes/`,
  };
}

/**
 * Rules for one table's `_jobs/` folder: scratch objects expire a week after their last write,
 * their old versions (overwritten checkpoints, deleted results) a day after, and the delete
 * markers left alone then go too. S3 refuses ExpiredObjectDeleteMarker beside Days in one rule,
 * hence two. Neither covers `<table>/v1/`, so readers' retention horizon is unchanged.
 */
export function jobScratchRules(folders: BackupFolders): s3.LifecycleRule[] {
  return [
    {
      prefix: folders.jobsRoot,
      expiration: DEFAULTS.jobScratchExpiration,
      noncurrentVersionExpiration: Duration.days(1),
    },
    { prefix: folders.jobsRoot, expiredObjectDeleteMarker: true },
  ];
}

export const positiveInteger = (name: string, value: number | undefined): void => {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new InputError(`Expected \`${name}\` to be a positive whole number, got ${value}`);
  }
};

// Restores read old versions directly: classes that need an S3 restore request first would break them.
const READABLE_CLASSES = new Set(['STANDARD_IA', 'ONEZONE_IA', 'GLACIER_IR', 'INTELLIGENT_TIERING']);
const MIN_DAYS: Record<string, number> = { STANDARD_IA: 30, ONEZONE_IA: 30 };

/** Lifecycle rules for noncurrent versions; none by default (keep every version forever). */
export function noncurrentVersionRules(props: BackupBucketProps): s3.LifecycleRule[] {
  const days = props.noncurrentVersionRetentionDays;
  const transition = props.noncurrentVersionTransition;
  positiveInteger('noncurrentVersionRetentionDays', days);
  if (days === undefined && !transition) return [];
  if (transition) checkTransition(transition, days);
  return [
    {
      id: 'noncurrent-versions',
      enabled: true,
      ...(transition
        ? {
            noncurrentVersionTransitions: [
              { storageClass: transition.storageClass, transitionAfter: Duration.days(transition.afterDays) },
            ],
          }
        : {}),
      ...(days !== undefined
        ? {
            noncurrentVersionExpiration: Duration.days(days),
            // A delete marker whose versions all expired says nothing more than "absent": drop it.
            expiredObjectDeleteMarker: true,
          }
        : {}),
    },
  ];
}

function checkTransition(transition: NoncurrentVersionTransition, days: number | undefined): void {
  const cls = transition.storageClass.value;
  positiveInteger('noncurrentVersionTransition.afterDays', transition.afterDays);
  if (!READABLE_CLASSES.has(cls)) {
    throw new InputError(
      `Expected \`noncurrentVersionTransition.storageClass\` to be one the restore can read directly (INFREQUENT_ACCESS, ONE_ZONE_INFREQUENT_ACCESS, GLACIER_INSTANT_RETRIEVAL, INTELLIGENT_TIERING), got ${cls}: versions in it would need an S3 restore request before every read`,
    );
  }
  const min = MIN_DAYS[cls] ?? 0;
  if (transition.afterDays < min) {
    throw new InputError(
      `Expected \`noncurrentVersionTransition.afterDays\` to be at least ${min} for ${cls} (an S3 rule), got ${transition.afterDays}`,
    );
  }
  if (days !== undefined && transition.afterDays >= days) {
    throw new InputError(
      `Expected \`noncurrentVersionTransition.afterDays\` (${transition.afterDays}) to be less than \`noncurrentVersionRetentionDays\` (${days}): versions would expire before they move`,
    );
  }
}

/** Object Lock default retention, or none. */
export function objectLockRetention(props: BackupBucketProps): s3.ObjectLockRetention | undefined {
  const lock = props.objectLock;
  if (!lock) return undefined;
  positiveInteger('objectLock.days', lock.days);
  const duration = Duration.days(lock.days);
  return lock.mode === 'COMPLIANCE'
    ? s3.ObjectLockRetention.compliance(duration)
    : s3.ObjectLockRetention.governance(duration);
}

/**
 * The backup bucket: versioned (the whole design rests on it), no public access, TLS 1.2+ only,
 * encrypted, retained when the stack goes, plus the optional lifecycle, lock and access logs.
 */
export function backupBucketProps(props: BackupBucketProps, key: kms.IKey | undefined): s3.BucketProps {
  checkBackupBucketProps(props);
  const lock = objectLockRetention(props);
  return {
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    ...(key
      ? {
          encryption: s3.BucketEncryption.KMS,
          encryptionKey: key,
          // One KMS call per bucket key and period instead of one per backup write.
          bucketKeyEnabled: true,
        }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    removalPolicy: RemovalPolicy.RETAIN,
    autoDeleteObjects: false,
    lifecycleRules: noncurrentVersionRules(props),
    ...(lock ? { objectLockEnabled: true, objectLockDefaultRetention: lock } : {}),
    ...(props.serverAccessLogsBucket
      ? {
          serverAccessLogsBucket: asBucket(props.serverAccessLogsBucket),
          serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? DEFAULTS.serverAccessLogsPrefix,
        }
      : {}),
  };
}

/** Throws on bucket options that cannot work together; the message says what to change. */
export function checkBackupBucketProps(props: BackupBucketProps): void {
  if (props.encryption === 'S3_MANAGED' && props.encryptionKey) {
    throw new InputError(
      "Expected `encryption` to be 'KMS' (or unset) when `encryptionKey` is given, got 'S3_MANAGED'",
    );
  }
  noncurrentVersionRules(props);
  objectLockRetention(props);
}

/** Bucket options that only make sense for a bucket the construct creates. */
export const CREATED_BUCKET_OPTIONS: ReadonlyArray<keyof BackupBucketProps> = [
  'encryption',
  'noncurrentVersionRetentionDays',
  'noncurrentVersionTransition',
  'objectLock',
  'serverAccessLogsBucket',
  'serverAccessLogsPrefix',
];

/**
 * Bundling for every function: local esbuild (synth works offline, no Docker), one file per
 * function, the SDK bundled at the version the project pins and tests (not the runtime's).
 */
export function bundling(): BundlingOptions {
  return {
    forceDockerBundling: false,
    externalModules: [],
    target: 'node22',
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    logLevel: LogLevel.WARNING,
  };
}

export const RUNTIME = lambda.Runtime.NODEJS_22_X;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/** The writer's tuning; TableBackupProps documents each (with its @default). */
export interface WriterOptions {
  /** @default 16 */
  readonly writerConcurrency?: number;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default - none */
  readonly maxBatchingWindow?: Duration;
  /** @default 500 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(24) */
  readonly maxRecordAge?: Duration;
  /** @default 1 */
  readonly parallelizationFactor?: number;
}

/** The writer's environment, exactly what functions/stream-writer/handler.ts reads. */
export function writerEnvironment(
  bucketName: string,
  folders: BackupFolders,
  props: WriterOptions,
): Record<string, string> {
  positiveInteger('writerConcurrency', props.writerConcurrency);
  return {
    BACKUP_BUCKET: bucketName,
    BACKUP_PREFIX: folders.prefix,
    WRITER_CONCURRENCY: String(props.writerConcurrency ?? DEFAULTS.writerConcurrency),
    POWERTOOLS_SERVICE_NAME: 'ddb-rewind-writer',
  };
}

/** The failure recorder's environment, exactly what functions/failure-recorder/handler.ts reads. */
export const failureRecorderEnvironment = (
  bucketName: string,
  folders: BackupFolders,
): Record<string, string> => ({
  BACKUP_BUCKET: bucketName,
  BACKUP_PREFIX: folders.prefix,
  POWERTOOLS_SERVICE_NAME: 'ddb-rewind-failure-recorder',
});

/**
 * A job function's environment (functions/jobs/handler.ts): `DDB_REWIND_JOBS` is the one kind it
 * may run (its role allows nothing else; the restore function runs the undo job too); an export function also gets the root its role may
 * write (`s3://bucket/prefix`) and, with `exportTables`, the Glue database it registers exports in.
 */
export function jobEnvironment(
  kind: JobKind,
  bucketName: string,
  folders: BackupFolders,
  exportRoot?: string,
  glueDatabase?: string,
): Record<string, string> {
  return {
    BACKUP_BUCKET: bucketName,
    BACKUP_PREFIX: folders.prefix,
    // The restore function also runs the undo job (the undo workflow calls it).
    DDB_REWIND_JOBS: kind === 'restore' ? 'restore,undo' : kind,
    ...(exportRoot !== undefined ? { DDB_REWIND_EXPORT_ROOT: exportRoot } : {}),
    ...(glueDatabase !== undefined ? { DDB_REWIND_GLUE_DATABASE: glueDatabase } : {}),
    POWERTOOLS_SERVICE_NAME: `ddb-rewind-${kind}`,
  };
}

/** Tuning of the deploy-time backfill; TableBackupProps documents each. */
export interface DeployBackfillOptions {
  /** @default true */
  readonly backfillOnDeploy?: boolean;
  /** @default - the backfill job's own default */
  readonly backfillSegments?: number;
  /** @default - no limit */
  readonly backfillMaxRcu?: number;
}

/** The backfill state machine's input when the deploy starts it: only what was set. */
export function deployBackfillInput(props: DeployBackfillOptions): { segments?: number; maxRcu?: number } {
  positiveInteger('backfillSegments', props.backfillSegments);
  const rcu = props.backfillMaxRcu;
  if (rcu !== undefined && !(Number.isFinite(rcu) && rcu > 0)) {
    throw new InputError(`Expected \`backfillMaxRcu\` to be a positive number, got ${rcu}`);
  }
  return {
    ...(props.backfillSegments !== undefined ? { segments: props.backfillSegments } : {}),
    ...(rcu !== undefined ? { maxRcu: rcu } : {}),
  };
}

/**
 * The event source mapping: from the oldest record the stream still has, failed batches split
 * in half until the bad record is alone, only failed records retried (batchItemFailures), many
 * retries bounded by the records' age, then the batch's position goes to the on-failure queue,
 * whose consumer records it as a gap.
 * Parallelization above 1 is safe: Lambda keeps records of one partition key in order.
 */
export function eventSourceProps(
  props: WriterOptions,
  onFailure: lambda.IEventSourceDlq,
): DynamoEventSourceProps {
  return {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: props.batchSize ?? DEFAULTS.batchSize,
    ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
    bisectBatchOnError: true,
    reportBatchItemFailures: true,
    retryAttempts: props.retryAttempts ?? DEFAULTS.retryAttempts,
    maxRecordAge: props.maxRecordAge ?? DEFAULTS.maxRecordAge,
    parallelizationFactor: props.parallelizationFactor ?? DEFAULTS.parallelizationFactor,
    onFailure,
  };
}

/** A dead-letter queue: it holds stream positions (shard, sequence numbers), not item data. */
export const deadLetterQueueProps = (): sqs.QueueProps => ({
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  retentionPeriod: DEFAULTS.deadLetterRetention,
});

/**
 * The writer's on-failure queue, consumed by the failure recorder: a message it cannot record
 * moves, after a few deliveries, to `unrecorded`, where it stays for a person.
 */
export const onFailureQueueProps = (unrecorded: sqs.IQueue): sqs.QueueProps => ({
  ...deadLetterQueueProps(),
  // Lambda's advice for SQS event sources: six times the function's timeout.
  visibilityTimeout: Duration.seconds(DEFAULTS.failureRecorderTimeout.toSeconds() * 6),
  deadLetterQueue: { queue: unrecorded, maxReceiveCount: DEFAULTS.failureRecorderMaxReceiveCount },
});

/** Names (or `*` patterns) of the tables a restore may write; never the source. */
export function restoreTargetTables(source: string, targets: readonly string[] | undefined): string[] {
  const names = targets ?? [`${source}-restore-*`];
  if (names.length === 0) {
    throw new InputError(
      'Expected `restoreTargetTables` to name at least one table (or leave it unset for `<source>-restore-*`)',
    );
  }
  if (!Token.isUnresolved(source)) {
    for (const name of names) {
      const pattern = new RegExp(`^${name.split('*').map(escapeRegExp).join('.*')}$`);
      if (!Token.isUnresolved(name) && pattern.test(source)) {
        throw new InputError(
          `Expected \`restoreTargetTables\` not to cover the source table ${source}, got \`${name}\`: restore into a new table; undo in place with the CLI (--in-place) and an operator's credentials`,
        );
      }
    }
  }
  return [...names];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Alarm thresholds; TableBackupProps documents each. */
export interface AlarmOptions {
  /** @default Duration.minutes(5) */
  readonly iteratorAgeThreshold?: Duration;
  /** @default Duration.minutes(10) */
  readonly backupLagThreshold?: Duration;
}

/** Alarm thresholds in the metrics' unit (milliseconds). */
export const alarmThresholds = (props: AlarmOptions) => ({
  iteratorAgeMs: (props.iteratorAgeThreshold ?? DEFAULTS.iteratorAgeThreshold).toMilliseconds(),
  backupLagMs: (props.backupLagThreshold ?? DEFAULTS.backupLagThreshold).toMilliseconds(),
  period: Duration.minutes(5),
});

/** The Glue database of `exportTables`: the one given (checked), or one named after the table. */
export function exportDatabaseName(given: string | undefined, table: string, uniqueId: string): string {
  if (given !== undefined) {
    if (!/^[a-z0-9_]{1,255}$/.test(given)) {
      throw new InputError(
        `exportDatabaseName "${given}" is not a Glue database name Athena can query: use 1-255 lower-case letters, digits and _`,
      );
    }
    return given;
  }
  return catalogName(`ddb_rewind_${Token.isUnresolved(table) ? uniqueId : table}`).slice(0, 255);
}
