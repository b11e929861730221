import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { exportAsOf } from '../../core/aws/export-as-of';
import { recordBackfillCompleted, recordBackfillStarted, recordGap } from '../../core/aws/gap-store';
import { listPackIds } from '../../core/aws/pack-reader';
import { writePack } from '../../core/aws/pack-writer';
import { restore } from '../../core/aws/restore';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { readJsonIfExists } from '../../core/aws/version-store';
import { canonicalItemJson, type WireItem } from '../../core/ddb-json';
import type { Log } from '../../core/log';
import { silentLog } from '../../core/log';
import { metaRoot, objectKeyFor } from '../../core/object-key';
import { type PackManifest, packManifestKey, packsRoot } from '../../core/pack-format';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('pack', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const KEYS = ['pk', 'sk'];
const events = new EventBuilder(table);
let work: Workload;

const expected = (atMs: number) => expectedAsOf(work, loc, atMs);

async function restoreInto(atMs: number, usePack: boolean, log: Log = silentLog) {
  const target = track(randomName('target'));
  const summary = await restore(
    { ...deps, log },
    { source: loc, atMs, targetTable: target, mode: 'upsert', createTable: true, clockSkewMs: 0, usePack },
  );
  return { summary, state: await tableState(dynamodb, target, loc, KEYS) };
}

type Restored = Awaited<ReturnType<typeof restoreInto>>;

async function write(records: Workload['records']) {
  for (let i = 0; i < records.length; i += 100) {
    const out = await writeStreamBatch(
      deps,
      { bucket, concurrency: 16 },
      events.event(records.slice(i, i + 100)),
    );
    expect(out.batchItemFailures).toEqual([]);
  }
}

const warnings: string[] = [];
const recordingLog: Log = { ...silentLog, warn: (m) => warnings.push(m) };

beforeAll(async () => {
  work = randomWorkload(events, 20261128, 250, 1000, Math.floor(Date.now() / 1000) - 7200);
  await write(work.records);
  // A redelivered batch: the newest S3 version of some items is a copy of an older change.
  await write(work.records.slice(300, 400));
}, 300_000);

describe('packs', () => {
  let first: Awaited<ReturnType<typeof writePack>>;

  it('a restore reads bodies from a pack and gives exactly the restore without it', async () => {
    first = await writePack(deps, loc);
    const live = expected(work.lastS * 1000 + 999).size;
    expect(first.items).toBeGreaterThanOrEqual(live); // every key with a version, deleted ones as tombstones
    expect(first.reused).toBe(0);
    const instants = [
      work.lastS * 1000 + 999,
      Math.floor((work.firstS + work.lastS) / 2) * 1000,
      (work.firstS + 5) * 1000,
    ];
    const runs: Array<[Restored, Restored]> = [];
    for (const atMs of instants) {
      const withPack = await restoreInto(atMs, true);
      const without = await restoreInto(atMs, false);
      expect(withPack.state).toEqual(expected(atMs));
      expect(without.state).toEqual(withPack.state);
      expect(withPack.summary.pack).toBe(first.packId);
      expect(without.summary.pack).toBeUndefined();
      expect(without.summary.itemsFromPack).toBe(0);
      runs.push([withPack, without]);
    }
    // As of the end every chosen version is the one the pack holds, redelivered copies included:
    // each saves its GET, for at most one chunk per prefix and two requests to find the pack.
    // (The end is instants[0]: its two restores above, not two more of the same.)
    const [end, plain] = runs[0] as [Restored, Restored];
    expect(end.summary.itemsFromPack).toBe(end.summary.itemsPut);
    expect(end.summary.s3Requests).toBeLessThanOrEqual(
      plain.summary.s3Requests - end.summary.itemsFromPack + 256 + 2,
    );
  }, 300_000);

  it('an export reads the same pack and writes the same items', async () => {
    const atMs = work.lastS * 1000 + 999;
    const out = join(mkdtempSync(join(tmpdir(), 'pack-export-')), 't.json.gz');
    const summary = await exportAsOf({ s3, dynamodb }, { source: loc, atMs, out, clockSkewMs: 0 });
    const lines = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n');
    const got = new Map(
      lines.map((l) => {
        const item = (JSON.parse(l) as { Item: WireItem }).Item;
        return [
          objectKeyFor(loc, { pk: item.pk as WireItem[string], sk: item.sk as WireItem[string] }),
          canonicalItemJson(item),
        ];
      }),
    );
    expect(summary.items).toBe(expected(atMs).size);
    expect(got).toEqual(expected(atMs));
  }, 120_000);

  it('the next pack reads only what changed and serves changes made after the first', async () => {
    // 40 updates to existing items, one second after the workload.
    const live = [...work.model.asOf(work.lastS * 1000 + 999).keys()];
    const changed = new Set<string>();
    const keyIds = [...work.keyOf.keys()].filter((id) => work.model.get(id)).slice(0, 40);
    const records = keyIds.map((id) => {
      const keys = work.keyOf.get(id) as WireItem;
      const image = { ...(work.model.get(id) as WireItem), touched: { S: 'after the first pack' } };
      work.model.apply(id, work.lastS + 2, image);
      changed.add(objectKeyFor(loc, keys));
      return events.record('MODIFY', keys, work.lastS + 2, image);
    });
    expect(live.length).toBeGreaterThan(40);
    await write(records);
    const second = await writePack(deps, loc, { concurrency: 8 });
    expect(second.previous).toBe(first.packId);
    expect(second.items).toBe(first.items);
    expect(second.reused).toBe(first.items - changed.size);

    // As of now the newest pack made at or before T is the second.
    const now = Date.now();
    const r = await restoreInto(now, true);
    expect(r.summary.pack).toBe(second.packId);
    expect(r.state).toEqual(expected(now));
    expect(r.summary.itemsFromPack).toBe(r.summary.itemsPut);
    // As of a past instant no pack was made yet: the oldest one after it, the first, serves; the
    // 40 items changed since it come from their versions.
    const atMs = (work.lastS + 2) * 1000 + 999;
    const past = await restoreInto(atMs, true);
    expect(past.summary.pack).toBe(first.packId);
    expect(past.state).toEqual(expected(atMs));
  }, 300_000);

  it('a read through the change index lists only what changed since the pack, late writes included, and lists everything where the index cannot say', async () => {
    const packId = (await listPackIds(s3, loc)).sort().at(-1) as string;
    const manifestKey = packManifestKey(loc, packId);
    const manifest = (await readJsonIfExists<PackManifest>(s3, bucket, manifestKey)) as PackManifest;
    expect(manifest.listedFromMs).toBeGreaterThan(0);
    // Written now, after the pack was made: three changes from before its time (a writer that was
    // late: the pack's listing could not see them), and one after it.
    const packS = Math.floor(manifest.createdMs / 1000) - 1;
    const liveIds = [...work.keyOf.keys()].filter((id) => work.model.get(id)).slice(50, 53);
    const [modified, removed, later] = liveIds.map((id) => [id, work.keyOf.get(id) as WireItem] as const) as [
      readonly [string, WireItem],
      readonly [string, WireItem],
      readonly [string, WireItem],
    ];
    const fresh = { pk: { S: 'late-insert' }, sk: { N: '1' } };
    work.keyOf.set('late-insert', fresh);
    const image = (keys: WireItem, note: string) => ({ ...keys, note: { S: note } });
    const records = [
      events.record('MODIFY', modified[1], packS, image(modified[1], 'late')),
      events.record('REMOVE', removed[1], packS),
      events.record('INSERT', fresh, packS, image(fresh, 'late')),
    ];
    work.model.apply(modified[0], packS, image(modified[1], 'late'));
    work.model.apply(removed[0], packS, undefined);
    work.model.apply('late-insert', packS, image(fresh, 'late'));
    const nowS = Math.max(packS + 1, Math.floor(Date.now() / 1000));
    records.push(events.record('MODIFY', later[1], nowS, image(later[1], 'after')));
    work.model.apply(later[0], nowS, image(later[1], 'after'));
    await write(records);

    const atMs = nowS * 1000 + 999;
    const guided = await restoreInto(atMs, true);
    expect(guided.summary.pack).toBe(packId);
    // The 4, and the 40 changed before the pack when their index objects were written in the
    // second the pack's listing began (S3's LastModified is whole seconds: counted in, to be safe).
    const changed = (guided.summary.packIndex as { changedItems: number }).changedItems;
    expect([4, 44]).toContain(changed);
    expect(guided.state).toEqual(expected(atMs));
    // One listing per changed item, none of the prefixes: every other item came from the pack.
    expect(guided.summary.requests.s3.ListObjectVersions).toBe(changed);
    expect(guided.summary.itemsFromPack).toBe(guided.summary.itemsPut - 3);

    // A pack from before the index could guide reads (no listedFromMs): every prefix is listed.
    const { listedFromMs: _, ...older } = manifest;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(older) }));
    const listed = await restoreInto(atMs, true);
    expect(listed.summary.packIndex).toEqual({ reason: expect.stringMatching(/predates/) });
    expect(listed.state).toEqual(expected(atMs));
    expect(listed.summary.requests.s3.ListObjectVersions).toBeGreaterThanOrEqual(256);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(manifest) }));

    // A recorded gap within a late write's reach of the pack: versions the index may lack.
    const gap = {
      fromMs: manifest.createdMs - 3 * 3600_000,
      toMs: manifest.createdMs - 3 * 3600_000,
      reason: 'test',
    };
    await recordGap(s3, loc, gap);
    const gapped = await restoreInto(atMs, true);
    expect(gapped.summary.packIndex).toEqual({ reason: expect.stringMatching(/gap/) });
    expect(gapped.state).toEqual(expected(atMs));
    const gaps = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${metaRoot(loc)}gaps/` }));
    for (const o of gaps.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));

    // A backfill that started and has not finished: a killed page may have left versions without
    // their index entries. Once a run that started then (or later) completes, the index guides again.
    const backfillStart = Date.now() - 60_000;
    await recordBackfillStarted(s3, loc, backfillStart);
    const running = await restoreInto(atMs, true);
    expect(running.summary.packIndex).toEqual({
      reason: expect.stringMatching(/backfill started at .* has not finished/),
    });
    expect(running.state).toEqual(expected(atMs));
    await recordBackfillCompleted(s3, loc, backfillStart);
    expect((await restoreInto(atMs, true)).summary.packIndex).toEqual({ changedItems: changed });
  }, 300_000);

  it('a damaged or unfinished pack costs requests, never a wrong item', async () => {
    const ids = (await listPackIds(s3, loc)).sort();
    const newest = ids.at(-1) as string;
    // Lose one chunk of the newest pack: its prefix falls back to GETs, with a warning.
    const chunks = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${packsRoot(loc)}${newest}/` }),
    );
    const chunk = (chunks.Contents ?? []).map((c) => c.Key as string).find((k) => k.endsWith('.ndjson.gz'));
    expect(chunk).toBeDefined();
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: chunk }));
    const atMs = Date.now();
    const damaged = await restoreInto(atMs, true, recordingLog);
    expect(damaged.state).toEqual(expected(atMs));
    expect(warnings.some((w) => /pack chunk unreadable/.test(w))).toBe(true);
    // The export CLI says so on stderr too (its pack reader once had a silent logger).
    const out = join(mkdtempSync(join(tmpdir(), 'rw-pack-')), 'damaged.json.gz');
    const exported = await runCli([
      'export',
      '--table',
      table,
      '--bucket',
      bucket,
      '--at',
      String(atMs),
      '--out',
      out,
    ]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/pack chunk unreadable; reading these items from their versions instead/);
    const lines = gunzipSync(readFileSync(out)).toString().trim().split('\n');
    expect(lines).toHaveLength(expected(atMs).size);

    // Without its pack.json the newest pack is unfinished: readers take the earlier one.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: packManifestKey(loc, newest) }));
    const unfinished = await restoreInto(atMs, true);
    expect(unfinished.summary.pack).toBe(ids.at(-2));
    expect(unfinished.state).toEqual(expected(atMs));
  }, 300_000);

  it('the CLI packs a backup, and refuses a table with no backup in one line', async () => {
    const ok = await runCli(['pack', '--bucket', bucket, '--table', table, '--json']);
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as { items: number; reused: number; previous: string };
    expect(summary.items).toBeGreaterThan(0);
    expect(summary.previous).toBeDefined();

    const missing = await runCli(['pack', '--bucket', bucket, '--table', 'no-such-table-here']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/No backup of table no-such-table-here.*check --bucket/);
    const bad = await runCli(['pack', '--bucket', bucket, '--table', table, '--concurrency', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrency.*whole number/);
    const packs = await listPackIds(s3, loc);
    expect(packs).toHaveLength(3); // the refused runs wrote nothing
  }, 120_000);
});
