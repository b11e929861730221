import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import type { JobKind } from '../core/job-model';
import { DEFAULTS } from './defaults';

export interface JobWorkflowProps {
  /** The job this workflow runs; the function must accept it (its DDB_REWIND_JOBS). */
  readonly job: JobKind;
  /** functions/jobs/handler.ts, deployed for this job with its own role. */
  readonly jobFunction: lambda.IFunction;
  readonly tableName: string;
  readonly bucketName: string;
  /** The normalized prefix ('' or ending in '/'). */
  readonly prefix: string;
  /** Tasks of one map run at once. */
  readonly maxConcurrency: number;
  readonly logRetention: logs.RetentionDays;
  /**
   * What the maps' item readers need: `s3:GetObject` on the table's `_jobs/` folder (and the
   * bucket key through S3). infra/job-grants.ts `taskListReads`.
   */
  readonly taskListReads: iam.PolicyStatement[];
}

// Retried on top of LambdaInvoke's own retries of Lambda service errors.
const THROTTLED = ['Lambda.TooManyRequestsException'];
const STEP_RETRY: sfn.RetryProps = {
  errors: THROTTLED,
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
};
// Many tasks start at once: spread their retries.
const TASK_RETRY: sfn.RetryProps = {
  errors: THROTTLED,
  interval: Duration.seconds(2),
  maxAttempts: 8,
  backoffRate: 2,
  jitterStrategy: sfn.JitterType.FULL,
};

const DESCRIPTIONS: Record<JobKind, string> = {
  restore: 'point-in-time restore into a target table',
  pack: 'pack of the backup for fast whole-table restores',
  export: 'export of the table as of an instant',
  verify: 'comparison of the backup with the live table',
  backfill: 'backfill of every existing item into the backup',
  undo: 'undo of the changes of a time window (on the restore function)',
};

/**
 * One job of the job model (core/job-model.ts) on Step Functions:
 * Plan -> Prepare (Distributed Map over the plan's `prepare` tasks) -> Partitions (Distributed
 * Map over its `partitions`) -> Finish; a Choice before each map (PrepareIfAny, PartitionsIfAny)
 * skips it when its list is empty. Every step is the same Lambda function, the one the CLI's
 * in-process executor (core/aws/run-job.ts) stands in for.
 *
 * - Plan gets the execution input with `job`, `step`, `table`, `bucket` and `prefix` merged over
 *   it, so the workflow works on its own table only; it returns the plan, its task lists written
 *   to S3 (`_jobs/<jobId>/tasks/<step>.json`) and named in `taskLists`: a plan of a million tasks
 *   would not fit in a state (256 KiB), so nothing in the state grows with the task count.
 * - Each map reads its items from its list with an S3 item reader; each child runs one task; a task that ran out of time returns `{done: false, next}`
 *   and the child invokes the function again with `next`, until `{done: true}`.
 * - The maps output their input (the plan), not their children's outcomes: the tasks keep
 *   their results in S3 (the run's `_jobs/` folder), so nothing grows with the task count.
 * - Finish gets the plan and returns the job's summary, the execution's output.
 */
export class JobWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  private readonly jobFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: JobWorkflowProps) {
    super(scope, id);
    this.jobFunction = props.jobFunction;
    const fixed = JSON.stringify({
      job: props.job,
      step: 'plan',
      table: props.tableName,
      bucket: props.bucketName,
      prefix: props.prefix,
    });
    // Later keys win in $merge: a caller cannot point the workflow at another table, bucket or step.
    const plan = this.invoke('Plan', `{% $merge([$states.input, ${fixed}]) %}`, STEP_RETRY);
    const prepare = this.map('Prepare', 'prepare', props);
    const partitions = this.map('Partitions', 'partitions', props);
    // The plan's `step` is already "finish": it is the finish step's event as it stands.
    const finish = this.invoke('Finish', '{% $states.input %}', STEP_RETRY);
    // An empty list skips its map: no item reader ever reads `[]` (a restore into a table it
    // creates has no prepare tasks).
    const partitionsIfAny = this.ifAny('PartitionsIfAny', 'partitions', partitions, finish);
    const prepareIfAny = this.ifAny('PrepareIfAny', 'prepare', prepare, partitionsIfAny);
    plan.next(prepareIfAny);
    prepare.next(partitionsIfAny);
    partitions.next(finish);

