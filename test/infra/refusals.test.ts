import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { appConfig } from '../../infra/app-context';
import { TableBackup, type TableBackupProps } from '../../infra/table-backup';
import { testStack } from './support';

// Settings that cannot work fail at synth, with a message that names the problem and the fix.
// Nothing here synthesizes: construction throws first.

const build = (props: Partial<TableBackupProps> & Pick<TableBackupProps, 'table'>) => {
  const stack = testStack({ fast: true });
  return () => new TableBackup(stack, 'Backup', props);
};

const tableWith = (stream: dynamodb.StreamViewType | undefined) => {
  const stack = testStack({ fast: true });
  const table = new dynamodb.Table(stack, 'Orders', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...(stream ? { stream } : {}),
  });
  return () => new TableBackup(stack, 'Backup', { table });
};

describe('stream view type', () => {
  it.each([dynamodb.StreamViewType.KEYS_ONLY, dynamodb.StreamViewType.OLD_IMAGE])(
    'refuses a table of the app with a %s stream, naming the table and NEW_AND_OLD_IMAGES',
    (viewType) => {
      expect(tableWith(viewType)).toThrow(
        new RegExp(
          `^Table Test/Orders has a ${viewType} stream, whose records carry no new image to back up: set its StreamViewType to NEW_AND_OLD_IMAGES\\. Set \`stream: StreamViewType\\.NEW_AND_OLD_IMAGES\``,
        ),
      );
    },
  );

  it('refuses a table of the app without a stream', () => {
    expect(tableWith(undefined)).toThrow(/^Table Test\/Orders has no stream.*NEW_AND_OLD_IMAGES/);
  });

  it('refuses an existing table whose known view type is OLD_IMAGE, saying how to re-enable the stream', () => {
    expect(build({ table: 'orders', streamViewType: dynamodb.StreamViewType.OLD_IMAGE })).toThrow(
      /^Table orders has a OLD_IMAGE stream.*NEW_AND_OLD_IMAGES.*update-table --table-name orders/,
    );
  });

  it('accepts an existing table with a NEW_IMAGE stream', () => {
    expect(build({ table: 'orders', streamViewType: dynamodb.StreamViewType.NEW_IMAGE })).not.toThrow();
  });
});

describe('bucket options', () => {
  it.each([
    [s3.StorageClass.GLACIER, 30, /GLACIER.*restore request/],
    [s3.StorageClass.DEEP_ARCHIVE, 30, /DEEP_ARCHIVE.*restore request/],
    [s3.StorageClass.INFREQUENT_ACCESS, 10, /at least 30 for STANDARD_IA/],
  ])('refuses a transition to %s after %d days', (storageClass, afterDays, message) => {
    expect(build({ table: 'orders', noncurrentVersionTransition: { storageClass, afterDays } })).toThrow(
      message,
    );
  });

  it('fails before building anything (no stream resource, no bundling)', () => {
    const stack = testStack({ fast: true });
    const transition = { storageClass: s3.StorageClass.GLACIER, afterDays: 30 };
    expect(
      () => new TableBackup(stack, 'Backup', { table: 'orders', noncurrentVersionTransition: transition }),
    ).toThrow();
    expect(stack.node.tryFindChild('DdbRewindStreamEnabler')).toBeUndefined();
  });

  it('refuses a transition that comes after the expiry', () => {
    expect(
      build({
        table: 'orders',
        noncurrentVersionRetentionDays: 60,
        noncurrentVersionTransition: {
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          afterDays: 90,
        },
      }),
    ).toThrow(/afterDays.*\(90\) to be less than `noncurrentVersionRetentionDays` \(60\)/);
  });

  it.each([
    ['noncurrentVersionRetentionDays', { noncurrentVersionRetentionDays: 0 }],
    ['objectLock.days', { objectLock: { mode: 'GOVERNANCE' as const, days: 1.5 } }],
    ['writerConcurrency', { writerConcurrency: -1 }],
    ['jobMaxConcurrency', { jobMaxConcurrency: 0 }],
    ['restoreMaxConcurrency', { restoreMaxConcurrency: 2.5 }],
    ['jobMemorySize', { jobMemorySize: -128 }],
    ['backfillSegments', { backfillSegments: 0 }],
  ])('refuses a %s that is not a positive whole number', (name, props) => {
    expect(build({ table: 'orders', ...props })).toThrow(
      `Expected \`${name}\` to be a positive whole number`,
    );
  });

  it('refuses a backfillMaxRcu that is not a positive number, before building anything', () => {
    const stack = testStack({ fast: true });
    expect(() => new TableBackup(stack, 'Backup', { table: 'orders', backfillMaxRcu: 0 })).toThrow(
      'Expected `backfillMaxRcu` to be a positive number, got 0',
    );
    expect(stack.node.tryFindChild('DdbRewindStreamEnabler')).toBeUndefined();
  });

  it('refuses options for a created bucket alongside an existing one (they would be ignored)', () => {
    const stack = testStack({ fast: true });
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'company-backups');
    expect(
      () =>
        new TableBackup(stack, 'Backup', {
          table: 'orders',
          bucket,
          objectLock: { mode: 'GOVERNANCE', days: 7 },
          noncurrentVersionRetentionDays: 30,
        }),
    ).toThrow('Expected no noncurrentVersionRetentionDays, objectLock with `bucket`');
  });

  it('refuses S3-managed encryption with a KMS key', () => {
    const stack = testStack({ fast: true });
    const key = new kms.Key(stack, 'K');
    expect(
      () =>
        new TableBackup(stack, 'Backup', { table: 'orders', encryption: 'S3_MANAGED', encryptionKey: key }),
    ).toThrow(/`encryption` to be 'KMS'/);
  });

  it('refuses a prefix starting with /', () => {
    expect(build({ table: 'orders', prefix: '/backups' })).toThrow(/not to start with '\/'/);
  });
});

describe('restore targets', () => {
  it.each([['orders'], ['ord*'], ['*']])('refuses %s, which covers the source table', (target) => {
    expect(build({ table: 'orders', restoreTargetTables: [target] })).toThrow(
      /not to cover the source table orders.*--in-place/,
    );
  });

  it('refuses an empty list', () => {
    expect(build({ table: 'orders', restoreTargetTables: [] })).toThrow(/at least one table/);
  });
});

describe('app context', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];

  it('reads tables from -c tables=a,b (trimmed, deduplicated) and the optional keys', () => {
    expect(appConfig(context({ tables: 'orders, users,orders' }))).toEqual({
      tables: ['orders', 'users'],
      prefix: '',
      stackName: 'DdbRewind',
    });
    expect(
      appConfig(
        context({
          tables: ['orders'],
          prefix: 'ddb/',
          stackName: 'Backups',
          alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
        }),
      ),
    ).toEqual({
      tables: ['orders'],
      prefix: 'ddb/',
      stackName: 'Backups',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
    });
  });

  it('asks for -c tables when none are given', () => {
    expect(() => appConfig(context({}))).toThrow(
      /^Expected `-c tables=<table>\[,<table>...\]`.*got nothing$/,
    );
  });

  it('refuses a name DynamoDB would refuse, and a topic that is not an SNS ARN', () => {
    expect(() => appConfig(context({ tables: 'orders,us/ers' }))).toThrow(/got `us\/ers`/);
    expect(() => appConfig(context({ tables: 'orders', alarmTopicArn: 'ops' }))).toThrow(
      /SNS topic ARN, got `ops`/,
    );
  });
});
