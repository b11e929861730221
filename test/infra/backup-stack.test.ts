import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appConfig } from '../../infra/app-context';
import { BackupStack } from '../../infra/backup-stack';
import { logicalId, nagErrors, nagViolations, testApp } from './support';

// What `cdk synth -c tables=orders,users -c alarmTopicArn=...` builds (infra/app.ts), plugin included.

const app = testApp({ fast: true });
const config = appConfig(
  (key) =>
    ({ tables: 'orders,users', prefix: 'ddb', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' })[key],
);
const stack = new BackupStack(app, 'DdbRewind', { config });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const template = Template.fromStack(stack);

describe('the app stack', () => {
  it('is environment-agnostic (synthesizes without credentials or lookups)', () => {
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('backs up every table into one shared bucket, each under <prefix><table>/', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    // Per table: the stream's mapping and the on-failure queue's.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    // Per table: restore, pack, export, verify, backfill and undo.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 12);
    template.resourceCountIs('Custom::DdbRewindStartExecution', 2);
    template.resourceCountIs('Custom::DdbRewindStream', 2);
    const bucket = { Ref: logicalId(stack.backupBucket.bucket) };
    for (const table of ['orders', 'users']) {
      template.hasResourceProperties('Custom::DdbRewindStream', { TableName: table });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { BACKUP_BUCKET: bucket, BACKUP_PREFIX: 'ddb/' } },
    });
  });

  it('sends every alarm to the given topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(14);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
  });

  it('has no AWS Solutions finding left, so `cdk synth` with the nag plugin succeeds', () => {
    expect(nagErrors(stack)).toEqual([]);
    expect(nagViolations(stack)).toEqual([]);
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});
