/**
 * `npm run build` (and `npm pack`'s prepack): the installable package in dist/.
 * - tsc: JavaScript and declarations of core, cli, console, infra and functions (tsconfig.build.json);
 *   the CLI runs from dist/cli/main.js with no tsx (bin/ddb-rewind.js picks it when no sources ship).
 * - esbuild: each Lambda function bundled as the construct bundles it in a checkout
 *   (infra/defaults.ts `bundling()`), into dist/lambda/<entry>/index.js: the installed construct
 *   deploys these (Code.fromAsset) instead of bundling sources it does not have.
 * - the console's CSS and script beside its compiled modules.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { LAMBDA_ENTRIES, prebuiltFolder } from '../infra/defaults';

const root = join(__dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
for (const entry of Object.values(LAMBDA_ENTRIES)) {
  buildSync({
    entryPoints: [join(root, entry)],
    outfile: join(dist, prebuiltFolder(entry), 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  });
}
cpSync(join(root, 'console', 'assets'), join(dist, 'console', 'assets'), { recursive: true });
console.log(
  `built ${dist}: ${Object.keys(LAMBDA_ENTRIES).length} functions, the CLI, the construct, the library`,
);
