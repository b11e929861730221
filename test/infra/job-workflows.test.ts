import type { LifecycleRule } from '@aws-sdk/client-s3';
import aslValidator from 'asl-validator';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import jsonata from 'jsonata';
import { JOB_KINDS, type JobKind } from '../../core/job-model';
import { retentionHorizon } from '../../core/retention';
import type { JobWorkflow } from '../../infra/job-workflow';
import { TableBackup } from '../../infra/table-backup';
import {
  type AslDefinition,
  type AslState,
  actionsOf,
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

// The five job state machines (infra/job-workflow.ts) and their functions' roles. Bundling is
// skipped: table-backup.test.ts bundles functions/jobs/handler.ts for real.

const stack = testStack({ fast: true });
const backup = new TableBackup(stack, 'Orders', { table: 'orders', encryption: 'KMS' });
const template = Template.fromStack(stack);
const bucket = backup.bucket;
const definition = (kind: JobKind) => definitionOf(template, backup.workflows[kind]);
const statementsOf = (kind: JobKind) => roleStatements(template, backup.jobFunctions[kind].role!);
const titled = (kind: JobKind) => `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
const workflowOf = (kind: JobKind) => backup.node.findChild(`${titled(kind)}Workflow`) as JobWorkflow;
/** The states of a map's child workflow. */
const childStates = (def: AslDefinition, map: string): Record<string, AslState> =>
  (def.States[map] as unknown as { ItemProcessor: { States: Record<string, AslState> } }).ItemProcessor
    .States;
type Retry = { ErrorEquals: string[]; MaxAttempts?: number; JitterStrategy?: string };
const functionArn = (kind: JobKind) =>
  `arn:aws:lambda:eu-west-1:123456789012:function:${logicalId(backup.jobFunctions[kind])}`;

describe.each(JOB_KINDS)('the %s state machine', (kind) => {
  it('is valid Amazon States Language (asl-validator)', () => {
    // The validator fills in defaults: give it a copy.
    const result = aslValidator(structuredClone(definition(kind)));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('runs Plan -> Prepare -> Partitions -> Finish, each map skipped when its list is empty, each step on its own function', () => {
    const { StartAt, QueryLanguage, States } = definition(kind);
    expect(QueryLanguage).toBe('JSONata');
    expect(StartAt).toBe('Plan');
    expect(Object.keys(States).sort()).toEqual([
      'Finish',
      'Partitions',
      'PartitionsIfAny',
      'Plan',
      'Prepare',
      'PrepareIfAny',
    ]);
    expect(States.Plan?.Next).toBe('PrepareIfAny');
    // No Output or Assign: the skip passes the plan on as it is.
    expect(States.PrepareIfAny).toEqual({
      Type: 'Choice',
      Choices: [{ Condition: '{% $states.input.taskLists.prepare.count = 0 %}', Next: 'PartitionsIfAny' }],
      Default: 'Prepare',
    });
    expect(States.Prepare?.Next).toBe('PartitionsIfAny');
    expect(States.PartitionsIfAny).toEqual({
      Type: 'Choice',
      Choices: [{ Condition: '{% $states.input.taskLists.partitions.count = 0 %}', Next: 'Finish' }],
      Default: 'Partitions',
    });
    expect(States.Partitions?.Next).toBe('Finish');
    expect(States.Finish?.End).toBe(true);
    for (const step of ['Plan', 'Finish'] as const) {
      expect(States[step]).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Arguments: { FunctionName: functionArn(kind) },
        Output: '{% $states.result.Payload %}',
      });
    }
    expect(States.Plan?.Arguments).toEqual({
      FunctionName: functionArn(kind),
      Payload: `{% $merge([$states.input, {"job":"${kind}","step":"plan","table":"orders","bucket":"ref-${logicalId(bucket)}","prefix":""}]) %}`,
    });
    expect(States.Finish?.Arguments).toEqual({
      FunctionName: functionArn(kind),
      Payload: '{% $states.input %}',
    });
  });

  it.each([
    ['Prepare', 'prepare', 'Prepare'],
    ['Partitions', 'partitions', 'Partition'],
  ])(
    "maps %s over the plan's %s task list in S3, standard children, and outputs the plan, not the results",
    (name, field, label) => {
      const map = definition(kind).States[name] as AslState & {
        ItemProcessor: { StartAt: string; States: Record<string, AslState> };
      };
      expect(map).toMatchObject({
        Type: 'Map',
        MaxConcurrency: 8,
        Output: '{% $states.input %}',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      });
      // The tasks come from the JSON array the plan step wrote, never from the state (256 KiB).
      expect(map.ItemReader).toEqual({
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Arguments: {
          Bucket: `{% $states.input.taskLists.${field}.bucket %}`,
          Key: `{% $states.input.taskLists.${field}.key %}`,
        },
      });
      for (const field of ['Items', 'ItemsPath', 'ItemSelector', 'ResultSelector'])
        expect(map).not.toHaveProperty(field);
      const child = map.ItemProcessor;
      expect(child.StartAt).toBe(`${label}Task`);
      expect(child.States[`${label}Task`]).toMatchObject({
        Type: 'Task',
        Arguments: { FunctionName: functionArn(kind), Payload: '{% $states.input %}' },
        Output: '{% $states.result.Payload %}',
        Next: `${label}Outcome`,
      });
      // The loop: a task that ran out of time hands on `next`, which runs, then is judged again.
      expect(child.States[`${label}Outcome`]).toEqual({
        Type: 'Choice',
        QueryLanguage: 'JSONata',
        Choices: [
          { Condition: '{% $states.input.done = true %}', Next: `${label}Done` },
          { Condition: '{% $states.input.done = false %}', Next: `${label}Continue` },
        ],
        Default: `${label}BadOutcome`,
      });
      expect(child.States[`${label}Continue`]).toMatchObject({
        Type: 'Task',
        Arguments: { FunctionName: functionArn(kind), Payload: '{% $states.input.next %}' },
        Output: '{% $states.result.Payload %}',
        Next: `${label}Outcome`,
      });
      expect(child.States[`${label}Done`]?.Type).toBe('Succeed');
      expect(child.States[`${label}BadOutcome`]).toMatchObject({
        Type: 'Fail',
        Error: 'DdbRewind.BadTaskOutcome',
      });
    },
  );

  it('retries Lambda service errors and throttling on every invocation, tasks with full jitter', () => {
    const def = definition(kind);
    const children = [
      ...Object.values(childStates(def, 'Prepare')),
      ...Object.values(childStates(def, 'Partitions')),
    ];
    const invocations = [def.States.Plan, def.States.Finish, ...children].filter((s) => s?.Type === 'Task');
    expect(invocations).toHaveLength(6);
    for (const task of invocations) {
      const retries = (task?.Retry ?? []) as Retry[];
      expect(retries.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
    }
    const taskThrottle = ((children[0]?.Retry ?? []) as Retry[]).find((r) =>
      r.ErrorEquals.includes('Lambda.TooManyRequestsException'),
    );
    expect(taskThrottle).toMatchObject({ MaxAttempts: 8, JitterStrategy: 'FULL' });
  });

  it('logs to /aws/vendedlogs/states/ without execution data, traced', () => {
    const logs = workflowOf(kind).logGroup;
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(logs) } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    const name = template.findResources('AWS::Logs::LogGroup')[logicalId(logs)]?.Properties.LogGroupName;
    expect(name).toMatch(
      new RegExp(`^/aws/vendedlogs/states/Test-Orders-${titled(kind)}Workflow-[0-9A-F]{8}$`),
    );
  });

  it("reads only its table's _jobs/ folder (the task lists), decrypting through S3 only", () => {
    const statements = roleStatements(template, backup.workflows[kind].role);
    const storage = statements.filter((s) =>
      (Array.isArray(s.Action) ? s.Action : [s.Action]).some((a) => /^(s3|kms):/.test(a)),
    );
    expect(storage).toEqual([
      {
        Sid: 'ReadTaskLists',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: objectsArn(bucket, '/orders/_jobs/*'),
      },
      {
        Sid: 'DecryptTaskLists',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: getAtt(backup.encryptionKey!),
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      },
    ]);
  });

  it('may invoke its own function only', () => {
    const statements = roleStatements(template, backup.workflows[kind].role);
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
    const fn = backup.jobFunctions[kind];
    expect(invoke).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [getAtt(fn), { 'Fn::Join': ['', [getAtt(fn), ':*']] }],
      },
    ]);
  });

  // The undo job runs on the restore function (its role, its targets); every other job alone.
  const runs = kind === 'undo' || kind === 'restore' ? 'restore' : kind;
  it('has a function that runs only this job (the restore function: restore and undo), for up to 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(backup.jobFunctions[kind].role!),
      Timeout: 900,
      MemorySize: 1769,
      Environment: {
        Variables: Match.objectLike({
          BACKUP_BUCKET: { Ref: logicalId(bucket) },
          BACKUP_PREFIX: '',
          DDB_REWIND_JOBS: runs === 'restore' ? 'restore,undo' : kind,
          POWERTOOLS_SERVICE_NAME: `ddb-rewind-${runs}`,
        }),
      },
    });
    if (kind === 'undo') expect(backup.jobFunctions.undo).toBe(backup.jobFunctions.restore);
  });

  it('encrypts and decrypts with the bucket key through S3 only', () => {
    expect(statementsOf(kind)).toContainEqual({
      Sid: 'UseBucketKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: getAtt(backup.encryptionKey!),
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    });
  });
});

// ---- One execution, simulated: the definition's own JSONata, a fake function. ----

type Invoke = (functionName: string, payload: unknown) => Promise<unknown>;
/** Objects of a fake S3, by `<bucket>/<key>`, and the ones the item readers read, in order. */
class FakeS3 extends Map<string, string> {
  readonly itemReads: string[] = [];
}

async function evaluate(template: unknown, states: Record<string, unknown>): Promise<unknown> {
  if (typeof template === 'string') {
    const m = /^\{%(.*)%\}$/s.exec(template);
    return m ? jsonata(m[1] ?? '').evaluate({}, { states }) : template;
  }
  if (template && typeof template === 'object' && !Array.isArray(template)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = await evaluate(v, states);
    return out;
  }
  return template;
}

/** The items of a Map state: from its S3 JSON item reader (as Step Functions reads them), or `Items`. */
async function mapItems(state: AslState, input: unknown, s3: FakeS3): Promise<unknown[]> {
  const reader = state.ItemReader as
    | { Resource: string; ReaderConfig?: { InputType?: string }; Arguments: unknown }
    | undefined;
  if (!reader) return (await evaluate(state.Items, { input })) as unknown[];
  expect(reader.Resource).toBe('arn:aws:states:::s3:getObject');
  expect(reader.ReaderConfig?.InputType).toBe('JSON');
  const { Bucket, Key } = (await evaluate(reader.Arguments, { input })) as { Bucket: string; Key: string };
  s3.itemReads.push(`${Bucket}/${Key}`);
  const text = s3.get(`${Bucket}/${Key}`);
  if (text === undefined) throw new Error(`States.ItemReaderFailed: no object s3://${Bucket}/${Key}`);
  const items = JSON.parse(text) as unknown;
  if (!Array.isArray(items)) throw new Error(`States.ItemReaderFailed: s3://${Bucket}/${Key} is no array`);
  return items;
}

