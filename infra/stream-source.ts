import { CfnResource, CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { InputError } from '../core/errors';
import { BackupFunction } from './backup-function';
import { type AnyTable, asTable } from './cdk-types';
import { DEFAULTS, LAMBDA_ENTRIES } from './defaults';
import { acknowledgeWildcards } from './nag-suppressions';
import { appTableFix, existingTableFix, streamViewTypeProblem } from './stream-view-type';

/** The table a TableBackup reads, with a stream ARN the event source mapping can use. */
export interface StreamSource {
  /** A table whose `tableStreamArn` is set. */
  readonly table: dynamodb.ITable;
  /** The table's name (a token for a table of this app). */
  readonly tableName: string;
  /** The custom resource that enables or checks the stream of an existing table. @default - none (a table of the app) */
  readonly streamResource?: CustomResource;
}

/**
 * Resolves `table` (a table of this app, or the name of an existing one) to a streamed table.
 * A table of this app must already have a stream with new images (checked now). An existing
 * table's stream is enabled (NEW_AND_OLD_IMAGES) or checked at deploy by a custom resource;
 * a `streamViewType` given for it is checked now.
 */
export function streamSource(
  scope: Construct,
  given: AnyTable | string,
  streamViewType: dynamodb.StreamViewType | undefined,
): StreamSource {
  const table = typeof given === 'string' ? given : asTable(given);
  const name = typeof table === 'string' ? table : table.tableName;
  if (streamViewType !== undefined) {
    const label = Token.isUnresolved(name) && typeof table !== 'string' ? table.node.path : name;
    const problem = streamViewTypeProblem(label, streamViewType, existingTableFix(label));
    if (problem) throw new InputError(problem);
  }
  if (typeof table !== 'string') {
    const cfn = table.node.defaultChild;
    if (cfn instanceof CfnResource && isTableResource(cfn)) return appTable(table, cfn);
  }
  const streamResource = StreamEnabler.of(scope).streamResource(scope, name);
  return {
    table: dynamodb.Table.fromTableAttributes(scope, 'SourceTable', {
      tableName: name,
      tableStreamArn: streamResource.getAttString('StreamArn'),
    }),
    tableName: name,
    streamResource,
  };
}

const isTableResource = (cfn: CfnResource): boolean =>
  cfn.cfnResourceType === 'AWS::DynamoDB::Table' || cfn.cfnResourceType === 'AWS::DynamoDB::GlobalTable';

function appTable(table: dynamodb.ITable, cfn: CfnResource): StreamSource {
  const label = table.node.path;
  const spec = Stack.of(table).resolve(
    (cfn as dynamodb.CfnTable | dynamodb.CfnGlobalTable).streamSpecification,
  ) as { streamViewType?: unknown } | undefined;
  if (!table.tableStreamArn || !spec) {
    throw new InputError(
      `Table ${label} has no stream, and ddb-rewind reads every change from it: ${appTableFix}`,
    );
  }
  if (typeof spec.streamViewType === 'string') {
    const problem = streamViewTypeProblem(label, spec.streamViewType, appTableFix);
    if (problem) throw new InputError(problem);
  }
  return { table, tableName: table.tableName };
}

/**
 * One custom-resource provider per stack, shared by every existing table it backs up. Its
 * function may describe and update only the tables added to it.
 */
export class StreamEnabler extends Construct {
  static readonly ID = 'DdbRewindStreamEnabler';

  static of(scope: Construct): StreamEnabler {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild(StreamEnabler.ID) as StreamEnabler | undefined) ?? new StreamEnabler(stack)
    );
  }

  readonly handler: BackupFunction;
  readonly provider: cr.Provider;

  private constructor(stack: Stack) {
    super(stack, StreamEnabler.ID);
    this.handler = new BackupFunction(this, 'OnEvent', {
      entry: LAMBDA_ENTRIES.ensureStream,
      description: 'ddb-rewind: enables or checks the stream of each backed-up table',
      memorySize: 256,
      timeout: Duration.minutes(5),
      logRetention: DEFAULTS.logRetention,
    });
    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ddb-rewind: custom resource provider framework',
    });
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', { retention: DEFAULTS.logRetention });
    frameworkLogs.grantWrite(frameworkRole);
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.fn,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    acknowledgeWildcards(this);
  }

  /** A custom resource in `scope` that makes sure `tableName` has a usable stream. */
  streamResource(scope: Construct, tableName: string): CustomResource {
    const tableArn = Stack.of(scope).formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: tableName,
    });
    const policy = new iam.Policy(scope, 'StreamEnablerPolicy', {
      roles: [this.handler.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['dynamodb:DescribeTable', 'dynamodb:UpdateTable'],
          resources: [tableArn],
        }),
      ],
    });
    const resource = new CustomResource(scope, 'Stream', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::DdbRewindStream',
      properties: { TableName: tableName },
    });
    // The handler may only touch the table once this table's policy exists.
    resource.node.addDependency(policy);
    return resource;
  }
}
