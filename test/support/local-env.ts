import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const stackDir = (): string =>
  process.env.DDB_REWIND_STACK_DIR ?? join(__dirname, '..', '..', '.stack');

export const stackHint =
  'start the local stack with `npm run stack:up` (logs in .stack/log), or point AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB at your own servers';

/**
 * Loads the local stack's SDK variables (written by `scripts/stack.sh up`) into process.env,
 * leaving any variable the user set alone, so tests can also run against other servers.
 */
export function loadStackEnv(): void {
  const file = join(stackDir(), 'env');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && process.env[match[1]] === undefined) process.env[match[1]] = match[2];
  }
}

/** A name valid for a DynamoDB table and an S3 bucket, unique per test file run. */
export function randomName(prefix: string): string {
  return `rw-${prefix}-${randomBytes(5).toString('hex')}`.toLowerCase();
}
