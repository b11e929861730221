import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { jobRoot } from '../../core/aws/job-store';
import { type VerifyJobContext, verifyJob } from '../../core/aws/jobs/verify-job';
import type { JobContext } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { type VerifyReport, verify } from '../../core/aws/verify';
import { readJsonIfExists } from '../../core/aws/version-store';
import { type WireItem, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import type { MetricSink } from '../../core/metrics';
import { objectKeyFor } from '../../core/object-key';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

// The verify job: the live table read once (prepare tasks over scan segments), compared per
// partition with the backup's latest state, merged by the finish into one report and a metric.
// Through the CLI's executor and step by step as the state machine calls it, the same report.

const { s3, dynamodb, bucket, table, loc } = scratchBackup('verify-job');
const ctx: JobContext = { s3, dynamodb, log: silentLog };
const events = new EventBuilder(table);
const ITEMS = 300;
const nowS = () => Math.floor(Date.now() / 1000);
const item = (n: number, v = 1): WireItem => ({ pk: { S: `item-${n}` }, v: { N: String(v) } });
const keyOfItem = (n: number): WireItem => ({ pk: { S: `item-${n}` } });

/** Three kinds of drift, one item each. */
const EXTRA = 1000; // in the table, never backed up
const GHOST = 1001; // backed up, not in the table
const CHANGED = 7; // changed in the table without the stream

const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** A deadline that lets `asks` checks pass (BackupReader asks before each prefix and each key). */
const allowing = (asks: number) => {
  let asked = 0;
  return () => ++asked > asks;
};

/** A metric sink that keeps what it is given. */
function recordingMetrics() {
  const published: Array<{ dimensions: Record<string, string>; name: string; value: number }> = [];
  const sink: MetricSink = {
    singleMetric: () => {
      const dimensions: Record<string, string> = {};
      return {
        addDimension: (name: string, value: string) => {
          dimensions[name] = value;
        },
        addMetric: (name: string, _unit: 'Count', value: number) => {
          published.push({ dimensions, name, value });
        },
      };
    },
  };
  return { sink, published };
}

async function backUp(records: Parameters<typeof events.event>[0]) {
  for (let i = 0; i < records.length; i += 100) {
    const out = await writeStreamBatch(
      { s3, dynamodb, log: silentLog },
      { bucket, concurrency: 16 },
      events.event(records.slice(i, i + 100)),
    );
    expect(out.batchItemFailures).toEqual([]);
  }
}

const put = (image: WireItem) =>
  dynamodb.send(new PutItemCommand({ TableName: table, Item: wireItemToSdk(image) }));

/** What must not depend on how the job ran. */
const essence = (r: VerifyReport) => ({
  inSync: r.inSync,
  checkedItems: r.checkedItems,
  sampledPrefixes: r.sampledPrefixes,
  counts: r.counts,
  drift: [...r.drift].sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1)),
  warnings: r.warnings,
});

const EXPECTED_DRIFT = [
  { kind: 'only-in-backup', objectKey: objectKeyFor(loc, keyOfItem(GHOST)) },
  { kind: 'differs', objectKey: objectKeyFor(loc, keyOfItem(CHANGED)) },
  { kind: 'missing-from-backup', objectKey: objectKeyFor(loc, keyOfItem(EXTRA)) },
];

let reference: VerifyReport;

beforeAll(async () => {
  const records = [];
  for (let n = 0; n < ITEMS; n++) {
    await put(item(n));
    records.push(events.record('INSERT', keyOfItem(n), nowS() - 60, item(n)));
  }
  records.push(events.record('INSERT', keyOfItem(GHOST), nowS() - 60, item(GHOST)));
  await backUp(records);
  await put(item(EXTRA));
  await put(item(CHANGED, 2));
}, 300_000);

