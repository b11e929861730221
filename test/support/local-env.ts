import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `scripts/stack.sh` keeps its state: `DDB_REWIND_STACK_DIR`, or `<repo>/.stack`. */
export const stackDir = (): string =>
  process.env.DDB_REWIND_STACK_DIR ?? join(__dirname, '..', '..', '.stack');

/** What to tell someone whose local stack is not answering. */
export const stackHint = `start it with \`npm run stack:up\` (logs: ${join(stackDir(), 'log')})`;

/**
 * Loads the SDK variables that `scripts/stack.sh up` wrote to `<stack dir>/env` into
 * `process.env`. A variable that is already set wins, so tests can be pointed at other servers.
 *
 * @example
 * loadStackEnv();
 * new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
 */
export function loadStackEnv(): void {
  const file = join(stackDir(), 'env');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    if (process.env[match[1]] === undefined) process.env[match[1]] = match[2];
  }
}

/**
 * A fresh name that is valid both as a DynamoDB table name and as an S3 bucket name
 * (3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or
 * digit), so one test file can use it for both.
 *
 * @example
 * randomName('Restore_Test'); // 'rw-restore-test-3f9a0c21d4'
 */
export function randomName(prefix: string): string {
  const suffix = randomBytes(5).toString('hex');
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - 'rw--'.length - suffix.length)
    .replace(/-+$/, '');
  return clean ? `rw-${clean}-${suffix}` : `rw-${suffix}`;
}