/**
 * Runs Task, Map, Choice, Succeed and Fail states of a JSONata definition, maps one item at a
 * time; `visited` gets the name of each state entered (this level's only, not the children's).
 */
async function execute(
  def: Pick<AslDefinition, 'StartAt' | 'States'>,
  input: unknown,
  invoke: Invoke,
  s3: FakeS3,
  visited: string[] = [],
) {
  let name = def.StartAt;
  let current = input;
  for (let step = 0; step < 1000; step++) {
    const state = def.States[name];
    if (!state) throw new Error(`no state ${name}`);
    visited.push(name);
    let output: unknown = current;
    if (state.Type === 'Task') {
      const args = (await evaluate(state.Arguments, { input: current })) as {
        FunctionName: string;
        Payload: unknown;
      };
      const result = { Payload: await invoke(args.FunctionName, args.Payload) };
      output = state.Output ? await evaluate(state.Output, { input: current, result }) : result;
    } else if (state.Type === 'Map') {
      const items = await mapItems(state, current, s3);
      const processor = state.ItemProcessor as Pick<AslDefinition, 'StartAt' | 'States'>;
      const results: unknown[] = [];
      for (const item of items) results.push(await execute(processor, item, invoke, s3));
      output = state.Output ? await evaluate(state.Output, { input: current, result: results }) : results;
    } else if (state.Type === 'Choice') {
      const choices = state.Choices as Array<{ Condition: string; Next: string }>;
      let next = state.Default as string;
      for (const c of choices) {
        if ((await evaluate(c.Condition, { input: current })) === true) {
          next = c.Next;
          break;
        }
      }
      name = next;
      if (state.Output !== undefined) current = await evaluate(state.Output, { input: current });
      continue;
    } else if (state.Type === 'Succeed') {
      return current;
    } else if (state.Type === 'Fail') {
      throw new Error(String(state.Error));
    }
    if (state.End) return output;
    name = state.Next as string;
    current = output;
  }
  throw new Error('more than 1000 transitions');
}

