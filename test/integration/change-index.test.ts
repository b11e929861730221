import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { indexedChangesIn } from '../../core/aws/change-index-store';
import { type ChangesReport, changesIn } from '../../core/aws/changes';
import { s3Client } from '../../core/aws/clients';
import { recordGap } from '../../core/aws/gap-store';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { INDEX_FORMAT, indexMarkerKey, indexRoot, UPGRADE_MARGIN_MS } from '../../core/change-index';
import type { WireItem } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation, itemsRoot, objectKeyFor } from '../../core/object-key';
import { setIndexStart, withoutIndex } from '../support/change-index';
import { localBackfillArgs, runCli } from '../support/cli';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { EventBuilder } from '../support/fixtures';
import { PK_SK, scratchBackup } from '../support/scratch';
import { randomWorkload, type Workload } from '../support/workload';

// The change index on the real stack: `changes` read from it equals `changes` read by listing
// every version, over a seeded workload; a batch whose index PUT fails is retried whole and ends
// indexed; where the index does not cover (no index, a window before it, a gap) the listing
// answers and says why.
const { s3, dynamodb, bucket, table, loc } = scratchBackup('index', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const proxies: FaultProxy[] = [];
let work: Workload;

afterAll(async () => {
  for (const p of proxies) await p.close();
});

const windows = () => {
  const span = (work.lastS - work.firstS) * 1000;
  const t0 = work.firstS * 1000;
  return [
    { sinceMs: t0, untilMs: t0 + span },
    { sinceMs: t0 + span / 3, untilMs: t0 + span / 2 },
    { sinceMs: t0 + span / 2 + 1, untilMs: t0 + span / 2 + 30_000 },
    { sinceMs: t0 + span + 60_000, untilMs: t0 + span + 120_000 },
  ];
};

/** A report without how it was read: what the two ways must agree on. */
const answer = (r: ChangesReport) => {
  const { s3Requests: _r, source: _s, note: _n, ...rest } = r;
  return rest;
};

type Window = { sinceMs: number; untilMs: number };
type Listed = { objectKey: string; changes: number; lastMs: number };
const sorted = (items: unknown[]) =>
  [...(items as Listed[])].sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1));

/** What `changes` must say for a window, from the workload's records (each written once or twice). */
function modelChanges(window: Window) {
  const inWindow = work.records.filter((r) => {
    const t = (r.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000;
    return t >= window.sinceMs && t <= window.untilMs;
  });
  const byItem = new Map<string, number[]>();
  const byEvent: Record<string, number> = {};
  for (const r of inWindow) {
    const key = objectKeyFor(loc, r.dynamodb?.Keys as WireItem);
    byItem.set(key, [...(byItem.get(key) ?? []), (r.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000]);
    byEvent[r.eventName ?? ''] = (byEvent[r.eventName ?? ''] ?? 0) + 1;
  }
  const items = [...byItem.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, times]) => [key, times.length, Math.max(...times)]);
  const report = {
    items: byItem.size,
    changes: inWindow.length,
    byEvent,
    byCause: inWindow.length ? { user: inWindow.length } : {},
  };
  return { report, items };
}

async function collect(window: { sinceMs: number; untilMs: number }) {
  const items: unknown[] = [];
  const report = await changesIn(s3, loc, window, (i) => items.push(i));
  return { report, items };
}

async function withoutMarker<T>(run: () => Promise<T>): Promise<T> {
  const marker = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: indexMarkerKey(loc) }));
  expect(marker.KeyCount).toBe(1);
  return withoutIndex(s3, loc, run);
}

beforeAll(async () => {
  const events = new EventBuilder(table);
  work = randomWorkload(events, 20261203, 200, 900, Math.floor(Date.now() / 1000) - 7200);
  // Every batch twice over for a third of them: redelivered changes must count once.
  for (let i = 0; i < work.records.length; i += 50) {
    const batch = events.event(work.records.slice(i, i + 50));
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, batch);
    if (i % 150 === 0) await writeStreamBatch(deps, { bucket, concurrency: 16 }, batch);
  }
}, 300_000);

