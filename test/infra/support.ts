import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/**
 * An app with cdk.json's feature flags, so tests see the template `cdk synth` writes.
 * `fast: true` is for stacks that only test properties: it skips esbuild (placeholder code) and
 * CDK's CloudFormation schema validation, whose first run in each test file costs seconds. The
 * default stack (table-backup.test.ts) keeps both, as `cdk synth` does.
 */
export function testApp(options: { fast?: boolean } = {}): App {
  return new App({
    context: {
      ...cdkJson.context,
      ...(options.fast
        ? { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:validateAgainstDefaultRules': false }
        : {}),
    },
  });
}

export const testStack = (options: { fast?: boolean } = {}): Stack => new Stack(testApp(options), 'Test');

/** The logical id CloudFormation sees for a construct's default resource (or the resource itself). */
export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

export const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});

/** `arn:<partition>:dynamodb:<region>:<account>:table/<name>`, as an env-agnostic stack renders it. */
export const tableArn = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':dynamodb:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:table/${name}`,
    ],
  ],
});

/** `<bucket ARN><suffix>` for a bucket of the stack. */
export const objectsArn = (bucket: IConstruct, suffix: string) => ({
  'Fn::Join': ['', [getAtt(bucket), suffix]],
});

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the identity policies attached to a role, in template order. */
export function roleStatements(template: Template, role: IConstruct): Statement[] {
  const roleRef = { Ref: logicalId(role) };
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleRef]) },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

/** Sorted `effect action` pairs of a role's policies: what it may do, at a glance. */
export const actionsOf = (statements: Statement[]): string[] =>
  statements
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).map((a) => `${s.Effect} ${a}`))
    .sort();

/** Template JSON with asset hashes masked, so the snapshot changes only when the template does. */
export function masked(template: Template): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

/** A state of an Amazon States Language definition, as the tests read it. */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  [field: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  QueryLanguage?: string;
  Comment?: string;
  States: Record<string, AslState>;
}

// What CloudFormation would put in place of each reference, so a definition reads as deployed.
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};
function placeholder(node: unknown): string {
  const ref = (node as { Ref?: string }).Ref;
  if (ref !== undefined) return PSEUDO[ref] ?? `ref-${ref}`;
  const getAtt = (node as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  // Every attribute a definition names is a Lambda function's ARN.
  if (getAtt?.[1] === 'Arn') return `arn:aws:lambda:eu-west-1:123456789012:function:${getAtt[0]}`;
  throw new Error(`Unexpected reference in a state machine definition: ${JSON.stringify(node)}`);
}

/**
 * The definition of a state machine of the template (the first one, or `machine`'s), as JSON:
 * the Fn::Join of its DefinitionString joined with each reference replaced by what it would
 * resolve to (`ref-<logical id>` for a resource's Ref, a Lambda ARN for a GetAtt Arn).
 */
export function definitionOf(template: Template, machine?: IConstruct): AslDefinition {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const resource = machine ? machines[logicalId(machine)] : Object.values(machines)[0];
  const body = (resource as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  if (typeof body === 'string') return JSON.parse(body) as AslDefinition;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : placeholder(p))).join('');
  return JSON.parse(text) as AslDefinition;
}

/**
 * AwsSolutions findings left after acknowledgments, as `rule path`. cdk-nag v3 reports through
 * CDK's policy validation (not annotations), so the pack is run on the tree directly.
 */
export function nagErrors(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations
    .filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
}

/** Nag warnings too: the app's synth fails on any unacknowledged violation. */
export function nagViolations(scope: IConstruct): string[] {
  return new AwsSolutionsChecks(undefined)
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}`),
    );
}

/** CDK error annotations (including any AwsSolutions ones a v2-style pack would add). */
export const errorAnnotations = (stack: Stack) =>
  Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('.*'));
