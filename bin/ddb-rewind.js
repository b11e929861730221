#!/usr/bin/env node
// The AWS SDK prints a multi-line NodeVersionSupportWarning to stderr on Node < 22, where scripts
// read ddb-rewind's one-line messages. The README says which Node versions are supported; a
// user's own setting of the variable wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Runs the TypeScript sources directly (tsx), so a checkout needs no build step.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
