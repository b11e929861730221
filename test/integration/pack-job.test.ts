import { ListObjectsV2Command, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { jobRoot } from '../../core/aws/job-store';
import { packJob } from '../../core/aws/jobs/pack-job';
import { listPackIds } from '../../core/aws/pack-reader';
import { type PackSummary, writePack } from '../../core/aws/pack-writer';
import { restore } from '../../core/aws/restore';
import type { JobContext } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { readJsonIfExists, readObjectIfExists } from '../../core/aws/version-store';
import { silentLog } from '../../core/log';
import {
  chunkKey,
  decodeChunk,
  type PackEntry,
  type PackManifest,
  packManifestKey,
  packsRoot,
} from '../../core/pack-format';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

// The pack job: through the CLI's executor (writePack, runJob) with several partitions, and step
// by step as the state machine calls it (plan, each partition task alone, finish), each time the
// same pack the one-task run writes, and one a restore reads.

const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('pack-job', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const ctx: JobContext = { s3, dynamodb, log: silentLog };
const events = new EventBuilder(table);
let work: Workload;
let single: PackSummary;

/** Through JSON, as Step Functions passes plans and tasks. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A deadline that lets `asks` checks pass (BackupReader asks before each prefix and each key). */
const allowing = (asks: number) => {
  let asked = 0;
  return () => ++asked > asks;
};

/** A pack's manifest and every entry of its chunks, by object key. */
async function packContent(id: string) {
  const manifest = (await readJsonIfExists<PackManifest>(
    s3,
    bucket,
    packManifestKey(loc, id),
  )) as PackManifest;
  const entries = new Map<string, PackEntry>();
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: `${packsRoot(loc)}${id}/` }),
  );
  for (const o of listed.Contents ?? []) {
    if (!o.Key?.endsWith('.ndjson.gz')) continue;
    for (const e of decodeChunk((await readObjectIfExists(s3, bucket, o.Key)) as Uint8Array))
      entries.set(e.objectKey, e);
  }
  return { manifest, entries };
}

/**
 * The same entries as the reference pack, in chunks a reader can walk: where a deadline cut a
 * prefix its chunks end elsewhere (the cut flushes a short chunk), so boundaries are checked
 * against the chunks' own contents instead of the reference's.
 */
async function expectSameEntries(id: string, reference: string) {
  const got = await packContent(id);
  const want = await packContent(reference);
  expect(got.manifest.items).toBe(want.manifest.items);
  expect(got.entries).toEqual(want.entries);
  expect(Object.keys(got.manifest.prefixes).sort()).toEqual(Object.keys(want.manifest.prefixes).sort());
  for (const [hh, { lastKeys }] of Object.entries(got.manifest.prefixes)) {
    for (const [n, last] of lastKeys.entries()) {
      const chunk = decodeChunk(
        (await readObjectIfExists(s3, bucket, chunkKey(loc, id, hh, n))) as Uint8Array,
      );
      expect(chunk.at(-1)?.objectKey).toBe(last);
    }
    expect(lastKeys.at(-1)).toBe(want.manifest.prefixes[hh]?.lastKeys.at(-1));
  }
}

/** The same pack: the same chunks (by last key) and entries; only the time differs. */
async function expectSamePack(id: string, reference: string) {
  const got = await packContent(id);
  const want = await packContent(reference);
  expect(got.manifest.prefixes).toEqual(want.manifest.prefixes);
  expect(got.manifest.items).toBe(want.manifest.items);
  expect(got.entries).toEqual(want.entries);
}

async function restoredState(atMs: number) {
  const target = track(randomName('pack-job-target'));
  const summary = await restore(deps, {
    source: loc,
    atMs,
    targetTable: target,
    mode: 'upsert',
    createTable: true,
  });
  return { summary, state: await tableState(dynamodb, target, loc, ['pk', 'sk']) };
}

async function scratchKeys(ref: { jobId: string }) {
  const root = jobRoot({ job: 'pack', jobId: ref.jobId, table, bucket, prefix: '' });
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root }));
  return (out.Contents ?? []).map((o) => o.Key);
}

beforeAll(async () => {
  work = randomWorkload(events, 20261202, 200, 700, Math.floor(Date.now() / 1000) - 3600);
  for (let i = 0; i < work.records.length; i += 100) {
    const out = await writeStreamBatch(
      deps,
      { bucket, concurrency: 16 },
      events.event(work.records.slice(i, i + 100)),
    );
    expect(out.batchItemFailures).toEqual([]);
  }
  single = await writePack(deps, loc);
  expect(single).toMatchObject({ partitions: 1, reused: 0 });
}, 300_000);

