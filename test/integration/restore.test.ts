import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriter } from '../../core/aws/batch-writer';
import { exportAsOf } from '../../core/aws/export-as-of';
import { type RestoreJobRequest, restoreJob } from '../../core/aws/jobs/restore-job';
import { runJob } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { canonicalItemJson, type WireItem, wireItemToSdk } from '../../core/ddb-json';
import { keyOf } from '../../core/item-key';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { createTable, EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('restore', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const KEYS = ['pk', 'sk'];
let work: Workload;

const expected = (atMs: number) => expectedAsOf(work, loc, atMs);

async function restoreInto(atMs: number, extra: Partial<RestoreJobRequest> = {}) {
  const target = extra.targetTable ?? randomName('target');
  if (!extra.targetTable) track(target);
  // As the CLI runs it: the job reads an existing target once, then restores.
  const summary = await runJob(deps, restoreJob, {
    source: loc,
    atMs,
    targetTable: target,
    mode: 'upsert',
    createTable: !extra.targetTable,
    clockSkewMs: 0,
    ...extra,
  });
  return { target, summary };
}

/**
 * A new table holding the model's table as of T, written directly: the starting point of the
 * tests that restore over an existing table. What they check is the restore into it; building the
 * start with a whole restore cost one more restore each (about 7 s), for the same items.
 */
async function tableAsOf(atMs: number): Promise<string> {
  const target = track(randomName('target'));
  await createTable(dynamodb, target, { ...PK_SK, stream: false });
  const writer = new BatchWriter(dynamodb, { table: target, concurrency: 8 });
  for (const json of expected(atMs).values())
    await writer.add({ PutRequest: { Item: wireItemToSdk(JSON.parse(json) as WireItem) } });
  await writer.flush();
  expect(await tableState(dynamodb, target, loc, KEYS)).toEqual(expected(atMs));
  return target;
}

beforeAll(async () => {
  const events = new EventBuilder(table);
  const start = Math.floor(Date.now() / 1000) - 7200;
  // 800 changes over 300 keys: eight batches (3 and 7 redelivered below), busy seconds, deletes
  // and re-inserts; 1,500 tested nothing more and cost every restore in this file twice the reads.
  work = randomWorkload(events, 20261124, 300, 800, start);
  const batches: Array<typeof work.records> = [];
  for (let i = 0; i < work.records.length; i += 100) batches.push(work.records.slice(i, i + 100));
  for (const batch of batches) {
    const out = await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(batch));
    expect(out.batchItemFailures).toEqual([]);
  }
  // At-least-once delivery: batches 3 and 7 arrive again, after everything else.
  for (const again of [batches[3], batches[7]])
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(again ?? []));
}, 300_000);

