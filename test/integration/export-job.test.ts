import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ListObjectsV2Command, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { type ExportSummary, exportAsOf } from '../../core/aws/export-as-of';
import { jobRoot } from '../../core/aws/job-store';
import { exportJob } from '../../core/aws/jobs/export-job';
import type { JobContext } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { readObjectIfExists } from '../../core/aws/version-store';
import { canonicalItemJson, type WireItem } from '../../core/ddb-json';
import { keyOf } from '../../core/item-key';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { runCli, userEnv } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { PK_SK, scratchBackup } from '../support/scratch';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

// The export job in DynamoDB's export layout: through the CLI's executor (exportAsOf, runJob)
// with several partitions, to a local folder and to S3, and step by step as the state machine
// calls it; each time the table as of T by the model, with manifests that match the data files
// field by field as DynamoDB's developer guide documents them, and written last.

const { s3, dynamodb, bucket, table, loc } = scratchBackup('export-job', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const ctx: JobContext = deps;
const KEYS = ['pk', 'sk'];
const events = new EventBuilder(table);
let work: Workload;
let atMs: number;

/** The guide's manifest-summary.json fields (tableArn and tableId aside: a backup does not know them). */
const SUMMARY_FIELDS = [
  'version',
  'exportArn',
  'startTime',
  'endTime',
  'exportTime',
  's3Bucket',
  's3Prefix',
  's3SseAlgorithm',
  's3SseKmsKeyId',
  'manifestFilesS3Key',
  'billedSizeBytes',
  'itemCount',
  'outputFormat',
  'exportType',
];

const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** A deadline that lets `asks` checks pass (BackupReader asks before each prefix and each key). */
const allowing = (asks: number) => {
  let asked = 0;
  return () => ++asked > asks;
};
const md5 = (data: Uint8Array | string, encoding: 'hex' | 'base64') =>
  createHash('md5').update(data).digest(encoding);

/** `{"Item":...}` lines as object key -> canonical JSON, each key once. */
function itemsOf(gzipped: Uint8Array[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const data of gzipped) {
    for (const line of gunzipSync(data).toString('utf8').split('\n')) {
      if (!line) continue;
      const { Item } = JSON.parse(line) as { Item: WireItem };
      const objectKey = objectKeyFor(loc, keyOf(Item, KEYS));
      expect(out.has(objectKey)).toBe(false);
      out.set(objectKey, canonicalItemJson(Item));
    }
  }
  return out;
}

/** Reads an export folder (local or S3) through one `read(key)`: `undefined` when absent. */
type Reader = (key: string) => Promise<Buffer | undefined>;
const localReader =
  (dir: string): Reader =>
  async (key) => {
    try {
      return readFileSync(join(dir, key));
    } catch {
      return undefined;
    }
  };
const s3Reader: Reader = async (key) => {
  const body = await readObjectIfExists(s3, bucket, key);
  return body ? Buffer.from(body) : undefined;
};

/** Checks a finished export field by field and returns its items. */
async function checkExport(
  read: Reader,
  root: string,
  summary: ExportSummary,
  where: { s3Prefix: string | null },
) {
  const text = (await read(`${root}manifest-summary.json`))?.toString('utf8') as string;
  expect((await read(`${root}manifest-summary.md5`))?.toString()).toBe(md5(text, 'base64'));
  const manifest = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(manifest)).toEqual(SUMMARY_FIELDS);
  const exportId = summary.exportId as string;
  expect(exportId).toMatch(/^\d{14}-[0-9a-f]{8}$/);
  expect(manifest).toMatchObject({
    version: '2020-06-30',
    exportArn: `arn:ddb-rewind:s3:::${bucket}/${table}/export/${exportId}`,
    exportTime: new Date(atMs).toISOString(),
    s3Prefix: where.s3Prefix,
    manifestFilesS3Key: `${root}manifest-files.json`,
    billedSizeBytes: 0,
    itemCount: summary.items,
    outputFormat: 'DYNAMODB_JSON',
    exportType: 'FULL_EXPORT',
  });
  expect(Date.parse(manifest.startTime as string)).toBeLessThanOrEqual(
    Date.parse(manifest.endTime as string),
  );
  const filesText = (await read(`${root}manifest-files.json`))?.toString('utf8') as string;
  expect((await read(`${root}manifest-files.md5`))?.toString()).toBe(md5(filesText, 'base64'));
  const lines = filesText
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toHaveLength(summary.files as number);
  const data: Buffer[] = [];
  for (const line of lines) {
    expect(Object.keys(line)).toEqual(['itemCount', 'md5Checksum', 'etag', 'dataFileS3Key']);
    const key = line.dataFileS3Key as string;
    expect(key).toMatch(new RegExp(`^${root}data/[a-z2-7]{26}\\.json\\.gz$`));
    const body = (await read(key)) as Buffer;
    expect(line.md5Checksum).toBe(md5(body, 'base64'));
    expect(line.etag).toBe(md5(body, 'hex')); // a single PUT's ETag (the files are small)
    expect(gunzipSync(body).toString('utf8').trimEnd().split('\n')).toHaveLength(line.itemCount as number);
    data.push(body);
  }
  expect(lines.reduce((n, l) => n + (l.itemCount as number), 0)).toBe(summary.items);
  return itemsOf(data);
}

