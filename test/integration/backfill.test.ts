import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriter } from '../../core/aws/batch-writer';
import { restore } from '../../core/aws/restore';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler } from '../../core/aws/stream-writer';
import { verify } from '../../core/aws/verify';
import { listVersionsOfKey, readVersionMeta } from '../../core/aws/version-store';
import { type ChangeMeta, metaToS3 } from '../../core/change-record';
import { wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { hashPrefixOf, objectKeyFor } from '../../core/object-key';
import { localBackfillArgs, runCli, runCliKilled, userEnv } from '../support/cli';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { seeded } from '../support/workload';

// The items exist before the stream does: only a backfill can back them up.
const { s3, dynamodb, streams, bucket, table, loc, track } = scratchBackup('backfill', {
  ...PK_ONLY,
  stream: false,
});
const dir = mkdtempSync(join(tmpdir(), 'rw-backfill-'));
const env = userEnv();
const ITEMS = 2500;

beforeAll(async () => {
  const writer = new BatchWriter(dynamodb, { table, concurrency: 8 });
  for (let i = 0; i < ITEMS; i++)
    await writer.add({
      PutRequest: {
        Item: wireItemToSdk({ pk: { S: `item-${i}` }, v: { N: '0' }, pad: { S: 'x'.repeat(200) } }),
      },
    });
  await writer.flush();
  await dynamodb.send(
    new UpdateTableCommand({
      TableName: table,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
});

const drainStream = () =>
  runStream(
    {
      dynamodb,
      streams,
      log: silentLog,
      handler: streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 }),
    },
    { table, drain: true, checkpointFile: join(dir, 'stream.json'), pollIntervalMs: 50 },
  );

describe('backfill and verify', () => {
  it('backs up existing items while the stream writer backs up live changes, interrupted and resumed, and ends in sync', async () => {
    // Live changes run all through the backfill; the stream runner follows them.
    const controller = new AbortController();
    const runner = runStream(
      {
        dynamodb,
        streams,
        log: silentLog,
        handler: streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 }),
      },
      {
        table,
        drain: false,
        checkpointFile: join(dir, 'stream.json'),
        pollIntervalMs: 50,
        // Lambda's batching window: fewer, larger batches of the live changes.
        batchWindowMs: 500,
        signal: controller.signal,
      },
    );
    let writing = true;
    const rand = seeded(7);
    const changes = (async () => {
      let n = 0;
      while (writing) {
        const key = { pk: { S: `item-${Math.floor(rand() * ITEMS)}` } };
        if (rand() < 0.2)
          await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk(key) }));
        else
          await dynamodb.send(
            new PutItemCommand({ TableName: table, Item: wireItemToSdk({ ...key, v: { N: String(++n) } }) }),
          );
        // Paced (~150 a second): enough to race every scan page, without thousands of versions to clean up.
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const args = localBackfillArgs(table, bucket, join(dir, 'cp'));
    await runCliKilled(args, env, new Promise((r) => setTimeout(r, 2500)));
    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.segments).toBe(4);

    writing = false;
    await changes;
    controller.abort();
    await runner;
    await drainStream();

    const report = await verify({ s3, dynamodb }, { source: loc, settleMs: 500 });
    expect(report.drift).toEqual([]);
    expect(report.checkedItems).toBeGreaterThanOrEqual(ITEMS - 600);

    await new Promise((r) => setTimeout(r, 2200));
    const target = `${table}-now`;
    track(target);
    await restore(
      { s3, dynamodb, log: silentLog },
      { source: loc, atMs: Date.now(), targetTable: target, mode: 'upsert', createTable: true },
    );
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(
      await tableState(dynamodb, table, loc, ['pk']),
    );
  });

  it('reports an item deleted from the bucket by hand and an item changed without the stream running', async () => {
    const gone = objectKeyFor(loc, { pk: { S: 'item-1' } });
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: 'item-1' }, v: { N: '-1' } }) }),
    );
    await drainStream();
    const versions = await listVersionsOfKey(s3, bucket, gone);
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: versions.map((v) => ({ Key: gone, VersionId: v.versionId })) },
      }),
    );
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: 'item-2' }, v: { N: '-2' } }) }),
    );

    const out = await runCli(
      ['verify', '--table', table, '--bucket', bucket, '--settle-ms', '300', '--json'],
      env,
    );
    expect(out.code).toBe(1);
    const report = JSON.parse(out.stdout);
    expect(report.inSync).toBe(false);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'missing-from-backup', objectKey: gone }),
        expect.objectContaining({ kind: 'differs', objectKey: objectKeyFor(loc, { pk: { S: 'item-2' } }) }),
      ]),
    );
    expect(JSON.stringify(report)).not.toContain('"N":"-2"');
    await drainStream();
  });

  it('reads past a backfill version, or a moved copy, left above a newer delete by a backfill killed mid-repair', async () => {
    const put = (pk: string, v: number) =>
      dynamodb.send(
        new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: pk }, v: { N: String(v) } }) }),
      );
    const del = (pk: string) =>
      dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: pk } }) }));
    await put('killed', 1);
    await put('moved', 1);
    await put('moved', 2);
    await drainStream();
    const scannedAt = Date.now();
    await del('killed');
    await del('moved');
    await drainStream();

    // What a backfill killed after its PUT leaves: its version above the delete it did not see.
    const killed = objectKeyFor(loc, { pk: { S: 'killed' } });
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: killed,
        Body: JSON.stringify({ pk: { S: 'killed' }, v: { N: '1' } }),
        ContentType: 'application/json',
        Metadata: metaToS3({
          timeMs: Math.floor(scannedAt / 60_000) * 60_000,
          scanMs: scannedAt,
          event: 'BACKFILL',
          cause: 'backfill',
          keyNames: ['pk'],
        }),
      }),
    );
    // What a change landing during a repair leaves: a moved copy above the delete.
    const moved = objectKeyFor(loc, { pk: { S: 'moved' } });
    const two = (await listVersionsOfKey(s3, bucket, moved)).filter((v) => !v.isDeleteMarker)[1];
    const twoMeta = await readVersionMeta(s3, bucket, moved, two?.versionId as string);
    expect(twoMeta?.event).toBe('MODIFY');
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: moved,
        CopySource: `${bucket}/${moved.split('/').map(encodeURIComponent).join('/')}?versionId=${two?.versionId}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        Metadata: metaToS3({ ...(twoMeta as ChangeMeta), moved: true }),
      }),
    );

    const report = await verify({ s3, dynamodb }, { source: loc, settleMs: 300 });
    expect(report.drift.filter((d) => d.objectKey === killed || d.objectKey === moved)).toEqual([]);
    const target = track(`${table}-killed`);
    // Only the hash prefixes of the two items, through the same scan a whole-table restore runs
    // (not the single-item reads of --keys): the 2500 others were restored in the first test.
    const ranges = [...new Set([killed, moved].map((k) => hashPrefixOf(loc, k)))]
      .sort()
      .map((hh) => ({ from: hh, to: hh }));
    const restored = await restore(
      { s3, dynamodb, log: silentLog },
      { source: loc, atMs: Date.now(), targetTable: target, mode: 'upsert', createTable: true, ranges },
    );
    // About ten items a prefix: the two prefixes were read, not skipped.
    expect(restored.itemsPut).toBeGreaterThan(0);
    for (const pk of ['killed', 'moved']) {
      const got = await dynamodb.send(
        new GetItemCommand({
          TableName: target,
          Key: wireItemToSdk({ pk: { S: pk } }),
          ConsistentRead: true,
        }),
      );
      expect({ pk, item: got.Item }).toEqual({ pk, item: undefined });
    }
  });
});