interface FakeTask {
  job: string;
  step: string;
  id: string;
  part: number;
  params: unknown;
}

describe('an execution, simulated with the definition, a fake job function and a fake S3', () => {
  const kind = 'pack';
  const def = definition(kind);
  const jobId = 'pack-20260301T090000Z-0a1b2c3d';

  /** A run's fake world: the function's calls, the events it got, the S3 objects it wrote. */
  const world = (options: { broken?: boolean; prepare?: number; partitions?: number } = {}) => {
    const calls: string[] = [];
    const events: unknown[] = [];
    const s3 = new FakeS3();
    let planned: unknown;
    const invoke: Invoke = async (functionName, payload) => {
      expect(functionName).toBe(functionArn(kind));
      events.push(payload);
      const event = payload as Record<string, unknown>;
      if (event.step === 'plan') {
        calls.push('plan');
        const ref = {
          job: event.job,
          jobId,
          table: event.table,
          bucket: event.bucket as string,
          prefix: event.prefix,
        };
        const task = (step: string, id: string) => ({ ...ref, step, id, part: 0, params: {} });
        const lists = {
          prepare: Array.from({ length: options.prepare ?? 1 }, (_, i) => task('prepare', `s000${i}`)),
          partitions: Array.from({ length: options.partitions ?? 2 }, (_, i) =>
            task('partition', `p000${i}`),
          ),
        };
        // As core/aws/task-lists.ts does: the lists go to S3, the plan names them.
        const taskLists: Record<string, { bucket: string; key: string; count: number }> = {};
        for (const [step, tasks] of Object.entries(lists)) {
          const key = `${ref.prefix}${ref.table}/_jobs/${jobId}/tasks/${step}.json`;
          s3.set(`${ref.bucket}/${key}`, JSON.stringify(tasks));
          taskLists[step] = { bucket: ref.bucket, key, count: tasks.length };
        }
        planned = {
          ...ref,
          step: 'finish',
          params: { concurrency: event.concurrency },
          prepare: [],
          partitions: [],
          taskLists,
        };
        return planned;
      }
      if (event.step === 'finish') {
        calls.push('finish');
        return { chunks: 3 };
      }
      const task = payload as FakeTask;
      calls.push(`${task.step} ${task.id}.${task.part}`);
      if (options.broken) return { ok: true };
      // p0001 runs out of time twice: its continuation carries on.
      if (task.id === 'p0001' && task.part < 2)
        return { done: false, next: { ...task, part: task.part + 1 } };
      return { done: true, id: task.id };
    };
    return { calls, events, s3, invoke, planned: () => planned };
  };

  it('plans with the fixed table, runs every listed task to done, continuing the unfinished one, then finishes with the plan', async () => {
    const w = world();
    const visited: string[] = [];
    const output = await execute(
      def,
      // A caller's `table`, `bucket`, `job` or `step` never reaches the function.
      { concurrency: 32, table: 'payroll', bucket: 'elsewhere', job: 'restore', step: 'finish' },
      w.invoke,
      w.s3,
      visited,
    );
    expect(output).toEqual({ chunks: 3 });
    expect(visited).toEqual(['Plan', 'PrepareIfAny', 'Prepare', 'PartitionsIfAny', 'Partitions', 'Finish']);
    expect(w.s3.itemReads).toEqual([
      `ref-${logicalId(bucket)}/orders/_jobs/${jobId}/tasks/prepare.json`,
      `ref-${logicalId(bucket)}/orders/_jobs/${jobId}/tasks/partitions.json`,
    ]);
    expect(w.calls).toEqual([
      'plan',
      'prepare s0000.0',
      'partition p0000.0',
      'partition p0001.0',
      'partition p0001.1',
      'partition p0001.2',
      'finish',
    ]);
    expect(w.events[0]).toEqual({
      concurrency: 32,
      job: 'pack',
      step: 'plan',
      table: 'orders',
      bucket: `ref-${logicalId(bucket)}`,
      prefix: '',
    });
    // Each task got exactly what the list in S3 holds.
    expect(w.events[1]).toEqual(
      JSON.parse(w.s3.get(`ref-${logicalId(bucket)}/orders/_jobs/${jobId}/tasks/prepare.json`)!)[0],
    );
    // The maps passed the plan on untouched: the finish step got exactly what the plan returned.
    expect(w.events.at(-1)).toEqual(w.planned());
  });

  it('skips the Prepare map for an empty prepare list (a restore into a table it creates): its list is never read', async () => {
    const w = world({ prepare: 0 });
    const visited: string[] = [];
    expect(await execute(def, {}, w.invoke, w.s3, visited)).toEqual({ chunks: 3 });
    expect(visited).toEqual(['Plan', 'PrepareIfAny', 'PartitionsIfAny', 'Partitions', 'Finish']);
    expect(w.s3.itemReads).toEqual([`ref-${logicalId(bucket)}/orders/_jobs/${jobId}/tasks/partitions.json`]);
    expect(w.calls).toEqual([
      'plan',
      'partition p0000.0',
      'partition p0001.0',
      'partition p0001.1',
      'partition p0001.2',
      'finish',
    ]);
    // The skip passed the plan on untouched.
    expect(w.events.at(-1)).toEqual(w.planned());
  });

  it('skips both maps when both lists are empty, and still finishes with the plan', async () => {
    const w = world({ prepare: 0, partitions: 0 });
    const visited: string[] = [];
    expect(await execute(def, {}, w.invoke, w.s3, visited)).toEqual({ chunks: 3 });
    expect(visited).toEqual(['Plan', 'PrepareIfAny', 'PartitionsIfAny', 'Finish']);
    expect(w.s3.itemReads).toEqual([]);
    expect(w.calls).toEqual(['plan', 'finish']);
    expect(w.events.at(-1)).toEqual(w.planned());
  });

  it('runs every prepare task of a longer list, then the partitions', async () => {
    const w = world({ prepare: 3 });
    await execute(def, {}, w.invoke, w.s3);
    expect(w.calls.slice(0, 5)).toEqual([
      'plan',
      'prepare s0000.0',
      'prepare s0001.0',
      'prepare s0002.0',
      'partition p0000.0',
    ]);
    expect(w.events.at(-1)).toEqual(w.planned());
  });

  it('fails the child (and so the map) on an outcome that is neither done nor a continuation', async () => {
    const w = world({ broken: true });
    await expect(execute(def, {}, w.invoke, w.s3)).rejects.toThrow('DdbRewind.BadTaskOutcome');
  });

  it('fails the map when its task list is not where the plan says', async () => {
    const w = world();
    const invoke: Invoke = async (fn, payload) => {
      const result = await w.invoke(fn, payload);
      if ((payload as { step?: string }).step === 'plan') w.s3.clear();
      return result;
    };
    await expect(execute(def, {}, invoke, w.s3)).rejects.toThrow('States.ItemReaderFailed');
    expect(w.calls).toEqual(['plan']);
  });
});

