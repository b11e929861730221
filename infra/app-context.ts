import { InputError } from '../core/errors';

/** What `cdk synth|deploy -c key=value` configures in infra/app.ts. */
export interface AppConfig {
  /** Existing tables to back up, one TableBackup each, all in one bucket. */
  tables: string[];
  /** Folder in the bucket for all tables. */
  prefix: string;
  stackName: string;
  /** An existing SNS topic for the alarms. */
  alarmTopicArn?: string;
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * Reads the app's context: `tables` (required: `orders,users`, or a JSON array in cdk.json),
 * `prefix`, `stackName` (default DdbRewind) and `alarmTopicArn`.
 *
 * @example
 * appConfig((key) => app.node.tryGetContext(key));
 */
export function appConfig(context: (key: string) => unknown): AppConfig {
  const raw = context('tables');
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : [];
  const tables = [...new Set(list.map((t) => t.trim()).filter(Boolean))];
  if (tables.length === 0) {
    throw new InputError(
      `Expected \`-c tables=<table>[,<table>...]\` naming the existing DynamoDB tables to back up (e.g. cdk deploy -c tables=orders,users), got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
    );
  }
  for (const table of tables) {
    if (!TABLE_NAME.test(table)) {
      throw new InputError(
        `Expected each of \`-c tables\` to be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -), got \`${table}\``,
      );
    }
  }
  const alarmTopicArn = context('alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:/.test(String(alarmTopicArn))) {
    throw new InputError(
      `Expected \`-c alarmTopicArn\` to be an SNS topic ARN, got \`${String(alarmTopicArn)}\``,
    );
  }
  return {
    tables,
    prefix: String(context('prefix') ?? ''),
    stackName: String(context('stackName') ?? 'DdbRewind'),
    ...(alarmTopicArn !== undefined ? { alarmTopicArn: String(alarmTopicArn) } : {}),
  };
}