describe('the pack job', () => {
  it('through the CLI executor with 4 partitions writes the pack one task writes, and a restore reads it', async () => {
    const four = await writePack(deps, loc, { partitions: 4, concurrency: 16 });
    expect(four).toMatchObject({ partitions: 4, items: single.items, previous: single.packId });
    // Nothing changed since the first pack: every entry is copied from it, none read again.
    expect(four.reused).toBe(single.items);
    expect(four.requests.s3.GetObject ?? 0).toBeLessThanOrEqual(256 + 4);
    await expectSamePack(four.packId, single.packId);
    expect(await scratchKeys(four)).toEqual([]);

    const now = Date.now();
    const { summary, state } = await restoredState(now);
    expect(summary.pack).toBe(four.packId);
    expect(state).toEqual(expectedAsOf(work, loc, now));
    expect(summary.itemsFromPack).toBe(summary.itemsPut);
  });

  it('step by step: each task alone, one run twice, one stopped by its deadline and continued', async () => {
    const plan = wire(await packJob.plan(ctx, { source: loc, partitions: 3 }));
    expect(plan.prepare).toEqual([]);
    expect(plan.partitions.map((t) => t.params.partition)).toEqual([
      { from: '00', to: '54' },
      { from: '55', to: 'a9' },
      { from: 'aa', to: 'ff' },
    ]);
    type Task = (typeof plan.partitions)[number];
    const [first, second, third] = plan.partitions as [Task, Task, Task];
    expect(await packJob.partition(ctx, wire(first))).toEqual({ done: true, id: 'p0000' });

    // Run twice (a Lambda retry): the same chunk objects, the same stored result.
    const packId = plan.params.packId;
    const chunksOf = async () => {
      const listed = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${packsRoot(loc)}${packId}/` }),
      );
      return (listed.Versions ?? []).map((v) => `${v.Key} ${v.ETag}`).sort();
    };
    const resultKey = `${jobRoot(plan)}results/partition/p0001.0000.json`;
    await packJob.partition(ctx, wire(second));
    const once = { chunks: new Set(await chunksOf()), result: await readJsonIfExists(s3, bucket, resultKey) };
    await packJob.partition(ctx, wire(second));
    const twice = {
      chunks: new Set(await chunksOf()),
      result: await readJsonIfExists(s3, bucket, resultKey),
    };
    expect(twice.chunks).toEqual(once.chunks); // every version of every chunk key has the same ETag
    expect(twice.result).toEqual(once.result);

    // A deadline after 20 prefixes: the task hands on the rest, from the first prefix not started.
    let outcome = await packJob.partition({ ...ctx, deadline: allowing(20) }, wire(third));
    const parts: Task[] = [];
    while (!outcome.done) {
      parts.push(outcome.next);
      outcome = await packJob.partition({ ...ctx, deadline: allowing(20) }, wire(outcome.next));
    }
    // Asked before each prefix and each key: runs stop inside prefixes too; each continuation
    // goes on from what the run before it left, a cut prefix with its next chunk number.
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.map((t) => t.part)).toEqual(parts.map((_, i) => i + 1));
    const cut = parts.flatMap((t) => (t.params.rest ?? []).filter((r) => r.after !== undefined));
    expect(cut.length).toBeGreaterThan(0);
    expect(parts.some((t) => Object.keys(t.params.nextChunk ?? {}).length > 0)).toBe(true);

    // Until the finish writes pack.json, readers ignore the pack.
    expect(await listPackIds(s3, loc)).toContain(packId);
    expect(await readJsonIfExists(s3, bucket, packManifestKey(loc, packId))).toBeUndefined();
    const summary = await packJob.finish(ctx, wire(plan));
    expect(summary).toMatchObject({ packId, partitions: 3, items: single.items });
    await expectSameEntries(packId, single.packId);
    expect(await scratchKeys(plan)).toEqual([]);

    const now = Date.now();
    const restored = await restoredState(now);
    expect(restored.summary.pack).toBe(packId);
    // Every item came from the pack whose prefixes were cut: its chunks and boundaries read right.
    expect(restored.summary.itemsFromPack).toBe(restored.summary.itemsPut);
    expect(restored.state).toEqual(expectedAsOf(work, loc, now));
  });

  it('refuses to finish while a partition has not run to its end, and writes no pack.json', async () => {
    // One request at a time, so what the deadline left is known from the continuation.
    const plan = wire(await packJob.plan(ctx, { source: loc, partitions: 2, concurrency: 1 }));
    type Task = (typeof plan.partitions)[number];
    await packJob.partition(ctx, wire(plan.partitions[0] as Task));
    const stopped = await packJob.partition(
      { ...ctx, deadline: allowing(5) },
      wire(plan.partitions[1] as Task),
    );
    expect(stopped.done).toBe(false);
    if (stopped.done) return;
    const first = stopped.next.params.rest?.[0]?.from ?? '';
    expect(first >= '80' && first < 'ff').toBe(true);
    // From the first prefix left (all of it, or what a cut left of it) to the end: not covered.
    await expect(packJob.finish(ctx, wire(plan))).rejects.toThrow(
      `cannot finish: no partition task stored a result for hash prefixes ${first}..ff (${256 - Number.parseInt(first, 16)})`,
    );
    expect(await readJsonIfExists(s3, bucket, packManifestKey(loc, plan.params.packId))).toBeUndefined();
  });

  it('the CLI runs it with --partitions, and refuses a bad count in one line', async () => {
    const ok = await runCli(['pack', '--bucket', bucket, '--table', table, '--partitions', '3', '--json']);
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as PackSummary;
    expect(summary).toMatchObject({ partitions: 3, items: single.items, reused: single.items });
    const bad = await runCli(['pack', '--bucket', bucket, '--table', table, '--partitions', '300']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--partitions.*whole number from 1 to 256/);
  });
});
