import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadStackEnv, stackHint } from '../support/local-env';

/**
 * Starts the local stack (a running one is reused) before any integration test, so
 * `npm test` works on a fresh machine. Set DDB_REWIND_NO_STACK_UP=1 to use servers you run.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DDB_REWIND_NO_STACK_UP !== '1') {
    const up = spawnSync('bash', [join(__dirname, '..', '..', 'scripts', 'stack.sh'), 'up'], {
      stdio: 'inherit',
    });
    if (up.status !== 0) throw new Error(`The local AWS stack could not come up: ${stackHint}`);
  }
  loadStackEnv();
}
