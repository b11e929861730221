import { Match, Template } from 'aws-cdk-lib/assertions';
import { TableBackup } from '../../infra/table-backup';
import {
  actionsOf,
  definitionOf,
  errorAnnotations,
  getAtt,
  logicalId,
  masked,
  nagErrors,
  nagViolations,
  objectsArn,
  roleStatements,
  tableArn,
  testStack,
} from './support';

// One stack with every default, bundled for real by the local esbuild, shared by the whole file.
const stack = testStack();
const backup = new TableBackup(stack, 'Orders', { table: 'orders' });
const template = Template.fromStack(stack);
const bucket = backup.bucket;
const writerRole = backup.writer.role!;
const restoreRole = backup.restoreFunction.role!;
const recorderRole = backup.failureRecorder.role!;
const streamMapping = () =>
  Object.values(
    template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { StartingPosition: 'TRIM_HORIZON' },
    }),
  );

describe('backup bucket defaults', () => {
  it('is versioned, private, S3-encrypted and retained when the stack goes', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps every version forever (its only rules are on _jobs/), without Object Lock or access logs unless asked', () => {
    const props = template.findResources('AWS::S3::Bucket')[logicalId(bucket)]?.Properties;
    const rules = props?.LifecycleConfiguration.Rules as Array<{ Prefix?: string }>;
    expect(rules.map((r) => r.Prefix)).toEqual(['orders/_jobs/', 'orders/_jobs/']);
    expect(props).not.toHaveProperty('ObjectLockEnabled');
    expect(props).not.toHaveProperty('ObjectLockConfiguration');
    expect(props).not.toHaveProperty('LoggingConfiguration');
  });

  it('refuses plain HTTP and TLS before 1.2 for everyone', () => {
    const both = [getAtt(bucket), objectsArn(bucket, '/*')];
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(bucket) },
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: both,
          },
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            Resource: both,
          },
        ],
      },
    });
  });
});

describe('writer', () => {
  it('runs Node.js 22 on arm64 with the environment the handler reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 60,
      Environment: {
        Variables: {
          BACKUP_BUCKET: { Ref: logicalId(bucket) },
          BACKUP_PREFIX: '',
          WRITER_CONCURRENCY: '16',
          POWERTOOLS_SERVICE_NAME: 'ddb-rewind-writer',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      Role: getAtt(writerRole),
    });
  });

  it('reads the stream from the oldest record, bisects, reports item failures and retries 500 times within 24 h', () => {
    expect(streamMapping()).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(backup.writer) },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersStream'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 500,
      MaximumRecordAgeInSeconds: 86_400,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: getAtt(backup.deadLetterQueue) } },
    });
    expect(streamMapping()[0]?.Properties).not.toHaveProperty('MaximumBatchingWindowInSeconds');
  });

  it('sends given-up batches to an encrypted, TLS-only queue kept 14 days, with its own dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[logicalId(backup.deadLetterQueue)]?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      // Six times the failure recorder's timeout, as Lambda advises for SQS event sources.
      VisibilityTimeout: 180,
      RedrivePolicy: {
        deadLetterTargetArn: getAtt(backup.failureRecorderDeadLetterQueue),
        maxReceiveCount: 5,
      },
    });
    expect(queues[logicalId(backup.failureRecorderDeadLetterQueue)]?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    for (const queue of [backup.deadLetterQueue, backup.failureRecorderDeadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    }
  });

  it('may write only its table folder, read only its _meta folder, and describe only its table', () => {
    const statements = roleStatements(template, writerRole);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
    expect(bySid('WriteVersions')).toEqual({
      Sid: 'WriteVersions',
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:PutObject'],
      Resource: objectsArn(bucket, '/orders/*'),
    });
    expect(bySid('ReadTableDescription')).toEqual({
      Sid: 'ReadTableDescription',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objectsArn(bucket, '/orders/_meta/*'),
    });
    expect(bySid('SeeMissingTableDescription')).toEqual({
      Sid: 'SeeMissingTableDescription',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: getAtt(bucket),
      // table.json and change-index.json missing, or no item backed up yet (the index's start)
      Condition: { StringLike: { 's3:prefix': ['orders/_meta/*', 'orders/v1/*'] } },
    });
    expect(bySid('CheckVersioning')).toEqual({
      Sid: 'CheckVersioning',
      Effect: 'Allow',
      Action: 's3:GetBucketVersioning',
      Resource: getAtt(bucket),
    });
    expect(bySid('DescribeSourceTable')).toEqual({
      Sid: 'DescribeSourceTable',
      Effect: 'Allow',
      Action: ['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'],
      Resource: tableArn('orders'),
    });
  });

  it('gets nothing else but its logs, the queue and the stream (added by the event source mapping)', () => {
    const statements = roleStatements(template, writerRole);
    expect(actionsOf(statements)).toEqual([
      'Allow dynamodb:DescribeStream',
      'Allow dynamodb:DescribeTable',
      'Allow dynamodb:DescribeTimeToLive',
      'Allow dynamodb:GetRecords',
      'Allow dynamodb:GetShardIterator',
      'Allow dynamodb:ListStreams',
      'Allow logs:CreateLogStream',
      'Allow logs:PutLogEvents',
      'Allow s3:DeleteObject',
      'Allow s3:GetBucketVersioning',
      'Allow s3:GetObject',
      'Allow s3:ListBucket',
      'Allow s3:PutObject',
      'Allow sqs:GetQueueAttributes',
      'Allow sqs:GetQueueUrl',
      'Allow sqs:SendMessage',
    ]);
    const streamRead = statements.find(
      (s) => Array.isArray(s.Action) && s.Action.includes('dynamodb:GetRecords'),
    );
    expect(streamRead?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^OrdersStream/), 'StreamArn'],
    });
    const role = template.findResources('AWS::IAM::Role')[logicalId(writerRole)];
    expect(role?.Properties).not.toHaveProperty('ManagedPolicyArns');
  });
});

