import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The CLI compiled into one file for the integration tests' hundred-odd spawns: the same sources
 * bin/ddb-rewind.js runs through tsx, bundled by the esbuild tsx itself uses, so a spawn does not
 * transpile and resolve every module again (`--help`: 0.3 s of CPU against 0.7 s). Written under
 * .build/ at each run, so it is never older than the sources. Returns the script to run.
 */
export function buildTestCli(root: string): string {
  const dir = join(root, '.build', 'test-cli');
  mkdirSync(dir, { recursive: true });
  buildSync({
    entryPoints: [join(root, 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: join(dir, 'main.js'),
    logLevel: 'warning',
    // The console serves Chart.js's browser file from its package: found at run time, not bundled.
    external: ['chart.js'],
  });
  const bin = join(dir, 'ddb-rewind.js');
  // bin/ddb-rewind.js, without tsx: the same default for the SDK's warning, the same exit code.
  writeFileSync(
    bin,
    [
      "process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';",
      "require('./main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });",
      '',
    ].join('\n'),
  );
  return bin;
}