describe('point-in-time restore', () => {
  it('matches the model at instants between changes, inside busy seconds, and at the end', async () => {
    const seconds = work.records.map((r) => r.dynamodb?.ApproximateCreationDateTime as number);
    const busy = seconds.find((s, i) => seconds[i + 1] === s && seconds[i + 2] === s) as number;
    const quiet = seconds.find((s, i) => (seconds[i + 1] ?? 0) > s + 1) as number;
    const instants = [
      (work.firstS + 2) * 1000,
      (quiet + 1) * 1000 + 500,
      busy * 1000 + 999,
      Math.floor((work.firstS + work.lastS) / 2) * 1000,
      (work.lastS - 3) * 1000,
      work.lastS * 1000 + 1,
    ];
    for (const atMs of instants) {
      const { target, summary } = await restoreInto(atMs);
      const want = expected(atMs);
      expect(summary.itemsPut).toBe(want.size);
      expect(await tableState(dynamodb, target, loc, KEYS)).toEqual(want);
    }
  });

  it('refuses an instant before the backup covers the table, naming the earliest one', async () => {
    await expect(restoreInto(work.firstS * 1000 - 1)).rejects.toThrow(
      `The backup of ${table} starts at ${new Date(work.firstS * 1000).toISOString()}`,
    );
  });

  it('refuses an instant in the future', async () => {
    await expect(restoreInto(Date.now() + 60_000)).rejects.toThrow(/not to be in the future/);
  });

  it('rewinds an existing table exactly: extra items deleted, changed ones reset, equal ones left alone', async () => {
    const atMs = Math.floor((work.firstS + work.lastS) / 2) * 1000;
    const target = await tableAsOf(work.lastS * 1000);
    await dynamodb.send(
      new PutItemCommand({
        TableName: target,
        Item: wireItemToSdk({ pk: { S: 'stranger' }, sk: { N: '1' } }),
      }),
    );
    const { summary } = await restoreInto(atMs, { targetTable: target, mode: 'rewind' });
    expect(await tableState(dynamodb, target, loc, KEYS)).toEqual(expected(atMs));
    expect(summary.itemsDeleted).toBeGreaterThan(0);
    expect(summary.itemsUnchanged).toBeGreaterThan(0);
    // A second run finds nothing to do: an interrupted restore converges when run again.
    const { summary: again } = await restoreInto(atMs, { targetTable: target, mode: 'rewind' });
    expect(again).toMatchObject({ itemsPut: 0, itemsDeleted: 0, itemsUnchanged: expected(atMs).size });
  });

  it('upsert leaves items absent at T in place', async () => {
    const target = await tableAsOf(work.lastS * 1000);
    const before = await tableState(dynamodb, target, loc, KEYS);
    const atMs = (work.firstS + 5) * 1000;
    await restoreInto(atMs, { targetTable: target, mode: 'upsert' });
    const after = await tableState(dynamodb, target, loc, KEYS);
    for (const [key, json] of expected(atMs)) expect(after.get(key)).toBe(json);
    for (const key of before.keys()) expect(after.has(key)).toBe(true);
  });

  it('dry run plans without writing anything', async () => {
    const target = await tableAsOf(work.lastS * 1000);
    const before = await tableState(dynamodb, target, loc, KEYS);
    const atMs = (work.firstS + 30) * 1000;
    const { summary } = await restoreInto(atMs, { targetTable: target, mode: 'rewind', dryRun: true });
    expect(await tableState(dynamodb, target, loc, KEYS)).toEqual(before);
    expect(summary.itemsPut + summary.itemsDeleted).toBeGreaterThan(0);
    expect(summary.samples?.put.length ?? 0).toBeGreaterThan(0);
  });

  it('restores a single item exactly even when the writer lagged far behind its changes', async () => {
    const target = await tableAsOf(work.lastS * 1000);
    const atMs = Math.floor((work.firstS + work.lastS) / 2) * 1000;
    const want = expected(atMs);
    const [keyId] = [...work.model.asOf(atMs).keys()];
    const key = work.keyOf.get(keyId as string) ?? {};
    await restoreInto(atMs, { targetTable: target, mode: 'rewind', keys: [key] });
    const state = await tableState(dynamodb, target, loc, KEYS);
    expect(state.get(objectKeyFor(loc, key))).toBe(want.get(objectKeyFor(loc, key)));
  });

  it('restores a single item with at most 3 S3 requests when the writer keeps up', async () => {
    const events = new EventBuilder(table);
    const key = { pk: { S: 'single' }, sk: { N: '1' } };
    const nowS = () => Math.floor(Date.now() / 1000);
    await writeStreamBatch(
      deps,
      { bucket, concurrency: 4 },
      events.event([events.record('INSERT', key, nowS(), { ...key, v: { N: '1' } })]),
    );
    const atMs = Date.now() + 20;
    await new Promise((r) => setTimeout(r, 1200));
    await writeStreamBatch(
      deps,
      { bucket, concurrency: 4 },
      events.event([events.record('MODIFY', key, nowS(), { ...key, v: { N: '2' } })]),
    );
    const { target } = await restoreInto(atMs, { keys: [key] });
    const { summary } = await restoreInto(atMs, { targetTable: target, keys: [key] });
    expect(summary.s3Requests).toBeLessThanOrEqual(3);
    const state = await tableState(dynamodb, target, loc, KEYS);
    expect(state.get(objectKeyFor(loc, key))).toContain('"v":{"N":"1"}');
  });

  it('exports the table as of T in DynamoDB export format, to a file and to S3', async () => {
    const atMs = Math.floor((work.firstS + work.lastS) / 2) * 1000;
    const file = join(mkdtempSync(join(tmpdir(), 'rw-export-')), 'orders.json.gz');
    const summary = await exportAsOf({ s3, dynamodb }, { source: loc, atMs, out: file, clockSkewMs: 0 });
    const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
    const exported = new Map(
      lines.map((l) => {
        const { Item } = JSON.parse(l) as { Item: WireItem };
        return [objectKeyFor(loc, keyOf(Item, KEYS)), canonicalItemJson(Item)];
      }),
    );
    expect(summary.items).toBe(expected(atMs).size);
    expect(exported).toEqual(expected(atMs));

    await exportAsOf(
      { s3, dynamodb },
      { source: loc, atMs, out: `s3://${bucket}/exports/orders.json.gz`, clockSkewMs: 0 },
    );
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'exports/orders.json.gz' }));
    const body = Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(gunzipSync(body).toString('utf8').trim().split('\n')).toHaveLength(lines.length);
  });

  it('refuses to write into the source table without --in-place', async () => {
    await expect(restoreInto(work.lastS * 1000, { targetTable: table })).rejects.toThrow(
      /is the source table: pass --in-place/,
    );
  });
});
