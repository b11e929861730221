#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so a checkout needs no build step.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