    // Step Functions wants these names under /aws/vendedlogs/ so that log delivery needs no
    // CloudWatch Logs resource policy (one per account, 5,120 characters: a few state machines).
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: props.logRetention,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `ddb-rewind ${props.job}: ${DESCRIPTIONS[props.job]} (plan, prepare, partitions, finish)`,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(plan),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        // Inputs and results name item keys (`keys`, dry-run samples): keep them out of logs.
        includeExecutionData: false,
      },
    });
    // The item readers name their objects at run time (bucketNamePath): no grant of CDK's own.
    for (const statement of props.taskListReads) this.stateMachine.addToRolePolicy(statement);
  }

  private invoke(id: string, payload: string, retry: sfn.RetryProps): tasks.LambdaInvoke {
    const step = tasks.LambdaInvoke.jsonata(this, id, {
      lambdaFunction: this.jobFunction,
      payload: sfn.TaskInput.fromText(payload),
      outputs: '{% $states.result.Payload %}',
    });
    step.addRetry(retry);
    return step;
  }

  /**
   * A Choice before a map: on to `skip` with the input as it is when the plan's `field` list is
   * empty (`count` 0), else to the map.
   */
  private ifAny(id: string, field: 'prepare' | 'partitions', map: sfn.IChainable, skip: sfn.IChainable) {
    return sfn.Choice.jsonata(this, id)
      .when(sfn.Condition.jsonata(`{% $states.input.taskLists.${field}.count = 0 %}`), skip)
      .otherwise(map);
  }

  /**
   * A Distributed Map over the plan's `field` tasks, read from the JSON array the plan step wrote
   * (`taskLists.<field>`: bucket, key, count). Each child: run the task; on
   * `{done: false, next}` run `next`, and so on; on `{done: true}` succeed; anything else fails.
   */
  private map(name: 'Prepare' | 'Partitions', field: 'prepare' | 'partitions', props: JobWorkflowProps) {
    const label = name === 'Prepare' ? 'Prepare' : 'Partition';
    const run = this.invoke(`${label}Task`, '{% $states.input %}', TASK_RETRY);
    const carryOn = this.invoke(`${label}Continue`, '{% $states.input.next %}', TASK_RETRY);
    const outcome = sfn.Choice.jsonata(this, `${label}Outcome`);
    outcome
      .when(
        sfn.Condition.jsonata('{% $states.input.done = true %}'),
        sfn.Succeed.jsonata(this, `${label}Done`),
      )
      .when(sfn.Condition.jsonata('{% $states.input.done = false %}'), carryOn)
      .otherwise(
        sfn.Fail.jsonata(this, `${label}BadOutcome`, {
          error: 'DdbRewind.BadTaskOutcome',
          cause: 'The task returned neither {"done": true} nor {"done": false, "next": <task>}',
        }),
      );
    carryOn.next(outcome);
    const map = sfn.DistributedMap.jsonata(this, name, {
      // Both from the state input: CDK then adds no grant (its own would be the whole bucket).
      itemReader: new sfn.S3JsonItemReader({
        bucketNamePath: `{% $states.input.taskLists.${field}.bucket %}`,
        key: `{% $states.input.taskLists.${field}.key %}`,
      }),
      maxConcurrency: props.maxConcurrency,
      // A task may take the function's full 15 minutes: beyond Express's 5.
      mapExecutionType: sfn.StateMachineType.STANDARD,
      // The plan goes on to the next step; the children's outcomes (`{done, id}`) are dropped.
      outputs: '{% $states.input %}',
    });
    map.itemProcessor(run.next(outcome));
    return map;
  }
}

/**
 * Starts `stateMachine` once, when this resource is created (the stack's first deploy, or the
 * deploy that adds it), after `after`; later deploys start nothing, and deleting it stops nothing.
 * One provider function per stack (CDK's AwsCustomResource singleton), given a role of our own so
 * it carries no managed policy; each resource adds `states:StartExecution` on its machine only.
 */
export function startOnCreate(
  scope: Construct,
  id: string,
  props: { stateMachine: sfn.IStateMachine; input: object; after: IConstruct[] },
): cr.AwsCustomResource {
  const provider = StartExecutionProvider.of(scope);
  const start = new cr.AwsCustomResource(scope, id, {
    resourceType: 'Custom::DdbRewindStartExecution',
    onCreate: {
      service: 'SFN',
      action: 'startExecution',
      parameters: { stateMachineArn: props.stateMachine.stateMachineArn, input: JSON.stringify(props.input) },
      physicalResourceId: cr.PhysicalResourceId.fromResponse('executionArn'),
      outputPaths: ['executionArn'],
    },
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    ]),
    role: provider.role,
    logGroup: provider.logGroup,
    // The runtime's SDK has StartExecution: nothing is downloaded at deploy.
    installLatestAwsSdk: false,
  });
  for (const dependency of props.after) start.node.addDependency(dependency);
  return start;
}

/** The role and log group of the stack's AwsCustomResource provider function. */
class StartExecutionProvider extends Construct {
  static readonly ID = 'DdbRewindStartExecution';

  static of(scope: Construct): StartExecutionProvider {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild(StartExecutionProvider.ID) as StartExecutionProvider | undefined) ??
      new StartExecutionProvider(stack)
    );
  }

  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  private constructor(stack: Stack) {
    super(stack, StartExecutionProvider.ID);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ddb-rewind: starts a job state machine when a deploy creates it',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: DEFAULTS.logRetention });
    this.logGroup.grantWrite(this.role);
  }
}
