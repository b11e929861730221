import { clientsFromEnv } from '../../core/aws/clients';
import { type BackupLocation, backupLocation } from '../../core/object-key';
import { createTable, createVersionedBucket, dropTable, reapBuckets, type TableSpec } from './fixtures';
import { randomName } from './local-env';

export const PK_ONLY: TableSpec = { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] };
export const PK_SK: TableSpec = {
  keys: [
    { name: 'pk', type: 'S', role: 'HASH' },
    { name: 'sk', type: 'N', role: 'RANGE' },
  ],
};

/**
 * One test file's own versioned bucket and source table on the real servers: created before its
 * tests (before the file's own beforeAll hooks, which jest runs in order), removed after them
 * with every table the tests `track` (the bucket by a detached reaper: see reapBuckets).
 */
export function scratchBackup(name: string, spec: TableSpec = PK_ONLY) {
  const clients = clientsFromEnv();
  const bucket = randomName(name);
  const table = randomName(name);
  const tables = [table];
  beforeAll(async () => {
    await createVersionedBucket(clients.s3, bucket);
    await createTable(clients.dynamodb, table, spec);
  });
  afterAll(async () => {
    for (const t of tables) await dropTable(clients.dynamodb, t);
    reapBuckets([bucket]);
  });
  const loc: BackupLocation = backupLocation(bucket, table);
  /** Registers a table a test creates, so it is dropped afterwards; returns its name. */
  const track = (t: string): string => {
    tables.push(t);
    return t;
  };
  return { ...clients, bucket, table, loc, track };
}
