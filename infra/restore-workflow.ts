import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface RestoreWorkflowProps {
  readonly restoreFunction: lambda.IFunction;
  readonly tableName: string;
  readonly bucketName: string;
  /** The normalized prefix ('' or ending in '/'). */
  readonly prefix: string;
  readonly maxConcurrency: number;
  readonly logRetention: logs.RetentionDays;
}

// Retried on top of LambdaInvoke's own retries of Lambda service errors.
const THROTTLED = ['Lambda.TooManyRequestsException'];

/**
 * Plan -> Distributed Map over the plan's partitions -> `{at, results}`.
 *
 * The execution input is a restore request (core/restore-event.ts) without `table`, `bucket` and
 * `prefix`: this workflow fixes those to its own table, so it can restore nothing else.
 * Example input: `{"targetTable": "orders-restore-1", "at": "2026-03-01T09:00:00Z",
 * "createTable": true, "partitions": 16}`.
 */
export class RestoreWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RestoreWorkflowProps) {
    super(scope, id);
    const fixed = JSON.stringify({
      action: 'plan',
      table: props.tableName,
      bucket: props.bucketName,
      prefix: props.prefix,
    });
    const plan = tasks.LambdaInvoke.jsonata(this, 'Plan', {
      lambdaFunction: props.restoreFunction,
      // Later keys win in $merge: a caller cannot point the workflow at another table or bucket.
      payload: sfn.TaskInput.fromText(`{% $merge([$states.input, ${fixed}]) %}`),
      outputs: '{% $states.result.Payload %}',
    });
    plan.addRetry({ errors: THROTTLED, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });

    const restorePartition = tasks.LambdaInvoke.jsonata(this, 'RestorePartition', {
      lambdaFunction: props.restoreFunction,
      payload: sfn.TaskInput.fromText('{% $states.input %}'),
      outputs: '{% $states.result.Payload %}',
    });
    restorePartition.addRetry({
      errors: THROTTLED,
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });

    const partitions = sfn.DistributedMap.jsonata(this, 'RestorePartitions', {
      items: sfn.ProvideItems.jsonata('{% $states.input.partitions %}'),
      maxConcurrency: props.maxConcurrency,
      // A partition may take the restore function's full 15 minutes: beyond Express's 5.
      mapExecutionType: sfn.StateMachineType.STANDARD,
      outputs: '{% {"at": $states.input.at, "results": $states.result} %}',
    });
    partitions.itemProcessor(restorePartition);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'ddb-rewind point-in-time restore: plan, then restore each partition in parallel',
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(partitions)),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'Logs', { retention: props.logRetention }),
        level: sfn.LogLevel.ALL,
        // Inputs and results name item keys (`keys`, dry-run samples): keep them out of logs.
        includeExecutionData: false,
      },
    });
  }
}