describe('the verify job', () => {
  it('through the CLI executor with 4 partitions: the report of one task, and a VerifyDrift metric', async () => {
    const one = await verify({ s3, dynamodb }, { source: loc, settleMs: 200 });
    const { sink, published } = recordingMetrics();
    const four = await verify({ s3, dynamodb, metrics: sink }, { source: loc, settleMs: 200, partitions: 4 });
    expect(essence(four)).toEqual(essence(one));
    expect(four).toMatchObject({
      inSync: false,
      partitions: 4,
      checkedItems: ITEMS + 2,
      sampledPrefixes: 256,
      counts: { 'missing-from-backup': 1, 'only-in-backup': 1, differs: 1 },
    });
    expect(four.drift).toHaveLength(3);
    expect(four.drift).toEqual(expect.arrayContaining(EXPECTED_DRIFT.map((d) => expect.objectContaining(d))));
    expect(published).toEqual([{ dimensions: { table }, name: 'VerifyDrift', value: 3 }]);
    reference = one;
  });

  it('step by step: each spill segment and partition alone, one run twice, one stopped by its deadline', async () => {
    const plan = wire(
      await verifyJob.plan(ctx, { source: loc, settleMs: 200, partitions: 3, spillSegments: 2 }),
    );
    expect(plan.prepare.map((t) => t.params)).toEqual([
      { kind: 'spill', segment: 0 },
      { kind: 'spill', segment: 1 },
    ]);
    for (const task of plan.prepare)
      expect(await verifyJob.prepare?.(ctx, wire(task))).toEqual({ done: true, id: task.id });
    type Task = (typeof plan.partitions)[number];
    const [first, second, third] = plan.partitions as [Task, Task, Task];
    expect(await verifyJob.partition(ctx, wire(first))).toEqual({ done: true, id: 'p0000' });

    // Run twice: the same stored result.
    const resultKey = `${jobRoot(plan)}results/partition/p0001.0000.json`;
    await verifyJob.partition(ctx, wire(second));
    const once = await readJsonIfExists(s3, bucket, resultKey);
    await verifyJob.partition(ctx, wire(second));
    expect(await readJsonIfExists(s3, bucket, resultKey)).toEqual(once);

    let outcome = await verifyJob.partition({ ...ctx, deadline: allowing(25) }, wire(third));
    const parts: Task[] = [];
    while (!outcome.done) {
      parts.push(outcome.next);
      outcome = await verifyJob.partition({ ...ctx, deadline: allowing(25) }, wire(outcome.next));
    }
    // Asked before each prefix and each key: runs stop inside prefixes too, and each continuation
    // goes on from the ranges the run before it left (its last key handled, in a cut prefix).
    const rests = parts.map((t) => (t.params.kind === 'compare' ? (t.params.rest ?? []) : []));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(rests.every((r) => r.length > 0)).toBe(true);
    expect(rests.flat().some((r) => r.after !== undefined)).toBe(true);

    const { sink, published } = recordingMetrics();
    const withMetrics: VerifyJobContext = { ...ctx, metrics: sink };
    const report = await verifyJob.finish(withMetrics, wire(plan));
    expect(essence(report)).toEqual(essence(reference));
    expect(published).toEqual([{ dimensions: { table }, name: 'VerifyDrift', value: 3 }]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: jobRoot(plan) }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('a sampled verify splits only the sampled prefixes', async () => {
    const plan = await verifyJob.plan(ctx, {
      source: loc,
      samplePercent: 10,
      partitions: 4,
      spillSegments: 1,
    });
    expect(plan.partitions.map((t) => t.params)).toEqual([
      { kind: 'compare', partition: { from: '00', to: '05' } },
      { kind: 'compare', partition: { from: '06', to: '0c' } },
      { kind: 'compare', partition: { from: '0d', to: '12' } },
      { kind: 'compare', partition: { from: '13', to: '19' } },
    ]);
  });

  it('the CLI exits 1 on drift and 0 in sync with --partitions; no metric when in sync', async () => {
    const args = ['verify', '--table', table, '--bucket', bucket, '--settle-ms', '200', '--partitions', '4'];
    const drifting = await runCli([...args, '--json']);
    expect(drifting.code).toBe(1);
    expect(essence(JSON.parse(drifting.stdout) as VerifyReport).counts).toEqual(reference.counts);

    // Put the backup right: the missing item and the change backed up, the ghost deleted.
    await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk(keyOfItem(GHOST)) }));
    await backUp([
      events.record('INSERT', keyOfItem(EXTRA), nowS(), item(EXTRA)),
      events.record('MODIFY', keyOfItem(CHANGED), nowS(), item(CHANGED, 2)),
      events.record('REMOVE', keyOfItem(GHOST), nowS(), undefined, { oldImage: item(GHOST) }),
    ]);
    const synced = await runCli(args);
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^in sync: 302 items checked in 256\/256 prefixes/);
    const { sink, published } = recordingMetrics();
    const report = await verify({ s3, dynamodb, metrics: sink }, { source: loc, settleMs: 0, partitions: 2 });
    expect(report.inSync).toBe(true);
    expect(published).toEqual([]);
  });
});
