import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawnReaper } from '../support/fixtures';

/**
 * Removes the scratch buckets the run's test files queued (fixtures.ts' reapBuckets), from a
 * detached process, so neither the tests nor this run wait for it.
 */
export default async function globalTeardown(): Promise<void> {
  const queue = process.env.DDB_REWIND_REAP_QUEUE;
  if (!queue) return;
  const buckets = [...new Set(readFileSync(queue, 'utf8').split('\n').filter(Boolean))];
  spawnReaper(buckets);
  rmSync(dirname(queue), { recursive: true, force: true });
  delete process.env.DDB_REWIND_REAP_QUEUE;
}
