import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BatchWriter } from '../../core/aws/batch-writer';
import { exportJob } from '../../core/aws/jobs/export-job';
import { packJob } from '../../core/aws/jobs/pack-job';
import { restoreJob } from '../../core/aws/jobs/restore-job';
import { verifyJob } from '../../core/aws/jobs/verify-job';
import { openPack } from '../../core/aws/pack-reader';
import { type JobContext, runJob } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { canonicalItemJson, type WireItem, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { hashPrefixOf, objectKeyFor } from '../../core/object-key';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';

// One hash prefix holding many items, packed in small chunks: the case of a prefix too big for
// one task (at 100 M items one prefix is ~390,000 items). Jobs given more partitions than there
// are prefixes cut it at the pack's chunk boundaries; a deadline cuts it wherever it falls.
const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('cuts', PK_ONLY);
const ctx: JobContext = { s3, dynamodb, log: silentLog };
const HOT = '00';
const items: WireItem[] = [];
let atMs = 0;

/** 60 items whose object keys fall in prefix 00, and 20 elsewhere. */
function chooseItems(): WireItem[] {
  const out: WireItem[] = [];
  let others = 0;
  for (let i = 0; out.length < 80; i++) {
    const item = { pk: { S: `user-${i}` }, v: { N: String(i) }, pad: { S: 'x'.repeat(100) } };
    const inHot = hashPrefixOf(loc, objectKeyFor(loc, { pk: item.pk })) === HOT;
    if (inHot ? out.length - others < 60 : others < 20) {
      out.push(item);
      if (!inHot) others++;
    }
  }
  return out;
}

const model = () =>
  new Map(items.map((i) => [objectKeyFor(loc, { pk: i.pk as WireItem[string] }), canonicalItemJson(i)]));

/** The model's items whose object keys fall in hash prefixes `from` to `to`. */
const inPrefixes = (from: string, to: string) =>
  new Map([...model()].filter(([k]) => hashPrefixOf(loc, k) >= from && hashPrefixOf(loc, k) <= to));

beforeAll(async () => {
  items.push(...chooseItems());
  const events = new EventBuilder(table);
  const t = Math.floor(Date.now() / 1000) - 600;
  const records = items.map((item, i) =>
    events.record('INSERT', { pk: item.pk as WireItem[string] }, t + Math.floor(i / 10), item),
  );
  const out = await writeStreamBatch(
    { s3, dynamodb, log: silentLog },
    { bucket, concurrency: 16 },
    events.event(records),
  );
  expect(out.batchItemFailures).toEqual([]);
  // The live table holds the same items, so verify finds it in sync.
  const writer = new BatchWriter(dynamodb, { table, concurrency: 4 });
  for (const item of items) await writer.add({ PutRequest: { Item: wireItemToSdk(item) } });
  await writer.flush();
  atMs = (t + 60) * 1000;
}, 120_000);

describe('a hash prefix shared by several tasks', () => {
  it('refuses more partitions than prefixes while there is no pack, in one line', async () => {
    const cli = await runCli([
      'restore',
      '--bucket',
      bucket,
      '--table',
      table,
      '--target-table',
      randomName('cuts-none'),
      '--create-table',
      '--partitions',
      '300',
    ]);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/at most 256 partitions without a pack: .*ddb-rewind pack/);
  });

  it('a pack stopped by its deadline inside the prefix, again and again, holds every entry', async () => {
    const ref = await runJob(ctx, packJob, { source: loc, chunkBytes: 400 });
    const plan = await packJob.plan(ctx, { source: loc, chunkBytes: 400, concurrency: 1 });
    const [task] = plan.partitions;
    if (!task) throw new Error('no task');
    // One request at a time: 256 prefixes and 80 keys, 40 asks a run.
    const allowing40 = () => {
      let asks = 0;
      return () => ++asks > 40;
    };
    let outcome = await packJob.partition({ ...ctx, deadline: allowing40() }, task);
    let runs = 1;
    let cutsInHot = 0;
    while (!outcome.done) {
      if (outcome.next.params.rest?.some((r) => r.from === HOT && r.after !== undefined)) cutsInHot++;
      outcome = await packJob.partition({ ...ctx, deadline: allowing40() }, outcome.next);
      runs++;
    }
    expect(cutsInHot).toBeGreaterThan(0);
    expect(runs).toBeGreaterThan(3);
    const summary = await packJob.finish(ctx, plan);
    expect(summary.items).toBe(ref.items);
    const cut = await openPack(s3, loc, Date.now());
    expect(cut?.id).toBe(summary.packId);
    // 60 items of about 200 bytes in 400-byte chunks: many chunks, numbered on across runs.
    expect(cut?.manifest.prefixes[HOT]?.lastKeys.length).toBeGreaterThan(20);
  });

  it('restore, verify and export with more partitions than prefixes cut the prefix at the pack and give the model', async () => {
    const plan = await restoreJob.plan(ctx, {
      source: loc,
      atMs,
      targetTable: track(randomName('cuts-plan')),
      mode: 'upsert',
      createTable: true,
      clockSkewMs: 0,
      partitions: 1024,
    });
    const hot = plan.partitions.flatMap((t) =>
      t.params.kind === 'restore' && t.params.partition.from === HOT ? [t.params.partition] : [],
    );
    // 4 pieces a prefix asked for; prefixes with one chunk or none stay whole: 4 + 255 tasks.
    expect(hot).toHaveLength(4);
    expect(plan.partitions).toHaveLength(259);
    expect(hot[0]?.after).toBeUndefined();
    expect(hot[3]?.until).toBeUndefined();
    expect(hot.slice(1).map((p) => p.after)).toEqual(hot.slice(0, 3).map((p) => p.until));

    const target = track(randomName('cuts-target'));
    const restored = await runJob(
      ctx,
      restoreJob,
      {
        source: loc,
        atMs,
        targetTable: target,
        mode: 'upsert',
        createTable: true,
        clockSkewMs: 0,
        partitions: 1024,
      },
      { concurrency: 16 },
    );
    expect(restored).toMatchObject({ partitions: 259, itemsPut: items.length });
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(model());

    const report = await runJob(
      ctx,
      verifyJob,
      // The first 5 prefixes (2 %), 4 tasks each: prefix 00 cut in 4 again.
      { source: loc, samplePercent: 2, partitions: 20, settleMs: 100 },
      { concurrency: 16 },
    );
    // Prefix 00 in 4 cuts, 01 to 04 whole (one chunk or none): 8 tasks.
    expect(report).toMatchObject({ inSync: true, checkedItems: inPrefixes('00', '04').size, partitions: 8 });

    const dir = mkdtempSync(join(tmpdir(), 'rw-cuts-'));
    const exported = await runJob(
      ctx,
      exportJob,
      {
        source: loc,
        atMs,
        out: `${dir}/`,
        partition: { from: '00', to: '03' },
        partitions: 16,
        clockSkewMs: 0,
      },
      { concurrency: 16 },
    );
    expect(exported).toMatchObject({ items: inPrefixes('00', '03').size, partitions: 7 });
    const dataDir = join(dir, 'AWSDynamoDB', exported.exportId as string, 'data');
    const lines = readdirSync(dataDir).flatMap((f) =>
      gunzipSync(readFileSync(join(dataDir, f)))
        .toString()
        .trim()
        .split('\n'),
    );
    const got = new Map(
      lines.map((l) => {
        const item = (JSON.parse(l) as { Item: WireItem }).Item;
        return [objectKeyFor(loc, { pk: item.pk as WireItem[string] }), canonicalItemJson(item)];
      }),
    );
    expect(got).toEqual(inPrefixes('00', '03'));
  });
});