// ---- Least privilege per job function. ----

describe('job function roles', () => {
  const s3Writes = (kind: JobKind) =>
    statementsOf(kind)
      .filter((s) => s.Effect === 'Allow')
      .filter((s) =>
        (Array.isArray(s.Action) ? s.Action : [s.Action]).some((a) => /^s3:(Put|Delete|Abort)/.test(a)),
      )
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

  it('restore: reads the backup, writes S3 only under _jobs/, writes only target tables, never the source', () => {
    expect(actionsOf(statementsOf('restore'))).toEqual([
      'Allow dynamodb:BatchWriteItem',
      'Allow dynamodb:CreateTable',
      'Allow dynamodb:DeleteItem',
      'Allow dynamodb:DescribeTable',
      'Allow dynamodb:GetItem',
      'Allow dynamodb:PutItem',
      'Allow dynamodb:Scan',
      'Allow dynamodb:UpdateItem',
      'Allow dynamodb:UpdateTimeToLive',
      'Allow kms:Decrypt',
      'Allow kms:GenerateDataKey',
      'Allow logs:CreateLogStream',
      'Allow logs:PutLogEvents',
      'Allow s3:DeleteObject',
      'Allow s3:GetLifecycleConfiguration',
      'Allow s3:GetObject',
      'Allow s3:GetObjectVersion',
      'Allow s3:ListBucket',
      'Allow s3:ListBucketVersions',
      'Allow s3:PutObject',
      'Deny dynamodb:BatchWriteItem',
      'Deny dynamodb:CreateTable',
      'Deny dynamodb:DeleteItem',
      'Deny dynamodb:DescribeTable',
      'Deny dynamodb:GetItem',
      'Deny dynamodb:PutItem',
      'Deny dynamodb:Scan',
      'Deny dynamodb:UpdateItem',
      'Deny dynamodb:UpdateTimeToLive',
    ]);
    expect(s3Writes('restore')).toEqual([objectsArn(bucket, '/orders/_jobs/*')]);
    const statements = statementsOf('restore');
    expect(statements.find((s) => s.Sid === 'WriteTargetTables')?.Resource).toEqual(
      tableArn('orders-restore-*'),
    );
    expect(statements.find((s) => s.Sid === 'NeverTheSource')).toMatchObject({
      Effect: 'Deny',
      Resource: tableArn('orders'),
    });
  });

  it('pack: no DynamoDB at all; writes only packs and its scratch', () => {
    const actions = actionsOf(statementsOf('pack'));
    expect(actions.filter((a) => a.includes('dynamodb:'))).toEqual([]);
    expect(actions).toEqual([
      'Allow kms:Decrypt',
      'Allow kms:GenerateDataKey',
      'Allow logs:CreateLogStream',
      'Allow logs:PutLogEvents',
      'Allow s3:DeleteObject',
      'Allow s3:GetLifecycleConfiguration',
      'Allow s3:GetObject',
      'Allow s3:GetObjectVersion',
      'Allow s3:ListBucket',
      'Allow s3:ListBucketVersions',
      'Allow s3:PutObject',
      'Allow s3:PutObject',
    ]);
    expect(s3Writes('pack')).toEqual([
      objectsArn(bucket, '/orders/_jobs/*'),
      objectsArn(bucket, '/orders/_packs/*'),
    ]);
  });

  it('export: no DynamoDB; writes only under _exports/ (the default destination) and its scratch', () => {
    expect(actionsOf(statementsOf('export')).filter((a) => a.includes('dynamodb:'))).toEqual([]);
    expect(s3Writes('export')).toEqual([
      objectsArn(bucket, '/orders/_jobs/*'),
      objectsArn(bucket, '/orders/_exports/*'),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DDB_REWIND_JOBS: 'export',
          DDB_REWIND_EXPORT_ROOT: {
            'Fn::Join': ['', ['s3://', { Ref: logicalId(bucket) }, '/orders/_exports/']],
          },
        }),
      },
    });
  });

  it('verify: reads the source table (no writes), writes S3 only under _jobs/, publishes only ddb-rewind metrics', () => {
    const statements = statementsOf('verify');
    expect(statements.find((s) => s.Sid === 'ReadSourceTable')).toEqual({
      Sid: 'ReadSourceTable',
      Effect: 'Allow',
      Action: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Scan'],
      Resource: tableArn('orders'),
    });
    expect(actionsOf(statements).filter((a) => a.includes('dynamodb:'))).toEqual([
      'Allow dynamodb:DescribeTable',
      'Allow dynamodb:GetItem',
      'Allow dynamodb:Scan',
    ]);
    expect(s3Writes('verify')).toEqual([objectsArn(bucket, '/orders/_jobs/*')]);
    // VerifyDrift is an EMF log line (Powertools Metrics), so no CloudWatch API is granted.
    expect(actionsOf(statements).filter((a) => a.includes('cloudwatch:'))).toEqual([]);
  });

  it('backfill: scans only the source table, writes no table, writes versions of its own table and repairs their order', () => {
    const statements = statementsOf('backfill');
    expect(actionsOf(statements).filter((a) => a.includes('dynamodb:'))).toEqual([
      'Allow dynamodb:DescribeTable',
      'Allow dynamodb:DescribeTimeToLive',
      'Allow dynamodb:Scan',
    ]);
    expect(statements.find((s) => s.Sid === 'ScanSourceTable')?.Resource).toEqual(tableArn('orders'));
    expect(statements.find((s) => s.Sid === 'WriteBackfill')).toEqual({
      Sid: 'WriteBackfill',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: [
        objectsArn(bucket, '/orders/_changes/*'),
        objectsArn(bucket, '/orders/_meta/*'),
        objectsArn(bucket, '/orders/v1/*'),
      ],
    });
    expect(statements.find((s) => s.Sid === 'RepairVersionOrder')).toEqual({
      Sid: 'RepairVersionOrder',
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: objectsArn(bucket, '/orders/v1/*'),
    });
    expect(statements.find((s) => s.Sid === 'CheckVersioning')?.Resource).toEqual(getAtt(bucket));
    expect(actionsOf(statements)).not.toContain('Allow s3:GetLifecycleConfiguration');
  });

  it('no role but restore (which runs undo too) names a table other than the source', () => {
    for (const kind of JOB_KINDS.filter((k) => k !== 'restore' && k !== 'undo')) {
      const tables = statementsOf(kind)
        .filter((s) =>
          (Array.isArray(s.Action) ? s.Action : [s.Action]).some((a) => a.startsWith('dynamodb:')),
        )
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
      for (const resource of tables) expect(resource).toEqual(tableArn('orders'));
    }
  });
});

