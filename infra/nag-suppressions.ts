import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag (AwsSolutions) findings ddb-rewind accepts on purpose, each with its reason. cdk-nag v3
 * reads CDK's own acknowledgments (`Validations.of(x).acknowledge`), one finding id at a time.
 *
 * Wildcard resources (AwsSolutions-IAM5) are not acknowledged wholesale: each policy statement
 * is checked, and a finding is acknowledged only if every statement producing it matches one of
 * the rules below in all its actions. A new, unexpected wildcard still fails the nag check.
 */

interface WildcardRule {
  /** Every action of the statement must match. */
  readonly actions: RegExp;
  /** The flattened resource, as cdk-nag names it. */
  readonly resource: RegExp;
  readonly reason: string;
}

export const WILDCARD_RULES: readonly WildcardRule[] = [
  {
    actions:
      /^s3:(PutObject|DeleteObject|DeleteObjectVersion|GetObject|GetObjectVersion|AbortMultipartUpload)$/,
    resource: /\/\*$/,
    reason:
      "Objects under this table's own folder (<prefix><table>/, or its v1/, _meta/, _meta/gaps/, _jobs/, _packs/, _exports/ folders), or in the exportBucket given for exports: one object per item key, gap, job result, pack chunk or export file, whose keys are not known in advance.",
  },
  {
    actions:
      /^dynamodb:(BatchWriteItem|UpdateItem|PutItem|DeleteItem|GetItem|DescribeTable|Scan|CreateTable|UpdateTimeToLive)$/,
    resource: /:table\/[^/]*\*[^/]*$/,
    reason:
      'Restore targets follow a naming rule (default <source>-restore-*, or the restoreTargetTables patterns): a restore creates a new table per run, an undo writes into one (UpdateItem). The source table is denied explicitly.',
  },
  {
    actions: /^dynamodb:ListStreams$/,
    resource: /^\*$/,
    reason:
      "Added by Lambda's DynamoEventSource: dynamodb:ListStreams has no resource-level permissions. Reading records is scoped to this table's stream ARN.",
  },
  {
    actions:
      /^(logs:(CreateLogDelivery|DeleteLogDelivery|DescribeLogGroups|DescribeResourcePolicies|GetLogDelivery|ListLogDeliveries|PutResourcePolicy|UpdateLogDelivery)|xray:(GetSamplingRules|GetSamplingTargets|PutTelemetryRecords|PutTraceSegments))$/,
    resource: /^\*$/,
    reason:
      "Step Functions' CloudWatch Logs delivery and X-Ray tracing (required by AwsSolutions-SF1/SF2): these APIs support only Resource '*'.",
  },
  {
    actions: /^lambda:InvokeFunction$/,
    resource: /^<[A-Za-z0-9]+\.Arn>:\*$/,
    reason: 'Invokes one function, any of its versions or aliases (ARN:*), as the CDK task grant does.',
  },
  {
    actions: /^states:(DescribeExecution|StopExecution|RedriveExecution)$/,
    resource: /:execution:.*\*$/,
    reason:
      "The Distributed Map's child executions of this state machine: their names are generated at run time.",
  },
  {
    actions: /^glue:(GetTable|CreateTable|UpdateTable)$/,
    resource: /:table\/[a-z0-9_]+\/\*$/,
    reason:
      'exportTables: the export function registers each finished export as a table of its one Glue database, named by the export (unknown in advance), and moves <table>_latest.',
  },
];

type Json = unknown;
interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: Json | Json[];
}

const toArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A resolved CloudFormation value as cdk-nag flattens it into finding ids. */
export function flattenReference(node: Json): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const obj = node as Record<string, Json>;
  const join = obj['Fn::Join'] as [string, Json[]] | undefined;
  if (join) return join[1].map(flattenReference).join(join[0]);
  if (obj['Fn::Sub']) return flattenReference(obj['Fn::Sub']);
  const getAtt = obj['Fn::GetAtt'] as [Json, Json] | undefined;
  if (getAtt) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
  if (obj['Fn::ImportValue']) return flattenReference(obj['Fn::ImportValue']);
  if (obj.Ref) return `<${flattenReference(obj.Ref)}>`;
  return JSON.stringify(node);
}

/** Acknowledges the expected wildcard resources of every IAM policy under `scope`. */
export function acknowledgeWildcards(scope: IConstruct): void {
  for (const node of scope.node.findAll()) {
    if (!(node instanceof CfnPolicy)) continue;
    const doc = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
    // finding -> reason, or null once any statement producing it is unexpected
    const findings = new Map<string, string | null>();
    for (const statement of doc.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = toArray(statement.Action);
      for (const resource of toArray(statement.Resource).map(flattenReference)) {
        if (!resource.includes('*')) continue;
        const rule = WILDCARD_RULES.find(
          (r) => r.resource.test(resource) && actions.every((action) => r.actions.test(action)),
        );
        const finding = `AwsSolutions-IAM5[Resource::${resource}]`;
        const before = findings.get(finding);
        findings.set(finding, rule && before !== null ? rule.reason : null);
      }
    }
    for (const [id, reason] of findings) {
      if (reason) Validations.of(node).acknowledge({ id, reason });
    }
  }
}

/** The Node.js 22 runtime (AwsSolutions-L1 asks for the newest, Node.js 24). */
export function acknowledgeRuntime(fn: IConstruct): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node.js 22 is the runtime ddb-rewind targets and tests (an LTS release supported by Lambda); all functions move to the next LTS together.',
  });
}

/** The dead-letter queue of an EventBridge rule's target (AwsSolutions-SQS3). */
export function acknowledgeEventTargetQueue(queue: IConstruct): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue: of the pack schedule rule target, holding schedule events that could not start the pack state machine.',
  });
}

/** A bucket created without server access logs (AwsSolutions-S1). */
export function acknowledgeNoAccessLogs(bucket: IConstruct): void {
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Server access logs are opt-in (serverAccessLogsBucket): every backup write would add a log line, and CloudTrail S3 data events are the audit alternative.',
  });
}
