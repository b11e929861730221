import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupBucket } from '../../infra/backup-bucket';
import { TableBackup } from '../../infra/table-backup';
import {
  definitionOf,
  getAtt,
  logicalId,
  nagErrors,
  nagViolations,
  objectsArn,
  roleStatements,
  tableArn,
  testStack,
} from './support';

// Non-default settings, each a property of the template. Bundling is skipped (placeholder code):
// the default stack in table-backup.test.ts bundles for real.

describe('a hardened bucket: KMS key created, lifecycle, Object Lock, access logs', () => {
  const stack = testStack({ fast: true });
  const logs = new s3.Bucket(stack, 'AccessLogs', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  const backup = new TableBackup(stack, 'Orders', {
    table: 'orders',
    encryption: 'KMS',
    noncurrentVersionRetentionDays: 400,
    noncurrentVersionTransition: { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, afterDays: 90 },
    objectLock: { mode: 'COMPLIANCE', days: 30 },
    serverAccessLogsBucket: logs,
  });
  const template = Template.fromStack(stack);
  const key = backup.encryptionKey!;

  it('encrypts with a created, rotated, retained KMS key and an S3 bucket key', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(key) },
          },
        ],
      },
    });
  });

  it('lets the writer and every job encrypt and read, the failure recorder only encrypt, through S3 only', () => {
    const viaS3 = {
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    };
    expect(roleStatements(template, backup.writer.role!)).toContainEqual({
      Sid: 'UseBucketKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: getAtt(key),
      Condition: viaS3,
    });
    expect(roleStatements(template, backup.failureRecorder.role!)).toContainEqual({
      Sid: 'UseBucketKey',
      Effect: 'Allow',
      Action: 'kms:GenerateDataKey',
      Resource: getAtt(key),
      Condition: viaS3,
    });
    // Every job writes its scratch (results, spills, checkpoints) under _jobs/.
    for (const fn of Object.values(backup.jobFunctions)) {
      expect(roleStatements(template, fn.role!)).toContainEqual({
        Sid: 'UseBucketKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: getAtt(key),
        Condition: viaS3,
      });
    }
  });

  it('expires noncurrent versions after the retention, moving them to a readable colder class first', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'noncurrent-versions',
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 400 },
            NoncurrentVersionTransitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
            ExpiredObjectDeleteMarker: true,
          },
        ]),
      },
    });
  });

  it('expires change index objects two days after the versions they name may go', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'orders/_changes/',
            ExpirationInDays: 402,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('locks every version with the chosen mode and days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    });
  });

  it('sends server access logs to the separate bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(logs) }, LogFilePrefix: 'ddb-rewind/' },
    });
  });

  it('passes the AWS Solutions checks (the log bucket itself aside)', () => {
    expect(nagErrors(backup)).toEqual([]);
  });
});

describe('a given KMS key', () => {
  const stack = testStack({ fast: true });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders', encryptionKey: key });
  const template = Template.fromStack(stack);

  it('is used for the bucket and the grants, and no other key is made', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(backup.encryptionKey).toBe(key);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(key) },
          }),
        ],
      },
    });
  });
});

describe('a shared BackupBucket with SSE-KMS', () => {
  const stack = testStack({ fast: true });
  const backups = new BackupBucket(stack, 'Backups', { encryption: 'KMS' });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders', bucket: backups.bucket });
  const template = Template.fromStack(stack);

  it('brings its key along: the functions get their grants without naming it', () => {
    expect(backup.encryptionKey).toBe(backups.encryptionKey);
    expect(roleStatements(template, backup.writer.role!)).toContainEqual(
      expect.objectContaining({ Sid: 'UseBucketKey', Resource: getAtt(backups.encryptionKey!) }),
    );
  });
});