// ---- The deploy-time backfill, the scratch lifecycle, the alarm. ----

describe('the backfill at first deploy (the default)', () => {
  const resources = () => template.findResources('Custom::DdbRewindStartExecution');

  it('starts the backfill state machine once, on create, with the default request', () => {
    const all = Object.values(resources());
    expect(all).toHaveLength(1);
    const create = stack.resolve(all[0]?.Properties.Create) as { 'Fn::Join': [string, unknown[]] };
    const text = create['Fn::Join'][1]
      .map((p) => (typeof p === 'string' ? p : `<${(p as { Ref: string }).Ref}>`))
      .join('');
    expect(JSON.parse(text)).toEqual({
      service: 'SFN',
      action: 'startExecution',
      parameters: { stateMachineArn: `<${logicalId(backup.workflows.backfill)}>`, input: '{}' },
      physicalResourceId: { responsePath: 'executionArn' },
      outputPaths: ['executionArn'],
    });
    expect(all[0]?.Properties).not.toHaveProperty('Update');
    expect(all[0]?.Properties).not.toHaveProperty('Delete');
    expect(all[0]?.Properties.InstallLatestAwsSdk).toBe(false);
  });

  it('starts only after the event source mapping exists, so every change from then on is streamed', () => {
    const [id, resource] = Object.entries(resources())[0] ?? [];
    const mappings = Object.keys(
      template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: logicalId(backup.writer) } },
      }),
    );
    expect(id).toBeDefined();
    expect(mappings).toHaveLength(1);
    expect(resource?.DependsOn).toEqual(expect.arrayContaining(mappings));
  });

  it('may start that one state machine and nothing else', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^OrdersBackfillOnDeployCustomResourcePolicy') },
    });
    expect(Object.values(policies).map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [
        {
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: { Ref: logicalId(backup.workflows.backfill) },
        },
      ],
    ]);
    // Its provider function's role carries no managed policy (only our log group's write grant).
    const provider = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'index.handler', Timeout: 120 },
      }),
    );
    expect(provider).toHaveLength(1);
    for (const role of Object.values(template.findResources('AWS::IAM::Role')))
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
  });

  it('is exposed as deployBackfill', () => {
    expect(backup.deployBackfill?.node.path).toBe('Test/Orders/BackfillOnDeploy');
  });
});

