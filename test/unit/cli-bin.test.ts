import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The integration tests run the CLI compiled once per run (test/support/cli-build.ts); this runs
// the script users run, through tsx, with no server needed.
const BIN = join(__dirname, '..', '..', 'bin', 'ddb-rewind.js');
const run = (args: string[]) => {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
};

describe('bin/ddb-rewind.js', () => {
  it('prints its commands with --help and exits 0', () => {
    const out = run(['--help']);
    expect(out.status).toBe(0);
    for (const command of ['restore', 'history', 'pack', 'export', 'undo', 'verify', 'backfill'])
      expect(out.stdout).toContain(command);
    expect(out.stderr).toBe('');
  });
  it('refuses a bad argument in one line with exit 2', () => {
    const out = run([
      'restore',
      '--table',
      'orders',
      '--bucket',
      'backups',
      '--at',
      'yesterday-ish',
      '--target-table',
      'orders-copy',
    ]);
    expect(out.status).toBe(2);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/Expected `--at` to be an ISO-8601 time/);
  });
});
