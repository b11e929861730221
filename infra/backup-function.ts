import * as path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARCHITECTURE, bundling, REPO_ROOT, RUNTIME } from './defaults';
import { acknowledgeRuntime } from './nag-suppressions';

export interface BackupFunctionProps {
  /** Entry file relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** @default - only NODE_OPTIONS */
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A Node.js 22 arm64 function bundled by the local esbuild, with its own role and log group.
 * The role starts empty (no AWSLambdaBasicExecutionRole): it may write to this log group only,
 * and the caller adds exactly what the code does.
 */
export class BackupFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BackupFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.logGroup.grantWrite(this.role);
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      bundling: bundling(),
      environment: {
        ...props.environment,
        // Bundles are minified: stack traces in the logs point at the TypeScript source instead.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledgeRuntime(this);
  }
}