describe('the backfill at first deploy, tuned or switched off', () => {
  it('passes backfillSegments and backfillMaxRcu as the execution input', () => {
    const s = testStack({ fast: true });
    new TableBackup(s, 'Orders', { table: 'orders', backfillSegments: 16, backfillMaxRcu: 500 });
    const resource = Object.values(Template.fromStack(s).findResources('Custom::DdbRewindStartExecution'))[0];
    expect(JSON.stringify(s.resolve(resource?.Properties.Create))).toContain(
      '\\"input\\":\\"{\\\\\\"segments\\\\\\":16,\\\\\\"maxRcu\\\\\\":500}\\"',
    );
  });

  it('is absent with backfillOnDeploy: false, and the template still passes the AWS Solutions checks', () => {
    const s = testStack({ fast: true });
    const off = new TableBackup(s, 'Orders', { table: 'orders', backfillOnDeploy: false });
    const t = Template.fromStack(s);
    t.resourceCountIs('Custom::DdbRewindStartExecution', 0);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 6);
    expect(off.deployBackfill).toBeUndefined();
    expect(nagViolations(s)).toEqual([]);
  });
});

/** The bucket's rules as S3 returns them to the readers (core/aws/retention-store.ts). */
function lifecycleAsS3(t: Template): LifecycleRule[] {
  const rules = (Object.values(t.findResources('AWS::S3::Bucket'))[0]?.Properties.LifecycleConfiguration
    ?.Rules ?? []) as Array<Record<string, unknown>>;
  return rules.map((r, i) => ({
    ID: (r.Id as string | undefined) ?? `rule-${i}`,
    Status: r.Status as 'Enabled',
    Filter: { Prefix: (r.Prefix as string | undefined) ?? '' },
    ...(r.ExpirationInDays !== undefined ? { Expiration: { Days: r.ExpirationInDays as number } } : {}),
    ...(r.ExpiredObjectDeleteMarker !== undefined
      ? { Expiration: { ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker as boolean } }
      : {}),
    ...(r.NoncurrentVersionExpiration
      ? { NoncurrentVersionExpiration: r.NoncurrentVersionExpiration as { NoncurrentDays: number } }
      : {}),
  }));
}

