import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// What `npm install ddb-rewind` gives: the packed tarball installed into a scratch CDK app (from
// npm's cache: --prefer-offline), a stack synthesized from `ddb-rewind/cdk`, the library entry,
// the types under both module resolutions, and the CLI run without tsx.
const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const scratch = mkdtempSync(join(tmpdir(), 'ddb-rewind-package-'));
const run = (cmd: string, args: string[], cwd = scratch) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });

let tarball: string;
beforeAll(() => {
  // `npm pack` runs prepack: `npm run build`, as a publish would.
  const out = run('npm', ['pack', '--silent', '--pack-destination', scratch], ROOT).trim().split('\n');
  tarball = join(scratch, out.at(-1) ?? '');
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({
      name: 'scratch-cdk-app',
      private: true,
      dependencies: {
        'ddb-rewind': `file:${tarball}`,
        'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'],
        constructs: pkg.devDependencies.constructs,
        '@types/node': pkg.devDependencies['@types/node'],
      },
    }),
  );
  run('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--loglevel=error',
  ]);
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the installed package', () => {
  it('ships compiled JavaScript, declarations and prebuilt functions, and no TypeScript sources', () => {
    const files = run('tar', ['-tzf', tarball]).split('\n');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/infra/index.d.ts');
    expect(files).toContain('package/dist/core/index.d.ts');
    expect(files).toContain('package/dist/console/assets/console.js');
    expect(files.filter((f) => /^package\/dist\/lambda\/[^/]+\/index\.js$/.test(f)).length).toBe(4);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(existsSync(join(scratch, 'node_modules', 'tsx'))).toBe(false);
  });

  it('synthesizes a stack from ddb-rewind/cdk with the prebuilt functions', () => {
    writeFileSync(
      join(scratch, 'app.js'),
      `const cdk = require('aws-cdk-lib');
const { TableBackup } = require('ddb-rewind/cdk');
const app = new cdk.App({ outdir: 'cdk.out' });
const stack = new cdk.Stack(app, 'Scratch');
new TableBackup(stack, 'Orders', { table: 'orders' });
app.synth();
`,
    );
    run(process.execPath, ['app.js']);
    const template = JSON.parse(readFileSync(join(scratch, 'cdk.out', 'Scratch.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const f of functions.filter((x) => x.Properties.Runtime === 'nodejs22.x'))
      expect(f.Properties.Handler).toBe('index.handler');
    const assets = readdirSync(join(scratch, 'cdk.out')).filter((d) => d.startsWith('asset.'));
    expect(assets.some((a) => existsSync(join(scratch, 'cdk.out', a, 'index.js')))).toBe(true);
  });

  it('type-checks imports of the library and the construct under node10 and node16 resolution', () => {
    writeFileSync(
      join(scratch, 'consumer.ts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { TableBackup, type TableBackupProps } from 'ddb-rewind/cdk';
import { backupLocation, type ItemKey, itemHistory, BackupReader } from 'ddb-rewind';
const props: TableBackupProps = { table: 'orders' };
new TableBackup(new Stack(new App(), 'S'), 'B', props);
const key: ItemKey = { pk: { S: 'a' } };
export const history = (s3: ConstructorParameters<typeof BackupReader>[0]) =>
  itemHistory(new BackupReader(s3, backupLocation('bucket-name', 'orders')), key);
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const resolution of [
      ['--module', 'commonjs', '--moduleResolution', 'node10'],
      ['--module', 'node16', '--moduleResolution', 'node16'],
    ]) {
      const r = spawnSync(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--target',
          'es2022',
          '--types',
          'node',
          ...resolution,
          'consumer.ts',
        ],
        { cwd: scratch, encoding: 'utf8' },
      );
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('runs the installed CLI and the library without tsx', () => {
    const bin = join(scratch, 'node_modules', '.bin', 'ddb-rewind');
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/restore .*\n/);
    expect(help.stdout).toMatch(/\bui\b/);
    const bad = spawnSync(bin, ['show', '--table', 't', '--bucket', 'b', '--key', '{}'], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^ddb-rewind: Expected `--bucket`/),
    ]);
    const lib = run(process.execPath, [
      '-e',
      "console.log(JSON.stringify(require('ddb-rewind').backupLocation('my-backups', 'orders', 'p')))",
    ]);
    expect(JSON.parse(lib)).toEqual({ bucket: 'my-backups', prefix: 'p/', table: 'orders' });
  });
});
