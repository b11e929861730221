import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestCli } from '../support/cli-build';
import { loadStackEnv, stackHint } from '../support/local-env';

/**
 * Starts the local stack before the integration tests (a running one is reused in well under a
 * second), so `npm test` works on a fresh machine. `DDB_REWIND_NO_STACK_UP=1` skips this, for
 * servers you run yourself.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DDB_REWIND_NO_STACK_UP !== '1') {
    const script = join(__dirname, '..', '..', 'scripts', 'stack.sh');
    const up = spawnSync('bash', [script, 'up'], { stdio: 'inherit' });
    if (up.error || up.status !== 0) {
      const why = up.error
        ? up.error.message
        : `\`bash scripts/stack.sh up\` exited with ${up.status ?? up.signal}`;
      throw new Error(`The local AWS stack could not come up (${why}): ${stackHint}`);
    }
  }
  loadStackEnv();
  // Workers start after this and inherit the variables (test/support/cli.ts runs this script;
  // fixtures.ts' reapBuckets queues into this file, which global-teardown.ts empties).
  process.env.DDB_REWIND_TEST_CLI = buildTestCli(join(__dirname, '..', '..'));
  const queue = join(mkdtempSync(join(tmpdir(), 'ddb-rewind-reap-')), 'buckets');
  writeFileSync(queue, '');
  process.env.DDB_REWIND_REAP_QUEUE = queue;
}