describe('the change index', () => {
  it('answers every window as the model of the changes says, and as the full listing does', async () => {
    for (const window of windows()) {
      const indexed = await collect(window);
      expect(indexed.report.source).toBe('index');
      const want = modelChanges(window);
      expect(answer(indexed.report)).toEqual({ ...window, ...want.report });
      expect(sorted(indexed.items).map((i) => [i.objectKey, i.changes, i.lastMs])).toEqual(want.items);
    }
    expect((await collect(windows()[0] as Window)).report.changes).toBe(work.records.length);
    // The listing (every version, each recent one's metadata read) agrees on a window inside.
    const window = windows()[1] as Window;
    const indexed = await collect(window);
    const listed = await withoutMarker(() => collect(window));
    expect(listed.report).toMatchObject({
      source: 'listing',
      note: expect.stringMatching(/no change index/),
    });
    expect(answer(indexed.report)).toEqual(answer(listed.report));
    // The listing reports items as its prefixes finish, the index in key order: the same set.
    expect(sorted(indexed.items)).toEqual(sorted(listed.items));
    expect(indexed.report.s3Requests).toBeLessThan(listed.report.s3Requests / 10);
  });

  it('verify --index finds the index and the versions in agreement, and names the items an index object lost', async () => {
    const window = ['--since', String(work.firstS * 1000), '--until', String(work.lastS * 1000)];
    const verifyCli = () =>
      runCli(['verify', '--table', table, '--bucket', bucket, '--index', ...window, '--json']);
    const ok = await verifyCli();
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      inSync: true,
      indexedItems: modelChanges(windows()[0] as Window).report.items,
    });
    // One index object gone: the items only it named are missing from the index.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: indexRoot(loc) }));
    // The last batch (850-899): written once, unlike every third batch, which was redelivered.
    const lost = listed.Contents?.at(-1)?.Key as string;
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: lost }))
    ).Body?.transformToString();
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: lost }));
    try {
      const drift = await verifyCli();
      expect(drift.code).toBe(1);
      const report = JSON.parse(drift.stdout);
      expect(report.inSync).toBe(false);
      expect(report.counts.missingFromIndex + report.counts.differ).toBeGreaterThan(0);
      const named = new Set((JSON.parse(body ?? '{}').changes as Array<{ key: string }>).map((c) => c.key));
      for (const k of [...report.missingFromIndex, ...report.differ]) expect(named.has(k)).toBe(true);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: lost, Body: body ?? '' }));
    }
    expect((await verifyCli()).code).toBe(0);
    const bad = await runCli([
      'verify',
      '--table',
      table,
      '--bucket',
      bucket,
      '--since',
      String(work.firstS * 1000),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected --since and --until only with --index/);
  });

  it('retries a batch whose index PUT failed: the whole batch is reported failed, and the retry indexes it', async () => {
    let refused = 0;
    const proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_S3 as string, {
      respond: (req) => {
        if (req.method !== 'PUT' || !decodeURIComponent(req.url ?? '').includes('/_changes/') || refused >= 1)
          return undefined;
        refused++;
        return {
          status: 500,
          type: 'application/xml',
          body: '<Error><Code>InternalError</Code><Message>no</Message></Error>',
        };
      },
    });
    proxies.push(proxy);
    const flaky = { ...deps, s3: s3Client({ endpoint: proxy.url, maxAttempts: 1 }) };
    const events = new EventBuilder(table);
    const at = work.lastS + 3600;
    const records = [0, 1, 2].map((n) =>
      events.record('INSERT', { pk: { S: `late#${n}` }, sk: { N: '1' } }, at, {
        pk: { S: `late#${n}` },
        sk: { N: '1' },
        v: { N: '1' },
      }),
    );
    const first = await writeStreamBatch(flaky, { bucket, concurrency: 4 }, events.event(records));
    expect(refused).toBe(1);
    expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.dynamodb?.SequenceNumber).sort(),
    );
    const window = { sinceMs: at * 1000, untilMs: at * 1000 };
    expect((await collect(window)).report).toMatchObject({ source: 'index', changes: 0 });
    const retry = await writeStreamBatch(flaky, { bucket, concurrency: 4 }, events.event(records));
    expect(retry.batchItemFailures).toEqual([]);
    expect((await collect(window)).report).toMatchObject({
      source: 'index',
      items: 3,
      changes: 3,
      byEvent: { INSERT: 3 },
    });
  });

  it('files a batch spanning more than a day as two objects, both found', async () => {
    const events = new EventBuilder(table);
    const a = work.lastS + 3 * 86_400;
    const b = a + 86_400 + 60;
    const key = { pk: { S: 'span' }, sk: { N: '1' } };
    await writeStreamBatch(
      deps,
      { bucket, concurrency: 1 },
      events.event([
        events.record('INSERT', key, a, { ...key, v: { N: '1' } }),
        events.record('MODIFY', key, b, { ...key, v: { N: '2' } }),
      ]),
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: indexRoot(loc) }));
    const folders = new Set(
      (listed.Contents ?? []).map((o) =>
        (o.Key ?? '').slice(indexRoot(loc).length, indexRoot(loc).length + 13),
      ),
    );
    expect(folders).toContain(new Date(a * 1000).toISOString().slice(0, 13));
    expect(folders).toContain(new Date(b * 1000).toISOString().slice(0, 13));
    expect((await collect({ sinceMs: a * 1000, untilMs: b * 1000 })).report).toMatchObject({
      source: 'index',
      items: 1,
      changes: 2,
    });
    expect((await collect({ sinceMs: b * 1000, untilMs: b * 1000 })).report).toMatchObject({
      source: 'index',
      changes: 1,
      byEvent: { MODIFY: 1 },
    });
  });

  it('falls back to the listing, and says why, before the index starts and over a gap', async () => {
    const w = windows()[1] as { sinceMs: number; untilMs: number };
    await setIndexStart(s3, loc, w.sinceMs + 1);
    const before = await collect(w);
    expect(before.report).toMatchObject({
      source: 'listing',
      note: expect.stringMatching(/the change index starts at .*, after the window starts/),
    });
    await setIndexStart(s3, loc, 0);
    expect((await collect(w)).report.source).toBe('index');
    const gapped = backupLocation(bucket, table);
    await recordGap(s3, gapped, { fromMs: w.untilMs - 1000, toMs: w.untilMs + 1000, reason: 'test gap' });
    const answerOverGap = await indexedChangesIn(s3, loc, w);
    expect(answerOverGap).toEqual({
      covered: false,
      reason: expect.stringMatching(/touches a recorded gap/),
    });
    const over = await collect(w);
    expect(over.report.source).toBe('listing');
    expect(answer(over.report)).toEqual(answer(before.report));
  });
});

