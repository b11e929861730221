import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * bin/ddb-rewind.js, or the same CLI compiled once per run by the integration setup
 * (cli-build.ts); test/unit/cli-bin.test.ts runs the bin script itself.
 */
const BIN = process.env.DDB_REWIND_TEST_CLI ?? join(__dirname, '..', '..', 'bin', 'ddb-rewind.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test's environment without the SDK's quieting variable: the CLI must quiet the SDK itself. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

/** Runs `ddb-rewind` as a user would (bin script, real process, the test's environment). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = userEnv(),
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The backfill both backfill tests run: four segments, a checkpoint dir, DynamoDB Local's minute precision. */
export const localBackfillArgs = (table: string, bucket: string, checkpointDir: string): string[] => [
  'backfill',
  '--table',
  table,
  '--bucket',
  bucket,
  '--segments',
  '4',
  '--checkpoint-dir',
  checkpointDir,
  '--time-precision-ms',
  '60000',
  '--json',
];

/** Starts `ddb-rewind` and kills it with SIGKILL once `until` resolves: a crash mid-run. */
export async function runCliKilled(
  args: string[],
  env: NodeJS.ProcessEnv,
  until: Promise<unknown>,
): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    stdio: 'ignore',
  });
  await until;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}
