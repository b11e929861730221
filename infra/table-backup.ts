import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { InputError } from '../core/errors';
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
  deadLetterQueueProps,
  eventSourceProps,
  failureRecorderEnvironment,
  onFailureQueueProps,
  restoreEnvironment,
  restoreTargetTables,
  type WriterOptions,
  writerEnvironment,
} from './defaults';
import { acknowledgeNoAccessLogs, acknowledgeWildcards } from './nag-suppressions';
import { RestoreWorkflow } from './restore-workflow';
import { streamSource } from './stream-source';

export interface TableBackupProps extends BackupBucketProps, WriterOptions, AlarmOptions {
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
   * Restore function memory, MB.
   * @default 1769 (one vCPU)
   */
  readonly restoreMemorySize?: number;
  /**
   * Partitions restored at once by the state machine's Distributed Map.
   * @default 8
   */
  readonly restoreMaxConcurrency?: number;
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
   * When to write a pack of the backup (`ddb-rewind pack`): whole-table restores then read a few
   * large objects instead of one GET per item. Each pack reads only the items changed since the
   * last; the restore function runs it, so the backup must be listable within its 15 minutes
   * (larger tables: run `ddb-rewind pack` on a host, on a schedule of your own).
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
   * Retention of the functions' and the state machine's logs.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Continuous per-write backup of one DynamoDB table into a versioned S3 bucket, plus a
 * point-in-time restore state machine and alarms, with least-privilege IAM.
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
  readonly restoreFunction: lambda.IFunction;
  readonly stateMachine: sfn.StateMachine;
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

  constructor(scope: Construct, id: string, props: TableBackupProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    const name = typeof props.table === 'string' ? props.table : props.table.tableName;
    // Every check first: a bad setting fails before anything is built or bundled.
    const folders = backupFolders(props.prefix ?? DEFAULTS.prefix, name);
    this.prefix = folders.prefix;
    this.restoreTargetTables = restoreTargetTables(name, props.restoreTargetTables);
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
    if (props.packSchedule) {
      concrete?.addLifecycleRule({
        prefix: `${folders.tableRoot}_packs/`,
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
      entry: 'functions/stream-writer/handler.ts',
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
        // the first write of a table must see "no table.json yet" to record one.
        sid: 'SeeMissingTableDescription',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${folders.metaRoot}*`] } },
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

    // Failure recorder: on-failure queue -> gap markers, nothing else.
    const recorder = new BackupFunction(this, 'FailureRecorder', {
      entry: 'functions/failure-recorder/handler.ts',
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

    // Restore: backup -> target tables, never the source.
    const restore = new BackupFunction(this, 'Restore', {
      entry: 'functions/restore/handler.ts',
      description: 'ddb-rewind: restores the table as of an instant into a target table',
      memorySize: props.restoreMemorySize ?? DEFAULTS.restoreMemorySize,
      timeout: Duration.minutes(15),
      environment: restoreEnvironment(this.bucket.bucketName, folders),
      logRetention,
    });
    restore.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListBackup',
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${folders.tableRoot}*`] } },
      }),
    );
    restore.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBackup',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects(`${folders.tableRoot}*`)],
      }),
    );
    restore.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // Readers refuse instants whose versions a lifecycle rule may have deleted (core/retention.ts).
        sid: 'ReadRetentionRules',
        actions: ['s3:GetLifecycleConfiguration'],
        resources: [this.bucket.bucketArn],
      }),
    );
    if (props.packSchedule) {
      restore.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'WritePacks',
          actions: ['s3:PutObject'],
          resources: [this.bucket.arnForObjects(`${folders.tableRoot}_packs/*`)],
        }),
      );
      new events.Rule(this, 'PackSchedule', {
        description: `ddb-rewind: packs the backup of ${name} for fast whole-table restores`,
        schedule: props.packSchedule,
        targets: [
          new targets.LambdaFunction(restore.fn, {
            event: events.RuleTargetInput.fromObject({
              action: 'pack',
              table: this.tableName,
              bucket: this.bucket.bucketName,
              prefix: folders.prefix,
            }),
            retryAttempts: 2,
          }),
        ],
      });
    }
    if (this.encryptionKey) {
      restore.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseBucketKey',
          actions: props.packSchedule ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: s3ViaService,
        }),
      );
    }
    const targetArns = this.restoreTargetTables.map((name) =>
      Stack.of(this).formatArn({ service: 'dynamodb', resource: 'table', resourceName: name }),
    );
    restore.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteTargetTables',
        actions: RESTORE_TABLE_ACTIONS,
        resources: targetArns,
      }),
    );
    restore.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // Belt and braces: no target pattern can ever open the source table.
        sid: 'NeverTheSource',
        effect: iam.Effect.DENY,
        actions: RESTORE_TABLE_ACTIONS,
        resources: [tableArn],
      }),
    );
    this.restoreFunction = restore.fn;
    this.stateMachine = new RestoreWorkflow(this, 'RestoreWorkflow', {
      restoreFunction: restore.fn,
      tableName: this.tableName,
      bucketName: this.bucket.bucketName,
      prefix: folders.prefix,
      maxConcurrency: props.restoreMaxConcurrency ?? DEFAULTS.restoreMaxConcurrency,
      logRetention,
    }).stateMachine;

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

    // Last, so every grant above (and the event source mapping's) is in the policies checked.
    acknowledgeWildcards(this);
  }
}

/** What the restore does to a target table (core/aws/restore.ts, target-table.ts, target-snapshot.ts). */
const RESTORE_TABLE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:DescribeTable',
  'dynamodb:Scan',
  'dynamodb:CreateTable',
  'dynamodb:UpdateTimeToLive',
];
