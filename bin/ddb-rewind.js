#!/usr/bin/env node
// The AWS SDK prints a multi-line NodeVersionSupportWarning to stderr on Node < 22, where scripts
// read ddb-rewind's one-line messages. The README says which Node versions are supported; a
// user's own setting of the variable wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
// A checkout runs its TypeScript sources through tsx (no build step, never stale); the installed
// package ships no sources, only the JavaScript `npm run build` compiled into dist/.
const source = join(__dirname, '..', 'cli', 'main.ts');
let cli;
if (existsSync(source)) {
  require('tsx/cjs');
  cli = require(source);
} else {
  cli = require('../dist/cli/main.js');
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