describe('failure recorder', () => {
  it('runs Node.js 22 on arm64 with the environment the handler reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      Environment: {
        Variables: {
          BACKUP_BUCKET: { Ref: logicalId(bucket) },
          BACKUP_PREFIX: '',
          POWERTOOLS_SERVICE_NAME: 'ddb-rewind-failure-recorder',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      Role: getAtt(recorderRole),
    });
  });

  it('consumes the on-failure queue ten messages at a time, reporting the ones it could not record', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(backup.failureRecorder) },
      EventSourceArn: getAtt(backup.deadLetterQueue),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('may only write gap markers of its table and consume its queue', () => {
    const statements = roleStatements(template, recorderRole);
    expect(statements.find((s) => s.Sid === 'WriteGapMarkers')).toEqual({
      Sid: 'WriteGapMarkers',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: objectsArn(bucket, '/orders/_meta/gaps/*'),
    });
    expect(actionsOf(statements)).toEqual([
      'Allow logs:CreateLogStream',
      'Allow logs:PutLogEvents',
      'Allow s3:PutObject',
      'Allow sqs:ChangeMessageVisibility',
      'Allow sqs:DeleteMessage',
      'Allow sqs:GetQueueAttributes',
      'Allow sqs:GetQueueUrl',
      'Allow sqs:ReceiveMessage',
    ]);
    const consume = statements.find(
      (s) => Array.isArray(s.Action) && s.Action.includes('sqs:ReceiveMessage'),
    );
    expect(consume?.Resource).toEqual(getAtt(backup.deadLetterQueue));
  });
});

describe('stream of an existing table', () => {
  it('is enabled or checked at deploy by a custom resource that may touch only that table', () => {
    template.hasResourceProperties('Custom::DdbRewindStream', { TableName: 'orders' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:DescribeTable', 'dynamodb:UpdateTable'],
            Resource: tableArn('orders'),
          },
        ],
      },
    });
  });
});

