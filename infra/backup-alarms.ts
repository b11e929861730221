import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type AlarmOptions,
  alarmThresholds,
  BACKUP_LAG_METRIC,
  LOST_BATCHES_METRIC,
  RECORDS_PARKED_METRIC,
  VERIFY_DRIFT_METRIC,
} from './defaults';

export interface BackupAlarmsProps extends AlarmOptions {
  readonly writer: lambda.IFunction;
  /** Where on-failure messages the failure recorder could not record end up. */
  readonly unrecordedQueue: sqs.IQueue;
  readonly tableName: string;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The seven alarms of one table's backup; docs/cdk.md says what each means and what to do. */
export class BackupAlarms extends Construct {
  readonly iteratorAge: cloudwatch.Alarm;
  readonly writerErrors: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly backupLag: cloudwatch.Alarm;
  readonly lostBatches: cloudwatch.Alarm;
  readonly recordsParked: cloudwatch.Alarm;
  readonly verifyDrift: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BackupAlarmsProps) {
    super(scope, id);
    const t = alarmThresholds(props);
    const common = {
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means no stream activity (or an empty queue): nothing is wrong.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const tableMetric = (
      metric: { namespace: string; metricName: string; service: string },
      statistic: string,
    ) =>
      new cloudwatch.Metric({
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensionsMap: { service: metric.service, table: props.tableName },
        statistic,
        period: t.period,
      });
    // Counts published only when something happened: one is enough to alarm.
    const anyCount = {
      ...common,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
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
      metric: props.unrecordedQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: t.period,
      }),
      threshold: 0,
      alarmDescription: `ddb-rewind: changes of ${props.tableName} were given up after all retries and could NOT be recorded as a gap, so restores do not warn about them; the queue holds their stream positions. See docs/cdk.md#alarms.`,
    });
    this.backupLag = new cloudwatch.Alarm(this, 'BackupLag', {
      ...common,
      metric: tableMetric(BACKUP_LAG_METRIC, 'Maximum'),
      threshold: t.backupLagMs,
      alarmDescription: `ddb-rewind: backup versions of ${props.tableName} are written more than ${t.backupLagMs / 60_000} min after the change. See docs/cdk.md#alarms.`,
    });
    this.lostBatches = new cloudwatch.Alarm(this, 'LostBatches', {
      ...anyCount,
      metric: tableMetric(LOST_BATCHES_METRIC, 'Sum'),
      alarmDescription: `ddb-rewind: changes of ${props.tableName} were given up after all retries and are NOT in the backup; they are recorded as a gap (restores warn). Run a backfill. See docs/cdk.md#alarms.`,
    });
    this.recordsParked = new cloudwatch.Alarm(this, 'RecordsParked', {
      ...anyCount,
      metric: tableMetric(RECORDS_PARKED_METRIC, 'Sum'),
      alarmDescription: `ddb-rewind: changes of ${props.tableName} could never be stored and were parked under _dead-letter/; they are NOT in the backup until replayed. See docs/cdk.md#alarms.`,
    });
    this.verifyDrift = new cloudwatch.Alarm(this, 'VerifyDrift', {
      ...anyCount,
      metric: tableMetric(VERIFY_DRIFT_METRIC, 'Sum'),
      alarmDescription: `ddb-rewind: a verify found items of ${props.tableName} whose backup differs from the table, after re-checking them; restores of those items would be wrong. Run a backfill. See docs/cdk.md#alarms.`,
    });
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of [
        this.iteratorAge,
        this.writerErrors,
        this.deadLetters,
        this.backupLag,
        this.lostBatches,
        this.recordsParked,
        this.verifyDrift,
      ]) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
