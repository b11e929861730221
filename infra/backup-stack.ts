import { Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AppConfig } from './app-context';
import { BackupBucket } from './backup-bucket';
import { acknowledgeNoAccessLogs } from './nag-suppressions';
import { TableBackup } from './table-backup';

export interface BackupStackProps extends StackProps {
  readonly config: AppConfig;
}

/**
 * The stack `cdk deploy -c tables=...` deploys: one bucket shared by every table (each under
 * `<prefix><table>/`), and one TableBackup per table. Environment-agnostic: no lookups, no
 * credentials needed to synthesize.
 */
export class BackupStack extends Stack {
  readonly backupBucket: BackupBucket;
  readonly backups: TableBackup[];

  constructor(scope: Construct, id: string, props: BackupStackProps) {
    super(scope, id, {
      description: `ddb-rewind: continuous backup and point-in-time restore of ${props.config.tables.join(', ')}`,
      ...props,
    });
    const { config } = props;
    this.backupBucket = new BackupBucket(this, 'Backups');
    acknowledgeNoAccessLogs(this.backupBucket.bucket);
    const alarmTopic = config.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn)
      : undefined;
    this.backups = config.tables.map(
      (table) =>
        new TableBackup(this, table, {
          table,
          bucket: this.backupBucket.bucket,
          prefix: config.prefix,
          ...(alarmTopic ? { alarmTopic } : {}),
        }),
    );
  }
}