describe('restore (job-workflows.test.ts covers all six jobs)', () => {
  it('runs functions/jobs/handler.ts on Node.js 22 arm64 for up to 15 minutes, restore and undo jobs only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      MemorySize: 1769,
      Environment: {
        Variables: {
          BACKUP_BUCKET: { Ref: logicalId(bucket) },
          BACKUP_PREFIX: '',
          DDB_REWIND_JOBS: 'restore,undo',
          POWERTOOLS_SERVICE_NAME: 'ddb-rewind-restore',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
      Role: getAtt(restoreRole),
    });
    // Every job function is the same bundle, told apart by DDB_REWIND_JOBS.
    const jobCode = (fn: (typeof backup.jobFunctions)['restore']) =>
      JSON.stringify(template.findResources('AWS::Lambda::Function')[logicalId(fn)]?.Properties.Code);
    for (const kind of ['pack', 'export', 'verify', 'backfill'] as const) {
      expect(jobCode(backup.jobFunctions[kind])).toBe(jobCode(backup.restoreFunction));
    }
  });

  it('may list and read only its table folder, write S3 only under _jobs/, write only <source>-restore-* tables, never the source', () => {
    const statements = roleStatements(template, restoreRole);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: getAtt(backup.restoreFunction.node.scope!.node.findChild('Logs')),
      },
      {
        Sid: 'ListBackup',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions'],
        Resource: getAtt(bucket),
        Condition: { StringLike: { 's3:prefix': ['orders/*'] } },
      },
      {
        Sid: 'ReadBackup',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: objectsArn(bucket, '/orders/*'),
      },
      {
        Sid: 'ReadRetentionRules',
        Effect: 'Allow',
        Action: 's3:GetLifecycleConfiguration',
        Resource: getAtt(bucket),
      },
      {
        Sid: 'JobScratch',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:PutObject'],
        Resource: objectsArn(bucket, '/orders/_jobs/*'),
      },
      {
        Sid: 'WriteTargetTables',
        Effect: 'Allow',
        Action: RESTORE_ACTIONS,
        Resource: tableArn('orders-restore-*'),
      },
      { Sid: 'NeverTheSource', Effect: 'Deny', Action: RESTORE_ACTIONS, Resource: tableArn('orders') },
    ]);
  });

  it('is a state machine: Plan, Prepare and Partitions maps, Finish, on the restore function for this table', () => {
    const definition = definitionOf(template, backup.stateMachine);
    expect(definition.StartAt).toBe('Plan');
    expect(definition.QueryLanguage).toBe('JSONata');
    expect(definition.States.Plan?.Next).toBe('PrepareIfAny');
    expect(definition.States.Plan?.Arguments).toMatchObject({
      Payload: `{% $merge([$states.input, {"job":"restore","step":"plan","table":"orders","bucket":"ref-${logicalId(bucket)}","prefix":""}]) %}`,
    });
    expect(definition.States.Partitions).toMatchObject({ Type: 'Map', MaxConcurrency: 8, Next: 'Finish' });
    expect(backup.stateMachine).toBe(backup.workflows.restore);
  });

  it('logs every state machine event without execution data, with X-Ray tracing', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 6);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('lets the state machine invoke only the restore function', () => {
    const statements = roleStatements(template, backup.stateMachine.role);
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          getAtt(backup.restoreFunction),
          { 'Fn::Join': ['', [getAtt(backup.restoreFunction), ':*']] },
        ],
      },
    ]);
  });
});

describe('alarms', () => {
  const common = { EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Period: 300 };

  it('has exactly seven, without actions when no topic is given', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties).not.toHaveProperty('AlarmActions');
    }
  });

  it('fires when the writer reads more than 5 minutes behind the stream', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 300_000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(backup.writer) } }],
    });
  });

  it('fires on any writer error within 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 0,
    });
  });

  it("fires when the failure recorder's dead-letter queue holds a message (a lost batch not recorded)", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 0,
      Dimensions: [{ Name: 'QueueName', Value: getAtt(backup.failureRecorderDeadLetterQueue, 'QueueName') }],
    });
  });

  it.each([
    ['LostBatches', 'failure-recorder'],
    ['RecordsParked', 'writer'],
    ['VerifyDrift', 'verify'],
  ])('fires on a single %s of the table, and not on missing data', (metric, service) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Namespace: 'ddb-rewind',
      MetricName: metric,
      Statistic: 'Sum',
      Threshold: 1,
      Dimensions: [
        { Name: 'service', Value: service },
        { Name: 'table', Value: 'orders' },
      ],
      TreatMissingData: 'notBreaching',
    });
  });

  it("fires when the writer's BackupLagMs exceeds 10 minutes, and not on missing data", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'ddb-rewind',
      MetricName: 'BackupLagMs',
      Statistic: 'Maximum',
      Threshold: 600_000,
      // Powertools adds the service dimension beside `table`; CloudWatch matches the full set.
      Dimensions: [
        { Name: 'service', Value: 'writer' },
        { Name: 'table', Value: 'orders' },
      ],
      TreatMissingData: 'notBreaching',
    });
  });

  it('exposes the alarms as properties', () => {
    expect(backup.iteratorAgeAlarm.node.path).toBe('Test/Orders/Alarms/IteratorAge');
    expect(backup.writerErrorsAlarm.node.path).toBe('Test/Orders/Alarms/WriterErrors');
    expect(backup.deadLetterAlarm.node.path).toBe('Test/Orders/Alarms/DeadLetters');
    expect(backup.backupLagAlarm.node.path).toBe('Test/Orders/Alarms/BackupLag');
    expect(backup.lostBatchesAlarm.node.path).toBe('Test/Orders/Alarms/LostBatches');
    expect(backup.recordsParkedAlarm.node.path).toBe('Test/Orders/Alarms/RecordsParked');
    expect(backup.verifyDriftAlarm.node.path).toBe('Test/Orders/Alarms/VerifyDrift');
  });
});

describe('whole template', () => {
  it('gives no role a managed policy (each grants only what its function does)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });

  it('passes the AWS Solutions checks with only reasoned acknowledgments', () => {
    expect(nagErrors(stack)).toEqual([]);
    expect(nagViolations(stack)).toEqual([]);
    expect(errorAnnotations(stack)).toEqual([]);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(masked(template)).toMatchSnapshot();
  });
});

const RESTORE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:CreateTable',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
  'dynamodb:UpdateTimeToLive',
];
