import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { canonicalItemJson, type WireItem } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { PK_SK, scratchBackup } from '../support/scratch';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

// export --since T1 --at T2: DynamoDB's incremental export format, checked field by field
// against its documentation (developer guide, "DynamoDB table export output format",
// incremental export output): one line per changed item with Metadata.WriteTimestampMicros,
// Keys, OldImage and NewImage, a delete without NewImage, compacted per item; the summary's
// exportType INCREMENTAL_EXPORT, outputView, exportFromTime/exportToTime. A full export as of T1
// with the lines applied equals the model as of T2.
const { s3, dynamodb, bucket, table, loc } = scratchBackup('incr', PK_SK);
let work: Workload;
let t1 = 0;
let t2 = 0;

interface Line {
  Metadata: { WriteTimestampMicros: { N: string } };
  Keys: WireItem;
  OldImage?: WireItem;
  NewImage?: WireItem;
}

const exportCli = (out: string, extra: string[]) =>
  runCli(['export', '--table', table, '--bucket', bucket, '--out', out, '--json', ...extra]);

/** The one export under a folder: its root, summary, files manifest and data lines. */
function readExport(folder: string) {
  const [id] = readdirSync(join(folder, 'AWSDynamoDB'));
  const root = join(folder, 'AWSDynamoDB', id as string);
  const summary = JSON.parse(readFileSync(join(root, 'manifest-summary.json'), 'utf8'));
  const files = readFileSync(join(root, 'manifest-files.json'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { itemCount: number; md5Checksum: string; dataFileS3Key: string });
  const lines = files.flatMap((f) => {
    const bytes = readFileSync(join(folder, f.dataFileS3Key));
    expect(createHash('md5').update(bytes).digest('base64')).toBe(f.md5Checksum);
    const text = gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean);
    expect(text).toHaveLength(f.itemCount);
    return text.map((l) => JSON.parse(l));
  });
  return { root, summary, files, lines };
}

beforeAll(async () => {
  const events = new EventBuilder(table);
  work = randomWorkload(events, 31337, 120, 700, Math.floor(Date.now() / 1000) - 3600);
  for (let i = 0; i < work.records.length; i += 100)
    await writeStreamBatch(
      { s3, dynamodb, log: silentLog },
      { bucket, concurrency: 16 },
      events.event(work.records.slice(i, i + 100)),
    );
  const span = work.lastS - work.firstS;
  t1 = (work.firstS + Math.floor(span / 3)) * 1000 + 500;
  t2 = (work.firstS + Math.floor((span * 2) / 3)) * 1000 + 500;
}, 300_000);

describe('export --since (incremental)', () => {
  it("writes DynamoDB's incremental format: one compacted line per changed item, the documented summary", async () => {
    const folder = `${mkdtempSync(join(tmpdir(), 'rw-incr-'))}/`;
    const out = await exportCli(folder, ['--since', String(t1), '--at', String(t2), '--partitions', '3']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).changesFrom).toMatchObject({ source: 'index' });
    const { summary, lines } = readExport(folder);
    // The documented fields of an incremental export's summary, in DynamoDB's order (tableArn and
    // tableId aside: there is no DynamoDB table export behind it, as for full exports).
    const documented =
      'version exportArn startTime endTime exportFromTime exportToTime s3Bucket s3Prefix s3SseAlgorithm s3SseKmsKeyId manifestFilesS3Key billedSizeBytes itemCount outputFormat outputView exportType';
    expect(Object.keys(summary)).toEqual(documented.split(' '));
    expect(summary).toMatchObject({
      version: '2023-08-01',
      exportFromTime: new Date(t1).toISOString(),
      exportToTime: new Date(t2).toISOString(),
      itemCount: lines.length,
      outputFormat: 'DYNAMODB_JSON',
      outputView: 'NEW_AND_OLD_IMAGES',
      exportType: 'INCREMENTAL_EXPORT',
    });

    const before = expectedAsOf(work, loc, t1);
    const after = expectedAsOf(work, loc, t2);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (k) => before.get(k) !== after.get(k),
    );
    expect(changed.length).toBeGreaterThan(10);
    const seen = new Set<string>();
    for (const line of lines as Line[]) {
      expect(Object.keys(line).every((k) => ['Metadata', 'Keys', 'OldImage', 'NewImage'].includes(k))).toBe(
        true,
      );
      expect(Object.keys(line.Metadata)).toEqual(['WriteTimestampMicros']);
      const micros = Number(line.Metadata.WriteTimestampMicros.N);
      expect(micros).toBeGreaterThan(t1 * 1000);
      expect(micros).toBeLessThanOrEqual(t2 * 1000);
      expect(Object.keys(line.Keys).sort()).toEqual(['pk', 'sk']);
      const key = objectKeyFor(loc, line.Keys);
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      // OldImage as of T1 (none for an insert), NewImage as of T2 (none for a delete).
      expect(line.OldImage ? canonicalItemJson(line.OldImage) : undefined).toBe(before.get(key));
      expect(line.NewImage ? canonicalItemJson(line.NewImage) : undefined).toBe(after.get(key));
    }
    // Items whose state differs at the ends all have a line (and an item inserted then deleted inside none).
    for (const key of changed) expect(seen.has(key)).toBe(true);
    expect([...seen].every((k) => before.has(k) || after.has(k))).toBe(true);
    expect((lines as Line[]).some((l) => !l.NewImage)).toBe(true);
    expect((lines as Line[]).some((l) => !l.OldImage)).toBe(true);
  });

  it('chains with a full export: the table as of T1 with the lines applied is the table as of T2', async () => {
    const fullFolder = `${mkdtempSync(join(tmpdir(), 'rw-incr-full-'))}/`;
    expect((await exportCli(fullFolder, ['--at', String(t1)])).code).toBe(0);
    const incrFolder = `${mkdtempSync(join(tmpdir(), 'rw-incr-next-'))}/`;
    expect((await exportCli(incrFolder, ['--since', String(t1), '--at', String(t2)])).code).toBe(0);
    const table = new Map<string, string>();
    for (const { Item } of readExport(fullFolder).lines as Array<{ Item: WireItem }>)
      table.set(objectKeyFor(loc, { pk: Item.pk, sk: Item.sk } as WireItem), canonicalItemJson(Item));
    for (const line of readExport(incrFolder).lines as Line[]) {
      const key = objectKeyFor(loc, line.Keys);
      if (line.NewImage) table.set(key, canonicalItemJson(line.NewImage));
      else table.delete(key);
    }
    expect(table).toEqual(expectedAsOf(work, loc, t2));
  });

  it('refuses what the incremental layout cannot hold, in one line', async () => {
    for (const extra of [
      ['--out', '/tmp/one.json.gz'],
      ['--format', 'parquet'],
    ]) {
      const folder = `${mkdtempSync(join(tmpdir(), 'rw-incr-bad-'))}/`;
      const args =
        extra[0] === '--out'
          ? ['--since', String(t1), '--at', String(t2)]
          : ['--since', String(t1), '--at', String(t2), ...extra];
      const out = await runCli([
        'export',
        '--table',
        table,
        '--bucket',
        bucket,
        '--out',
        extra[0] === '--out' ? (extra[1] as string) : folder,
        ...args,
      ]);
      expect(out.code).toBe(2);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(
        /Expected `--out` to be a folder \(ending in \/\), DynamoDB JSON and no --transform with `--since`/,
      );
    }
  });
});
