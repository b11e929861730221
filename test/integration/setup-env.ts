import { loadStackEnv } from '../support/local-env';

// Each jest worker is its own process: give it the stack's variables too.
loadStackEnv();
