import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { clientsFromEnv } from '../../core/aws/clients';
import { restore } from '../../core/aws/restore';
import { listKeyVersions, readVersion } from '../../core/aws/version-store';
import { canonicalItemJson, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation, itemsRoot } from '../../core/object-key';
import { runCli } from '../support/cli';
import { createTable, createVersionedBucket, deleteBucket, dropTable } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { tableState } from '../support/table-state';
import { seeded } from '../support/workload';

const { s3, dynamodb } = clientsFromEnv();
const bucket = randomName('crash');
const table = randomName('crash');
const target = `${table}-restored`;
const checkpoints = mkdtempSync(join(tmpdir(), 'rw-crash-'));
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

beforeAll(async () => {
  await createVersionedBucket(s3, bucket);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
});
afterAll(async () => {
  await dropTable(dynamodb, table);
  await dropTable(dynamodb, target);
  await deleteBucket(s3, bucket);
});

/** Starts the follow-mode runner as a separate process, so it can really be killed with -9. */
function startRunner() {
  return spawn(
    process.execPath,
    [
      join(__dirname, '..', '..', 'bin', 'ddb-rewind.js'),
      'stream',
      '--table',
      table,
      '--bucket',
      bucket,
      '--checkpoint-dir',
      checkpoints,
      '--batch-size',
      '20',
    ],
    { env, stdio: 'ignore' },
  );
}

describe('stream runner killed with SIGKILL mid-batch', () => {
  it('loses nothing and leaves nothing stale: after restarts the backup restores to the live table', async () => {
    const rand = seeded(9);
    let runner = startRunner();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 150; i++) {
        const n = Math.floor(rand() * 60);
        const key = { pk: { S: `item-${n}` } };
        if (rand() < 0.2)
          await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk(key) }));
        else
          await dynamodb.send(
            new PutItemCommand({
              TableName: table,
              Item: wireItemToSdk({ ...key, round: { N: String(round) }, i: { N: String(i) } }),
            }),
          );
      }
      // Let it get into a batch, then kill it without warning and start it again.
      await new Promise((r) => setTimeout(r, 150 + Math.floor(rand() * 300)));
      runner.kill('SIGKILL');
      await new Promise((r) => runner.once('exit', r));
      runner = startRunner();
    }
    runner.kill('SIGTERM');
    await new Promise((r) => runner.once('exit', r));
    const drained = await runCli(
      ['stream', '--table', table, '--bucket', bucket, '--checkpoint-dir', checkpoints, '--drain'],
      env,
    );
    expect(drained.code).toBe(0);

    const loc = backupLocation(bucket, table);
    await new Promise((r) => setTimeout(r, 2200));
    await restore(
      { s3, dynamodb, log: silentLog },
      { source: loc, atMs: Date.now(), targetTable: target, mode: 'upsert', createTable: true },
    );
    const live = await tableState(dynamodb, table, loc, ['pk']);
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(live);
    // S3's own view agrees: each item's current version is its live image, or a delete marker.
    const current = new Map<string, string>();
    for await (const group of listKeyVersions(s3, bucket, itemsRoot(loc))) {
      const top = group.versions[0];
      if (top && !top.isDeleteMarker) {
        const { body } = await readVersion(s3, bucket, group.objectKey, top.versionId);
        current.set(group.objectKey, canonicalItemJson(JSON.parse(body)));
      }
    }
    expect(current).toEqual(live);
  });
});