describe('a backfill', () => {
  it('indexes every version it writes', async () => {
    for (let n = 0; n < 30; n++) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `bf#${n}` }, sk: { N: '7' }, v: { N: String(n) } },
        }),
      );
    }
    const start = Date.now();
    const out = await runCli(localBackfillArgs(table, bucket, mkdtempSync(join(tmpdir(), 'rw-index-bf-'))));
    expect(out.code).toBe(0);
    const window = { sinceMs: start - 60_000, untilMs: Date.now() };
    const indexed = await collect(window);
    expect(indexed.report).toMatchObject({
      source: 'index',
      items: 30,
      changes: 30,
      byEvent: { BACKFILL: 30 },
    });
    const listed = await withoutMarker(() => collect(window));
    expect(answer(listed.report)).toEqual(answer(indexed.report));
  });
});

describe('where the index starts', () => {
  const markerOf = async (t: string) => {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: indexMarkerKey(backupLocation(bucket, t)) }),
    );
    return JSON.parse((await out.Body?.transformToString()) ?? '{}') as { fromMs: number };
  };
  const write = (t: string) => {
    const events = new EventBuilder(t);
    const key = { pk: { S: 'a' }, sk: { N: '1' } };
    return writeStreamBatch(
      { s3, log: silentLog },
      { bucket, concurrency: 1 },
      events.event([events.record('INSERT', key, work.firstS, key)]),
    );
  };

  it('is the start of a new backup, and a margin after now for a backup written before the index', async () => {
    await write(`${table}-fresh`);
    expect(await markerOf(`${table}-fresh`)).toEqual({ format: INDEX_FORMAT, fromMs: 0 });
    // Two writers starting together on a new backup (its shards): this one read "no marker"
    // just before the other wrote its marker and first version (the proxy answers that first
    // read with 404). Seeing items, it reads the marker again and keeps the other's.
    const shards = backupLocation(bucket, `${table}-shards`);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: indexMarkerKey(shards),
        Body: JSON.stringify({ format: INDEX_FORMAT, fromMs: 0 }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${itemsRoot(shards)}00/pk=S.y`, Body: '{}' }));
    let stale = 0;
    const proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_S3 as string, {
      respond: (req) => {
        if (
          req.method !== 'GET' ||
          !decodeURIComponent(req.url ?? '').includes(indexMarkerKey(shards)) ||
          stale++ > 0
        )
          return undefined;
        return {
          status: 404,
          type: 'application/xml',
          body: '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>',
        };
      },
    });
    proxies.push(proxy);
    const events = new EventBuilder(shards.table);
    const key = { pk: { S: 'b' }, sk: { N: '1' } };
    await writeStreamBatch(
      { s3: s3Client({ endpoint: proxy.url }), log: silentLog },
      { bucket, concurrency: 1 },
      events.event([events.record('INSERT', key, work.firstS, key)]),
    );
    expect(await markerOf(shards.table)).toEqual({ format: INDEX_FORMAT, fromMs: 0 });
    expect(stale).toBeGreaterThan(1);
    const older = backupLocation(bucket, `${table}-older`);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${itemsRoot(older)}00/pk=S.x`, Body: '{}' }));
    const before = Date.now();
    await write(`${table}-older`);
    const { fromMs } = await markerOf(`${table}-older`);
    expect(fromMs).toBeGreaterThanOrEqual(before + UPGRADE_MARGIN_MS);
    expect(fromMs).toBeLessThanOrEqual(Date.now() + UPGRADE_MARGIN_MS);
    const answer = await indexedChangesIn(s3, older, { sinceMs: work.firstS * 1000, untilMs: Date.now() });
    expect(answer).toEqual({ covered: false, reason: expect.stringMatching(/the change index starts at/) });
  });
});