async function s3Keys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

beforeAll(async () => {
  work = randomWorkload(events, 20261203, 200, 700, Math.floor(Date.now() / 1000) - 3600);
  for (let i = 0; i < work.records.length; i += 100) {
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(work.records.slice(i, i + 100)));
  }
  atMs = Math.floor((work.firstS + work.lastS) / 2) * 1000;
}, 300_000);

describe('the export job, in DynamoDB export layout', () => {
  let reference: Map<string, string>;

  it('through the CLI executor, to a local folder: the table as of T, manifests matching the files', async () => {
    const dir = `${mkdtempSync(join(tmpdir(), 'rw-export-job-'))}/`;
    const summary = await exportAsOf(deps, { source: loc, atMs, out: dir, partitions: 4, clockSkewMs: 0 });
    expect(summary).toMatchObject({ partitions: 4, items: expectedAsOf(work, loc, atMs).size });
    const root = `AWSDynamoDB/${summary.exportId}/`;
    expect(readdirSync(join(dir, 'AWSDynamoDB'))).toEqual([summary.exportId]);
    expect(readdirSync(join(dir, root)).sort()).toEqual([
      '_started',
      'data',
      'manifest-files.json',
      'manifest-files.md5',
      'manifest-summary.json',
      'manifest-summary.md5',
    ]);
    expect(readFileSync(join(dir, root, '_started'))).toHaveLength(0);
    expect(readdirSync(join(dir, root, 'data'))).toHaveLength(summary.files as number);
    const manifest = JSON.parse(readFileSync(join(dir, root, 'manifest-summary.json'), 'utf8'));
    expect(manifest).toMatchObject({
      s3Bucket: null,
      s3Prefix: null,
      s3SseAlgorithm: null,
      s3SseKmsKeyId: null,
    });
    reference = await checkExport(localReader(dir), root, summary, { s3Prefix: null });
    expect(reference).toEqual(expectedAsOf(work, loc, atMs));

    // The one-file form holds the same items.
    const file = join(dir, 'one.json.gz');
    const one = await exportAsOf(deps, { source: loc, atMs, out: file, clockSkewMs: 0 });
    expect(one).toMatchObject({ items: summary.items, partitions: 1 });
    expect(one.manifest).toBeUndefined();
    expect(itemsOf([readFileSync(file)])).toEqual(reference);
    await exportAsOf(deps, { source: loc, atMs, out: `s3://${bucket}/one/orders.json.gz`, clockSkewMs: 0 });
    expect(itemsOf([(await s3Reader('one/orders.json.gz')) as Buffer])).toEqual(reference);
  });

  it('to an S3 folder, step by step: each task alone, one run twice, one stopped by its deadline', async () => {
    const out = `s3://${bucket}/exports/nov/`;
    const plan = wire(
      await exportJob.plan(ctx, { source: loc, atMs, out, partitions: 3, concurrency: 8, clockSkewMs: 0 }),
    );
    type Task = (typeof plan.partitions)[number];
    const [first, second, third] = plan.partitions as [Task, Task, Task];
    const root = `exports/nov/AWSDynamoDB/${plan.params.exportId}/`;
    expect(await s3Keys(root)).toEqual([`${root}_started`]);
    expect(await exportJob.partition(ctx, wire(first))).toEqual({ done: true, id: 'p0000' });

    // Run twice: the same data files, each key written again with the same bytes.
    const versions = async () => {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${root}data/` }));
      return new Set((listed.Versions ?? []).map((v) => `${v.Key} ${v.ETag}`));
    };
    await exportJob.partition(ctx, wire(second));
    const once = await versions();
    await exportJob.partition(ctx, wire(second));
    expect(await versions()).toEqual(once);

    let outcome = await exportJob.partition({ ...ctx, deadline: allowing(30) }, wire(third));
    let continued = 0;
    const cuts: string[] = [];
    while (!outcome.done) {
      continued++;
      for (const r of outcome.next.params.rest ?? []) if (r.after !== undefined) cuts.push(r.from);
      outcome = await exportJob.partition({ ...ctx, deadline: allowing(30) }, wire(outcome.next));
    }
    // Asked before each prefix and each key (86 prefixes, 30 asks a run): runs stop inside
    // prefixes too, and their continuations carry on after the last key written.
    expect(continued).toBeGreaterThanOrEqual(3);
    expect(cuts.length).toBeGreaterThan(0);

    // Killed here, before its finish: data files, and no manifest to mistake it for finished.
    const before = await s3Keys(root);
    expect(before.filter((k) => !k.startsWith(`${root}data/`))).toEqual([`${root}_started`]);

    const summary = await exportJob.finish(ctx, wire(plan));
    expect(summary).toMatchObject({
      partitions: 3,
      exportId: plan.params.exportId,
      manifest: `s3://${bucket}/${root}manifest-summary.json`,
    });
    const manifest = JSON.parse((await s3Reader(`${root}manifest-summary.json`))?.toString() as string);
    expect(manifest).toMatchObject({ s3Bucket: bucket, s3Prefix: 'exports/nov' });
    expect(['AES256', 'KMS', null]).toContain(manifest.s3SseAlgorithm);
    expect(await checkExport(s3Reader, root, summary, { s3Prefix: 'exports/nov' })).toEqual(reference);
    expect(await s3Keys(jobRoot(plan))).toEqual([]);
  });

  it('refuses to finish while a partition has not run to its end: still no manifest', async () => {
    const out = `s3://${bucket}/exports/killed/`;
    const plan = wire(await exportJob.plan(ctx, { source: loc, atMs, out, partitions: 2, clockSkewMs: 0 }));
    await exportJob.partition(ctx, wire(plan.partitions[0] as (typeof plan.partitions)[number]));
    await expect(exportJob.finish(ctx, wire(plan))).rejects.toThrow(
      /^The export job export-\S+ cannot finish/,
    );
    const root = `exports/killed/AWSDynamoDB/${plan.params.exportId}/`;
    expect((await s3Keys(root)).filter((k) => k.includes('manifest'))).toEqual([]);
  });

  it('the CLI: --partitions into a folder, --out - for a pipe, and one file refused with --partitions', async () => {
    const dir = `${mkdtempSync(join(tmpdir(), 'rw-export-cli-'))}/`;
    const base = ['export', '--table', table, '--bucket', bucket, '--at', String(atMs)];
    const ok = await runCli([...base, '--out', dir, '--partitions', '3', '--json']);
    expect(ok.code).toBe(0);
    const summary = JSON.parse(ok.stdout) as ExportSummary;
    expect(summary).toMatchObject({ partitions: 3, items: reference.size });
    const root = `AWSDynamoDB/${summary.exportId}/`;
    expect(await checkExport(localReader(dir), root, summary, { s3Prefix: null })).toEqual(reference);

    const piped = await runBinary([...base, '--out', '-']);
    expect(piped.code).toBe(0);
    expect(itemsOf([piped.stdout])).toEqual(reference);
    expect(piped.stderr).toMatch(/^exported \d+ items as of .* to -/);

    const refused = await runCli([...base, '--out', join(dir, 'x.json.gz'), '--partitions', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/Expected `--out` to be a folder \(ending in \/\) with `--partitions` 2/);
  });
});

/** `ddb-rewind` with its stdout kept as bytes (a gzip stream). */
function runBinary(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'bin', 'ddb-rewind.js'), ...args], {
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}
