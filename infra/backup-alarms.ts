import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type AlarmOptions, alarmThresholds, BACKUP_LAG_METRIC } from './defaults';

export interface BackupAlarmsProps extends AlarmOptions {
  readonly writer: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly tableName: string;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The four alarms of one table's backup; docs/cdk.md says what each means and what to do. */
export class BackupAlarms extends Construct {
  readonly iteratorAge: cloudwatch.Alarm;
  readonly writerErrors: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly backupLag: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BackupAlarmsProps) {
    super(scope, id);
    const t = alarmThresholds(props);
    const common = {
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means no stream activity (or an empty queue): nothing is wrong.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.iteratorAge = new cloudwatch.Alarm(this, 'IteratorAge', {
      ...common,
      metric: props.writer.metric('IteratorAge', { statistic: 'Maximum', period: t.period }),
      threshold: t.iteratorAgeMs,
      alarmDescription: `ddb-rewind: the writer of ${props.tableName} reads changes more than ${t.iteratorAgeMs / 60_000} min after they happened; records older than 24 h are lost. See docs/cdk.md#alarms.`,
    });
    this.writerErrors = new cloudwatch.Alarm(this, 'WriterErrors', {
      ...common,
      metric: props.writer.metricErrors({ statistic: 'Sum', period: t.period }),
      threshold: 0,
      alarmDescription: `ddb-rewind: the writer of ${props.tableName} failed whole invocations; Lambda retries them. See docs/cdk.md#alarms.`,
    });
    this.deadLetters = new cloudwatch.Alarm(this, 'DeadLetters', {
      ...common,
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: t.period,
      }),
      threshold: 0,
      alarmDescription: `ddb-rewind: changes of ${props.tableName} were given up after all retries and are NOT backed up; the queue holds their stream positions. See docs/cdk.md#alarms.`,
    });
    this.backupLag = new cloudwatch.Alarm(this, 'BackupLag', {
      ...common,
      metric: new cloudwatch.Metric({
        namespace: BACKUP_LAG_METRIC.namespace,
        metricName: BACKUP_LAG_METRIC.metricName,
        dimensionsMap: { service: BACKUP_LAG_METRIC.service, table: props.tableName },
        statistic: 'Maximum',
        period: t.period,
      }),
      threshold: t.backupLagMs,
      alarmDescription: `ddb-rewind: backup versions of ${props.tableName} are written more than ${t.backupLagMs / 60_000} min after the change. See docs/cdk.md#alarms.`,
    });
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of [this.iteratorAge, this.writerErrors, this.deadLetters, this.backupLag]) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