describe('the _jobs/ scratch folder', () => {
  it('expires current objects after 7 days, old versions a day later, and lone delete markers', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Prefix: 'orders/_jobs/',
            Status: 'Enabled',
            ExpirationInDays: 7,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          },
          // S3 refuses ExpiredObjectDeleteMarker beside ExpirationInDays in one rule.
          { Prefix: 'orders/_jobs/', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
        ],
      },
    });
  });

  it("leaves the readers' retention horizon as it was: none by default, the noncurrent rule with one", () => {
    const now = Date.UTC(2026, 2, 1);
    expect(retentionHorizon(lifecycleAsS3(template), 'orders/v1/', now, 2000)).toEqual({ kind: 'none' });
    const s = testStack({ fast: true });
    new TableBackup(s, 'Orders', { table: 'orders', noncurrentVersionRetentionDays: 30 });
    expect(retentionHorizon(lifecycleAsS3(Template.fromStack(s)), 'orders/v1/', now, 2000)).toEqual({
      kind: 'since',
      fromMs: now - 30 * 86_400_000 + 2000,
      rule: 'noncurrent-versions',
      noncurrentDays: 30,
    });
  });
});

describe('an export bucket of its own', () => {
  const s = testStack({ fast: true });
  const key = new kms.Key(s, 'ExportKey', { enableKeyRotation: true });
  const exports = new s3.Bucket(s, 'Exports', {
    encryptionKey: key,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  const b = new TableBackup(s, 'Orders', { table: 'orders', exportBucket: exports });
  const t = Template.fromStack(s);

  it("is where the export function writes, and nowhere else but its scratch, with that bucket's key", () => {
    const statements = roleStatements(t, b.jobFunctions.export.role!);
    expect(statements.find((st) => st.Sid === 'WriteExport')).toEqual({
      Sid: 'WriteExport',
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
      Resource: objectsArn(exports, '/*'),
    });
    expect(statements.find((st) => st.Sid === 'UseExportBucketKey')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: getAtt(key),
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DDB_REWIND_JOBS: 'export',
          DDB_REWIND_EXPORT_ROOT: { 'Fn::Join': ['', ['s3://', { Ref: logicalId(exports) }, '/']] },
        }),
      },
    });
    // No other function may write it.
    for (const kind of JOB_KINDS.filter((k) => k !== 'export')) {
      expect(JSON.stringify(roleStatements(t, b.jobFunctions[kind].role!))).not.toContain(logicalId(exports));
    }
  });

  it('passes the AWS Solutions checks', () => {
    expect(nagErrors(b)).toEqual([]);
  });
});

describe('the verify drift alarm', () => {
  it('fires on a single VerifyDrift of the table, and not on missing data', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ddb-rewind',
      MetricName: 'VerifyDrift',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      Period: 300,
      Dimensions: [
        { Name: 'service', Value: 'verify' },
        { Name: 'table', Value: 'orders' },
      ],
      TreatMissingData: 'notBreaching',
    });
    expect(backup.verifyDriftAlarm.node.path).toBe('Test/Orders/Alarms/VerifyDrift');
  });
});

describe('the whole construct', () => {
  it('passes the AWS Solutions checks with only reasoned acknowledgments', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});
