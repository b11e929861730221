import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARCHITECTURE, bundling, prebuiltFolder, REPO_ROOT, RUNTIME } from './defaults';
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
  readonly fn: lambda.Function;
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
    const common: Omit<lambda.FunctionProps, 'code' | 'handler'> = {
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        // Bundles are minified: stack traces in the logs point at the TypeScript source instead.
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    const source = path.join(REPO_ROOT, props.entry);
    const prebuilt = path.join(REPO_ROOT, prebuiltFolder(props.entry));
    if (existsSync(source)) {
      this.fn = new NodejsFunction(this, 'Function', {
        ...common,
        entry: source,
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: bundling(),
      });
    } else if (existsSync(path.join(prebuilt, 'index.js'))) {
      // The installed package: the same bundle, made by `npm run build` with the same options.
      this.fn = new lambda.Function(this, 'Function', {
        ...common,
        code: lambda.Code.fromAsset(prebuilt),
        handler: 'index.handler',
      });
    } else {
      throw new Error(
        `Neither ${source} nor the prebuilt ${prebuilt}/index.js exists: in a checkout, run npm run build; in the package, reinstall it`,
      );
    }
    acknowledgeRuntime(this);
  }
}
