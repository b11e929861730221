import { Duration, Names, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { InputError } from '../core/errors';
import { JOB_KINDS, type JobKind } from '../core/job-model';
import { BackupAlarms } from './backup-alarms';
import { BackupBucket, type BackupBucketProps } from './backup-bucket';
import { BackupFunction } from './backup-function';
import { type AnyBucket, type AnyTable, asBucket } from './cdk-types';
import {
  type AlarmOptions,
  backupFolders,
  CREATED_BUCKET_OPTIONS,
  checkBackupBucketProps,
  DEFAULTS,
  type DeployBackfillOptions,
  deadLetterQueueProps,
  deployBackfillInput,
  eventSourceProps,
  exportDatabaseName,
  failureRecorderEnvironment,
  jobEnvironment,
  jobScratchRules,
  LAMBDA_ENTRIES,
  onFailureQueueProps,
  positiveInteger,
  restoreTargetTables,
  type WriterOptions,
  writerEnvironment,
} from './defaults';
import { jobStatements, taskListReads } from './job-grants';
import { JobWorkflow, startOnCreate } from './job-workflow';
import {
  acknowledgeEventTargetQueue,
  acknowledgeNoAccessLogs,
  acknowledgeWildcards,
} from './nag-suppressions';
import { streamSource } from './stream-source';

export interface TableBackupProps
  extends BackupBucketProps,
    WriterOptions,
    AlarmOptions,
    DeployBackfillOptions {
  /**
   * The table to back up: a table of this app (with a NEW_AND_OLD_IMAGES or NEW_IMAGE stream), or
   * the name of an existing table, whose stream is enabled (NEW_AND_OLD_IMAGES) at deploy when
   * it has none.
   */
  readonly table: AnyTable | string;
  /**
   * The stream view type of an existing table, if known: a wrong one fails synth instead of deploy.
   * @default - checked at deploy
   */
  readonly streamViewType?: dynamodb.StreamViewType;
  /**
   * An existing bucket to write to. It must be versioned (the writer refuses one that is not);
   * give its `encryptionKey` when it uses SSE-KMS with a key not defined in this app.
   * @default - a new bucket built from the BackupBucketProps
   */
  readonly bucket?: AnyBucket;
  /**
   * Folder in the bucket for all tables: backups go to `<prefix><table>/`. A '/' is appended.
   * @default '' (the table name is the top folder)
   */
  readonly prefix?: string;
  /**
   * Items the writer writes at once; changes of one item are always written in order.
   * @default 16
   */
  readonly writerConcurrency?: number;
  /**
   * Writer memory, MB.
   * @default 512
   */
  readonly writerMemorySize?: number;
  /**
   * Writer timeout per batch.
   * @default Duration.minutes(1)
   */
  readonly writerTimeout?: Duration;
  /**
   * Stream records per writer invocation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking, to fill batches on quiet tables.
   * @default - no batching window (invoke as soon as records arrive)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failing batch (halved each time) before its position goes to the on-failure
   * queue and becomes a gap in the backup. Many, because a backup must ride out a transient
   * outage; `maxRecordAge` bounds them, and poison records are parked, not retried.
   * @default 500
   */
  readonly retryAttempts?: number;
  /**
   * Records older than this go to the on-failure queue (and become a gap) instead of being retried.
   * @default Duration.hours(24) (the stream's retention)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Concurrent batches per shard (1-10). Above 1 is safe: Lambda keeps the records of one
   * partition key, hence of one item, in order.
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Tables the restore may write (names, `*` wildcards allowed). Never the source table: undo in
   * place with the CLI's `--in-place` and an operator's credentials.
   * @default [`<source>-restore-*`]
   */
  readonly restoreTargetTables?: string[];
  /**
   * Let the undo workflow write the source table itself: the restore function gets GetItem,
   * UpdateItem, DeleteItem and PutItem on it (nothing else: no scan, no batch write). The undo
   * makes each write conditional on the item as it read it (core/aws/undo.ts); IAM cannot tell
   * an undo's write from a restore's, so a restore in place (`inPlace`) is allowed too.
   * @default false (undo into a restore target; undo in place with the CLI and an operator's credentials)
   */
  readonly undoInPlace?: boolean;
  /**
   * Restore function memory, MB.
   * @default 1769 (one vCPU)
   */
  readonly restoreMemorySize?: number;
  /**
   * Partitions restored at once by the restore state machine's Distributed Map.
   * @default 8
   */
  readonly restoreMaxConcurrency?: number;
  /**
   * Memory of the pack, export, verify and backfill functions, MB.
   * @default 1769 (one vCPU)
   */
  readonly jobMemorySize?: number;
  /**
   * Tasks run at once by each map of the pack, export, verify and backfill state machines.
   * @default 8
   */
  readonly jobMaxConcurrency?: number;
  /**
   * Where the export state machine may write (its `out` must be in it).
   * @default - the backup bucket, under `<prefix><table>/_exports/`
   */
  readonly exportBucket?: AnyBucket;
  /**
   * Register every export of the export state machine as a table of a Glue database this
   * construct creates, plus `<table>_latest` over the export of the latest instant, so Athena,
   * Redshift Spectrum or Spark query exports with SQL (docs/cdk.md has the queries).
   * @default false
   */
  readonly exportTables?: boolean;
  /**
   * With `exportTables`: the Glue database's name (lower-case letters, digits and `_`).
   * @default `ddb_rewind_<table>` (the construct's unique id when the table's name is a token)
   */
  readonly exportDatabaseName?: string;
  /**
   * Start the backfill state machine once when the construct is first deployed (after the event
   * source mapping exists), so the backup holds every item, not only those changed since: one
   * strongly consistent scan of the table. Later deploys start nothing.
   * @default true
   */
  readonly backfillOnDeploy?: boolean;
  /**
   * Parallel scan segments of the deploy-time backfill.
   * @default - the backfill job's default
   */
  readonly backfillSegments?: number;
  /**
   * Read capacity units per second the deploy-time backfill may use in total.
   * @default - no limit
   */
  readonly backfillMaxRcu?: number;
  /**
   * Topic that receives the alarms' ALARM and OK notifications.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Iterator-age alarm threshold: how far behind the stream the writer may read.
   * @default Duration.minutes(5)
   */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * Backup-lag alarm threshold: change time to backup write.
   * @default Duration.minutes(10)
   */
  readonly backupLagThreshold?: Duration;
  /**
   * When to start the pack state machine (`ddb-rewind pack`): whole-table restores then read a
   * few large objects instead of one GET per item. Each pack reads only the items changed since
   * the last.
   * @default - no scheduled pack
   */
  readonly packSchedule?: events.Schedule;
  /**
   * With `packSchedule`: packs older than this expire (a lifecycle rule on `<table>/_packs/`,
   * noncurrent copies a day later), added when the bucket is a `Bucket` of this app; on an
   * imported bucket add such a rule yourself. Restores never need an old pack: they fall back to
   * a newer one or to GETs.
   * @default Duration.days(30)
   */
  readonly packRetention?: Duration;
  /**
   * Retention of the functions' and the state machines' logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Continuous per-write backup of one DynamoDB table into a versioned S3 bucket, plus one state
 * machine per job (restore, pack, export, verify, backfill), a backfill at first deploy, and
 * alarms, with least-privilege IAM.
 *
 * @example
 * const orders = new TableBackup(stack, 'Orders', { table: 'orders', alarmTopic: topic });
 * new TableBackup(stack, 'Users', { table: usersTable, bucket: orders.bucket });
 */
export class TableBackup extends Construct {
  /** The source table's name (a token for a table of this app). */
  readonly tableName: string;
  readonly bucket: s3.IBucket;
  /** The bucket's SSE-KMS key, when it has one. */
  readonly encryptionKey: kms.IKey | undefined;
  /** The normalized prefix ('' or ending in '/'). */
  readonly prefix: string;
  readonly writer: lambda.IFunction;
  /** The writer's on-failure queue: positions of stream batches Lambda gave up on. */
  readonly deadLetterQueue: sqs.Queue;
  /** Consumes `deadLetterQueue`: each message becomes a gap marker under `<prefix><table>/_meta/gaps/`. */
  readonly failureRecorder: lambda.IFunction;
  /** Messages of `deadLetterQueue` the failure recorder could not record, kept for a person. */
  readonly failureRecorderDeadLetterQueue: sqs.Queue;
  /** One function per job kind (functions/jobs/handler.ts), each with its own role. */
  readonly jobFunctions: Record<JobKind, lambda.IFunction>;
  /** One state machine per job kind (infra/job-workflow.ts). */
  readonly workflows: Record<JobKind, sfn.StateMachine>;
  /** `jobFunctions.restore` */
  readonly restoreFunction: lambda.IFunction;
  /** `workflows.restore` */
  readonly stateMachine: sfn.StateMachine;
  /** The execution the first deploy starts on `workflows.backfill` (unless `backfillOnDeploy` is false). */
  readonly deployBackfill: cr.AwsCustomResource | undefined;
  /** With `packSchedule`: schedule events that could not start the pack state machine. */
  readonly packScheduleDeadLetterQueue: sqs.Queue | undefined;
  /** Table names or patterns the restore may write. */
  readonly restoreTargetTables: string[];
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  readonly writerErrorsAlarm: cloudwatch.Alarm;
  /** Lost batches the failure recorder could not record (`failureRecorderDeadLetterQueue`). */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly backupLagAlarm: cloudwatch.Alarm;
  /** Lost batches recorded as gaps (`LostBatches`). */
  readonly lostBatchesAlarm: cloudwatch.Alarm;
  /** Poison records parked under `_dead-letter/` (`RecordsParked`). */
  readonly recordsParkedAlarm: cloudwatch.Alarm;
  /** Drift a verify found between the backup and the table (`VerifyDrift`). */
  readonly verifyDriftAlarm: cloudwatch.Alarm;
  /** With `exportTables`: the Glue database every export is registered in. */
  readonly exportDatabase: glue.CfnDatabase | undefined;

  constructor(scope: Construct, id: string, props: TableBackupProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    const name = typeof props.table === 'string' ? props.table : props.table.tableName;
    // Every check first: a bad setting fails before anything is built or bundled.
    const folders = backupFolders(props.prefix ?? DEFAULTS.prefix, name);
    this.prefix = folders.prefix;
    this.restoreTargetTables = restoreTargetTables(name, props.restoreTargetTables);
    const backfillInput = deployBackfillInput(props);
    if (props.exportDatabaseName !== undefined && !props.exportTables) {
      throw new InputError(
        'Expected exportTables: true with exportDatabaseName: the database holds the export tables',
      );
    }
    const glueDatabase = props.exportTables
      ? exportDatabaseName(props.exportDatabaseName, name, Names.uniqueId(this))
      : undefined;
    for (const key of [
      'restoreMemorySize',
      'restoreMaxConcurrency',
      'jobMemorySize',
      'jobMaxConcurrency',
    ] as const)
      positiveInteger(key, props[key]);
    const ignored = props.bucket ? CREATED_BUCKET_OPTIONS.filter((key) => props[key] !== undefined) : [];
    if (!props.bucket) checkBackupBucketProps(props);
    if (ignored.length > 0) {
      throw new InputError(
        `Expected no ${ignored.join(', ')} with \`bucket\`: they shape a bucket this construct creates; set them on the bucket you pass`,
      );
    }
    const source = streamSource(this, props.table, props.streamViewType);
    this.tableName = source.tableName;

    let concrete: s3.Bucket | undefined;
    if (props.bucket) {
      this.bucket = asBucket(props.bucket);
      this.encryptionKey = props.encryptionKey ?? this.bucket.encryptionKey;
      if (props.bucket instanceof s3.Bucket) concrete = props.bucket;
    } else {
      const created = new BackupBucket(this, 'Backup', props);
      if (!props.serverAccessLogsBucket) acknowledgeNoAccessLogs(created.bucket);
      this.bucket = asBucket(created.bucket);
      this.encryptionKey = created.encryptionKey;
      concrete = created.bucket;
    }
    for (const rule of jobScratchRules(folders)) concrete?.addLifecycleRule(rule);
    if (props.noncurrentVersionRetentionDays !== undefined) {
      // Index objects outlive the versions they name by the longest batch span and a day: a
      // window inside the retention horizon still finds every one of them.
      concrete?.addLifecycleRule({
        prefix: folders.changesRoot,
        expiration: Duration.days(props.noncurrentVersionRetentionDays + 2),
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
    if (props.packSchedule) {
      concrete?.addLifecycleRule({
        prefix: folders.packsRoot,
        expiration: props.packRetention ?? Duration.days(30),
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
    const tableArn = Stack.of(this).formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: this.tableName,
    });
    const s3ViaService = { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } };

    // Writer: stream -> S3, nothing else.
    const writer = new BackupFunction(this, 'Writer', {
      entry: LAMBDA_ENTRIES.writer,
      description: 'ddb-rewind: writes each change of the table to the backup bucket',
      memorySize: props.writerMemorySize ?? DEFAULTS.writerMemorySize,
      timeout: props.writerTimeout ?? DEFAULTS.writerTimeout,
      environment: writerEnvironment(this.bucket.bucketName, folders, props),
      logRetention,
    });
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteVersions',
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${folders.tableRoot}*`)],
      }),
    );
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTableDescription',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${folders.metaRoot}*`)],
      }),
    );
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // S3 answers a read of a missing key with 403, not 404, unless the caller may list it:
        // the first write of a table must see "no table.json (or change-index.json) yet" to
        // record one, and whether any item is backed up yet (the index's start, see
        // core/aws/change-index-store.ts).
        sid: 'SeeMissingTableDescription',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${folders.metaRoot}*`, `${folders.itemsRoot}*`] } },
      }),
    );
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckVersioning',
        actions: ['s3:GetBucketVersioning'],
        resources: [this.bucket.bucketArn],
      }),
    );
    writer.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeSourceTable',
        actions: ['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'],
        resources: [tableArn],
      }),
    );
    if (this.encryptionKey) {
      writer.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseBucketKey',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: s3ViaService,
        }),
      );
    }
    this.failureRecorderDeadLetterQueue = new sqs.Queue(
      this,
      'FailureRecorderDeadLetterQueue',
      deadLetterQueueProps(),
    );
    this.deadLetterQueue = new sqs.Queue(
      this,
      'DeadLetterQueue',
      onFailureQueueProps(this.failureRecorderDeadLetterQueue),
    );
    writer.fn.addEventSource(
      new DynamoEventSource(source.table, eventSourceProps(props, new SqsDlq(this.deadLetterQueue))),
    );
    this.writer = writer.fn;
    const streamMapping = writer.fn.node.children.filter((c) => c instanceof lambda.EventSourceMapping);

    // Failure recorder: on-failure queue -> gap markers, nothing else.
    const recorder = new BackupFunction(this, 'FailureRecorder', {
      entry: LAMBDA_ENTRIES.failureRecorder,
      description: 'ddb-rewind: records stream batches Lambda gave up on as gaps in the backup',
      memorySize: DEFAULTS.failureRecorderMemorySize,
      timeout: DEFAULTS.failureRecorderTimeout,
      environment: failureRecorderEnvironment(this.bucket.bucketName, folders),
      logRetention,
    });
    recorder.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteGapMarkers',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${folders.metaRoot}gaps/*`)],
      }),
    );
    if (this.encryptionKey) {
      recorder.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseBucketKey',
          // A single PutObject under SSE-KMS needs a data key only; it reads nothing back.
          actions: ['kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
          conditions: s3ViaService,
        }),
      );
    }
    recorder.fn.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: DEFAULTS.failureRecorderBatchSize,
        reportBatchItemFailures: true,
      }),
    );
    this.failureRecorder = recorder.fn;

    // Jobs: one function and one state machine per kind, each role granting what that job does.
    const exportBucket = props.exportBucket ? asBucket(props.exportBucket) : undefined;
    const exportRoot = exportBucket
      ? `s3://${exportBucket.bucketName}/`
      : `s3://${this.bucket.bucketName}/${folders.exportsRoot}`;
    this.exportDatabase = glueDatabase
      ? new glue.CfnDatabase(this, 'ExportDatabase', {
          catalogId: Stack.of(this).account,
          databaseInput: {
            name: glueDatabase,
            description: `ddb-rewind: one table per export of ${name}, and ${name}_latest`,
          },
        })
      : undefined;
    const glueArn = (resource: string, resourceName?: string) =>
      Stack.of(this).formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
    const grantScope = {
      bucket: this.bucket,
      folders,
      encryptionKey: this.encryptionKey,
      viaS3: s3ViaService,
      sourceTableArn: tableArn,
      undoInPlace: Boolean(props.undoInPlace),
      targetTableArns: this.restoreTargetTables.map((target) =>
        Stack.of(this).formatArn({ service: 'dynamodb', resource: 'table', resourceName: target }),
      ),
      exportTo: exportBucket
        ? { objectsArn: exportBucket.arnForObjects('*'), encryptionKey: exportBucket.encryptionKey }
        : { objectsArn: this.bucket.arnForObjects(`${folders.exportsRoot}*`) },
      ...(glueDatabase
        ? {
            exportCatalogArns: [
              glueArn('catalog'),
              glueArn('database', glueDatabase),
              glueArn('table', `${glueDatabase}/*`),
            ],
          }
        : {}),
    };
    const jobFunctions = {} as Record<JobKind, lambda.IFunction>;
    const workflows = {} as Record<JobKind, sfn.StateMachine>;
    for (const kind of JOB_KINDS) {
      const restore = kind === 'restore' || kind === 'undo';
      const title = `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
      // The undo job runs on the restore function (restore is made first), with its own workflow.
      const job =
        kind === 'undo'
          ? undefined
          : new BackupFunction(this, title, {
              entry: LAMBDA_ENTRIES.jobs,
              description: `ddb-rewind: the ${kind} job's steps (plan, tasks, finish) for its state machine`,
              memorySize: restore
                ? (props.restoreMemorySize ?? DEFAULTS.restoreMemorySize)
                : (props.jobMemorySize ?? DEFAULTS.jobMemorySize),
              timeout: DEFAULTS.jobTimeout,
              environment: jobEnvironment(
                kind,
                this.bucket.bucketName,
                folders,
                kind === 'export' ? exportRoot : undefined,
                kind === 'export' ? glueDatabase : undefined,
              ),
              logRetention,
            });
      for (const statement of job ? jobStatements(kind, grantScope) : [])
        job?.role.addToPrincipalPolicy(statement);
      jobFunctions[kind] = job ? job.fn : jobFunctions.restore;
      workflows[kind] = new JobWorkflow(this, `${title}Workflow`, {
        job: kind,
        jobFunction: jobFunctions[kind],
        tableName: this.tableName,
        bucketName: this.bucket.bucketName,
        prefix: folders.prefix,
        maxConcurrency: restore
          ? (props.restoreMaxConcurrency ?? DEFAULTS.restoreMaxConcurrency)
          : (props.jobMaxConcurrency ?? DEFAULTS.jobMaxConcurrency),
        logRetention,
        taskListReads: taskListReads(grantScope),
      }).stateMachine;
    }
    this.jobFunctions = jobFunctions;
    this.workflows = workflows;
    this.restoreFunction = jobFunctions.restore;
    this.stateMachine = workflows.restore;

    this.packScheduleDeadLetterQueue = undefined;
    if (props.packSchedule) {
      const dlq = new sqs.Queue(this, 'PackScheduleDeadLetterQueue', deadLetterQueueProps());
      acknowledgeEventTargetQueue(dlq);
      new events.Rule(this, 'PackSchedule', {
        description: `ddb-rewind: packs the backup of ${name} for fast whole-table restores`,
        schedule: props.packSchedule,
        targets: [
          new targets.SfnStateMachine(workflows.pack, {
            // The workflow adds its table, bucket and prefix; a pack needs nothing else.
            input: events.RuleTargetInput.fromObject({}),
            retryAttempts: 2,
            deadLetterQueue: dlq,
          }),
        ],
      });
      this.packScheduleDeadLetterQueue = dlq;
    }

    // Items that do not change after the deploy reach the backup only through a backfill: one,
    // started once the stream is being backed up (the backfill is race-safe against it).
    this.deployBackfill =
      (props.backfillOnDeploy ?? DEFAULTS.backfillOnDeploy)
        ? startOnCreate(this, 'BackfillOnDeploy', {
            stateMachine: workflows.backfill,
            input: backfillInput,
            after: streamMapping,
          })
        : undefined;

    const alarms = new BackupAlarms(this, 'Alarms', {
      writer: writer.fn,
      unrecordedQueue: this.failureRecorderDeadLetterQueue,
      tableName: this.tableName,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      ...(props.iteratorAgeThreshold ? { iteratorAgeThreshold: props.iteratorAgeThreshold } : {}),
      ...(props.backupLagThreshold ? { backupLagThreshold: props.backupLagThreshold } : {}),
    });
    this.iteratorAgeAlarm = alarms.iteratorAge;
    this.writerErrorsAlarm = alarms.writerErrors;
    this.deadLetterAlarm = alarms.deadLetters;
    this.backupLagAlarm = alarms.backupLag;
    this.lostBatchesAlarm = alarms.lostBatches;
    this.recordsParkedAlarm = alarms.recordsParked;
    this.verifyDriftAlarm = alarms.verifyDrift;

    // Last, so every grant above (and the event source mapping's) is in the policies checked.
    acknowledgeWildcards(this);
  }
}