describe('an existing bucket, a prefix, writer and restore tuning, an alarm topic', () => {
  const stack = testStack({ fast: true });
  const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'company-backups');
  const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
  const backup = new TableBackup(stack, 'Orders', {
    table: 'orders',
    bucket,
    prefix: 'ddb',
    writerConcurrency: 32,
    writerMemorySize: 1024,
    batchSize: 500,
    maxBatchingWindow: Duration.seconds(5),
    retryAttempts: 3,
    maxRecordAge: Duration.hours(6),
    parallelizationFactor: 4,
    restoreTargetTables: ['orders-copy', 'orders-dr-*'],
    restoreMemorySize: 3008,
    restoreMaxConcurrency: 20,
    alarmTopic: topic,
    iteratorAgeThreshold: Duration.minutes(2),
    backupLagThreshold: Duration.minutes(30),
  });
  const template = Template.fromStack(stack);
  const bucketArn = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::company-backups']],
  };
  const objects = (suffix: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::company-backups${suffix}`]],
  });

  it('creates no bucket and writes under <prefix>/<table>/ of the given one', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Environment: {
        Variables: Match.objectLike({
          BACKUP_BUCKET: 'company-backups',
          BACKUP_PREFIX: 'ddb/',
          WRITER_CONCURRENCY: '32',
        }),
      },
    });
    const writer = roleStatements(template, backup.writer.role!);
    expect(writer).toContainEqual(
      expect.objectContaining({ Sid: 'WriteVersions', Resource: objects('/ddb/orders/*') }),
    );
    expect(writer).toContainEqual(
      expect.objectContaining({ Sid: 'ReadTableDescription', Resource: objects('/ddb/orders/_meta/*') }),
    );
    expect(writer).toContainEqual(expect.objectContaining({ Sid: 'CheckVersioning', Resource: bucketArn }));
    expect(roleStatements(template, backup.failureRecorder.role!)).toContainEqual(
      expect.objectContaining({ Sid: 'WriteGapMarkers', Resource: objects('/ddb/orders/_meta/gaps/*') }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BACKUP_BUCKET: 'company-backups',
          BACKUP_PREFIX: 'ddb/',
          POWERTOOLS_SERVICE_NAME: 'ddb-rewind-failure-recorder',
        }),
      },
    });
    const restore = roleStatements(template, backup.restoreFunction.role!);
    expect(restore).toContainEqual(
      expect.objectContaining({
        Sid: 'ListBackup',
        Condition: { StringLike: { 's3:prefix': ['ddb/orders/*'] } },
      }),
    );
  });

  it('tunes the event source mapping', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 4,
    });
  });

  it('restores only into the given tables, with the given memory and concurrency', () => {
    const write = roleStatements(template, backup.restoreFunction.role!).find(
      (s) => s.Sid === 'WriteTargetTables',
    );
    expect(write?.Resource).toEqual([tableArn('orders-copy'), tableArn('orders-dr-*')]);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 3008, Timeout: 900 });
    const definition = definitionOf(template, backup.stateMachine);
    expect(definition.States.Partitions?.MaxConcurrency).toBe(20);
    expect(definition.States.Prepare?.MaxConcurrency).toBe(20);
    // The other jobs keep their own defaults.
    expect(definitionOf(template, backup.workflows.pack).States.Partitions?.MaxConcurrency).toBe(8);
  });

  it('notifies the topic on ALARM and OK, with the given thresholds', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalId(topic) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: logicalId(topic) }]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 120_000,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackupLagMs',
      Threshold: 1_800_000,
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(backup)).toEqual([]);
  });
});

describe('a table defined in the same app', () => {
  const stack = testStack({ fast: true });
  const table = new dynamodb.Table(stack, 'Users', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  });
  const backup = new TableBackup(stack, 'UsersBackup', { table });
  const template = Template.fromStack(stack);

  it("reads the table's own stream, with no custom resource", () => {
    template.resourceCountIs('Custom::DdbRewindStream', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(table, 'StreamArn'),
    });
  });

  it("scopes IAM and the alarm to the table's name as CloudFormation resolves it", () => {
    const name = { Ref: logicalId(table) };
    expect(roleStatements(template, backup.writer.role!)).toContainEqual(
      expect.objectContaining({
        Sid: 'WriteVersions',
        Resource: { 'Fn::Join': ['', [getAtt(backup.bucket), '/', name, '/*']] },
      }),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BackupLagMs',
      Dimensions: [
        { Name: 'service', Value: 'writer' },
        { Name: 'table', Value: name },
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'LostBatches',
      Dimensions: [
        { Name: 'service', Value: 'failure-recorder' },
        { Name: 'table', Value: name },
      ],
    });
    expect(roleStatements(template, backup.failureRecorder.role!)).toContainEqual(
      expect.objectContaining({
        Sid: 'WriteGapMarkers',
        Resource: { 'Fn::Join': ['', [getAtt(backup.bucket), '/', name, '/_meta/gaps/*']] },
      }),
    );
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(backup)).toEqual([]);
  });
});

describe('a TableV2 with a NEW_IMAGE stream', () => {
  const stack = testStack({ fast: true });
  const table = new dynamodb.TableV2(stack, 'Events', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
  });
  new TableBackup(stack, 'EventsBackup', { table });

  it('is accepted: its records carry the new image', () => {
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(table, 'StreamArn'),
    });
  });
});

describe('two tables in one stack', () => {
  const stack = testStack({ fast: true });
  const orders = new TableBackup(stack, 'Orders', { table: 'orders' });
  new TableBackup(stack, 'Users', { table: 'users', bucket: orders.bucket });
  const template = Template.fromStack(stack);

  it('share one bucket and one stream-enabling provider, each with its own grant', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('Custom::DdbRewindStream', 2);
    // Per table: the stream's mapping and the on-failure queue's.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 12);
    // One deploy-time backfill each, through one provider function.
    template.resourceCountIs('Custom::DdbRewindStartExecution', 2);
    const providers = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'framework.onEvent' },
    });
    expect(Object.keys(providers)).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Resource: tableArn('users') })] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'WriteVersions', Resource: objectsArn(orders.bucket, '/users/*') }),
        ]),
      },
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(stack)).toEqual([]);
  });
});

describe('a pack schedule', () => {
  const stack = testStack({ fast: true });
  const backup = new TableBackup(stack, 'Orders', {
    table: 'orders',
    encryption: 'KMS',
    packSchedule: events.Schedule.rate(Duration.days(1)),
  });
  const template = Template.fromStack(stack);

  it('starts the pack state machine every day with an empty request, undeliverable events to a queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        {
          Id: Match.anyValue(),
          Arn: { Ref: logicalId(backup.workflows.pack) },
          RoleArn: Match.anyValue(),
          // The workflow adds its own table, bucket and prefix.
          Input: '{}',
          RetryPolicy: { MaximumRetryAttempts: 2 },
          DeadLetterConfig: { Arn: getAtt(backup.packScheduleDeadLetterQueue!) },
        },
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('lets the rule start only the pack state machine', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as {
      Properties: { Targets: Array<{ RoleArn: { 'Fn::GetAtt': [string, string] } }> };
    };
    const roleId = rule.Properties.Targets[0]?.RoleArn['Fn::GetAtt'][0];
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleId }] },
    });
    expect(Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: logicalId(backup.workflows.pack) },
      },
    ]);
  });

  it('expires packs after 30 days, and their noncurrent copies a day later', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'orders/_packs/',
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('leaves the restore function without pack writes (the pack function has them)', () => {
    const statements = roleStatements(template, backup.restoreFunction.role!);
    expect(statements.find((s) => s.Sid === 'WritePacks')).toBeUndefined();
    expect(roleStatements(template, backup.jobFunctions.pack.role!)).toContainEqual({
      Sid: 'WritePacks',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: objectsArn(backup.bucket, '/orders/_packs/*'),
    });
    expect(nagErrors(backup)).toEqual([]);
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('no pack schedule (the default)', () => {
  const stack = testStack({ fast: true });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders' });
  const template = Template.fromStack(stack);

  it('has no rule, no pack lifecycle, and no queue for it', () => {
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(JSON.stringify(template.findResources('AWS::S3::Bucket'))).not.toContain('_packs');
    expect(backup.packScheduleDeadLetterQueue).toBeUndefined();
  });
});

describe('export tables (a Glue database over the exports)', () => {
  const stack = testStack({ fast: true });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders-v2', exportTables: true });
  const template = Template.fromStack(stack);
  const glueArn = (resource: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':glue:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  });

  it('creates one database named after the table', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'ddb_rewind_orders_v2', Description: Match.stringLikeRegexp('orders-v2') },
    });
    expect(backup.exportDatabase).toBeDefined();
  });

  it('tells only the export function the database, and lets only it register tables there', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DDB_REWIND_JOBS: 'export',
          DDB_REWIND_GLUE_DATABASE: 'ddb_rewind_orders_v2',
        }),
      },
    });
    expect(roleStatements(template, backup.jobFunctions.export.role!)).toContainEqual({
      Sid: 'RegisterExports',
      Effect: 'Allow',
      Action: ['glue:CreateTable', 'glue:GetTable', 'glue:UpdateTable'],
      Resource: [
        glueArn('catalog'),
        glueArn('database/ddb_rewind_orders_v2'),
        glueArn('table/ddb_rewind_orders_v2/*'),
      ],
    });
    for (const kind of ['restore', 'pack', 'verify', 'backfill'] as const) {
      const statements = JSON.stringify(roleStatements(template, backup.jobFunctions[kind].role!));
      expect(statements).not.toContain('glue:');
    }
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.filter((f) => JSON.stringify(f).includes('DDB_REWIND_GLUE_DATABASE'))).toHaveLength(1);
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(backup)).toEqual([]);
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('export tables: names', () => {
  it('takes a given database name, and refuses one Athena cannot query or one without exportTables', () => {
    const stack = testStack({ fast: true });
    new TableBackup(stack, 'Orders', {
      table: 'orders',
      exportTables: true,
      exportDatabaseName: 'analytics',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: 'analytics' },
    });
    expect(
      () =>
        new TableBackup(testStack({ fast: true }), 'O', {
          table: 'orders',
          exportTables: true,
          exportDatabaseName: 'My-DB',
        }),
    ).toThrow(
      /exportDatabaseName "My-DB" is not a Glue database name Athena can query: use 1-255 lower-case letters, digits and _/,
    );
    expect(
      () =>
        new TableBackup(testStack({ fast: true }), 'O', { table: 'orders', exportDatabaseName: 'analytics' }),
    ).toThrow(/Expected exportTables: true with exportDatabaseName/);
  });

  it("names the database after the construct when the table's name is a token", () => {
    const stack = testStack({ fast: true });
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    new TableBackup(stack, 'Orders', { table, exportTables: true });
    Template.fromStack(stack).hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: Match.stringLikeRegexp('^ddb_rewind_[a-z0-9_]+$') },
    });
  });

  it('creates no database without exportTables (the default)', () => {
    const stack = testStack({ fast: true });
    new TableBackup(stack, 'Orders', { table: 'orders' });
    Template.fromStack(stack).resourceCountIs('AWS::Glue::Database', 0);
  });
});

describe('undo in place (undoInPlace: true)', () => {
  const stack = testStack({ fast: true });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders', undoInPlace: true });
  const template = Template.fromStack(stack);
  const statements = roleStatements(template, backup.jobFunctions.restore.role!);
  const sid = (id: string) => statements.find((s) => s.Sid === id);

  it("gives the restore function the undo's item calls on the source table, and nothing more", () => {
    expect(sid('UndoInPlace')).toEqual({
      Sid: 'UndoInPlace',
      Effect: 'Allow',
      Action: [
        'dynamodb:DeleteItem',
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      Resource: tableArn('orders'),
    });
    // Still denied on the source: scans, batch writes, table creation and TTL changes.
    expect(sid('NeverTheSource')).toMatchObject({
      Effect: 'Deny',
      Action: [
        'dynamodb:BatchWriteItem',
        'dynamodb:CreateTable',
        'dynamodb:Scan',
        'dynamodb:UpdateTimeToLive',
      ],
      Resource: tableArn('orders'),
    });
  });

  it('runs the undo workflow on that function', () => {
    expect(backup.jobFunctions.undo).toBe(backup.jobFunctions.restore);
    const def = JSON.stringify(definitionOf(template, backup.workflows.undo));
    expect(def).toContain('\\"job\\":\\"undo\\"');
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(backup)).toEqual([]);
  });
});

describe('undo by default: the source table stays denied to the restore function', () => {
  const stack = testStack({ fast: true });
  const backup = new TableBackup(stack, 'Orders', { table: 'orders' });
  const statements = roleStatements(Template.fromStack(stack), backup.jobFunctions.restore.role!);

  it('has no UndoInPlace grant, and denies every restore action on the source', () => {
    expect(statements.find((s) => s.Sid === 'UndoInPlace')).toBeUndefined();
    const deny = statements.find((s) => s.Sid === 'NeverTheSource');
    expect(deny?.Action).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem']),
    );
  });
});
