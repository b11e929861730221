import { loadStackEnv } from '../support/local-env';

// Every test file loads the stack's variables itself rather than relying on globalSetup's
// process.env reaching the worker that runs it.
loadStackEnv();
