import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RewindError } from '../core/errors';
import { appConfig } from './app-context';
import { BackupStack } from './backup-stack';

// cdk synth|deploy -c tables=orders,users [-c prefix=backups/] [-c alarmTopicArn=arn:...] [-c stackName=...]
const app = new App();
try {
  const config = appConfig((key) => app.node.tryGetContext(key));
  new BackupStack(app, config.stackName, { config });
} catch (err) {
  // A wrong context or prop is a one-line message that says what to do, not a stack trace.
  if (!(err instanceof RewindError)) throw err;
  console.error(`${err.name}: ${err.message}`);
  process.exit(err.exitCode);
}
// Every synth is checked against the AWS Solutions rules; accepted findings carry their reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
