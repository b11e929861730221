import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { exportAsOf } from '../../core/aws/export-as-of';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { readObjectIfExists } from '../../core/aws/version-store';
import { exportTableInput } from '../../core/export-catalog';
import { silentLog } from '../../core/log';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { PK_SK, scratchBackup } from '../support/scratch';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

// Exports in DynamoDB's layout, queried with a real SQL engine (DuckDB, in process) the way an
// operator would query them with Athena: counts, a filter on an attribute and a join of two
// exports give what the model of every change says.
const { s3, dynamodb, bucket, table, loc } = scratchBackup('sql', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
let work: Workload;
let db: DuckDBConnection;
const folders: Record<'early' | 'late' | 'parquet', string> = { early: '', late: '', parquet: '' };
const instants = { early: 0, late: 0 };
const exportIds: Record<'late' | 'parquet', string> = { late: '', parquet: '' };

/** Every item of one export: its data files, one DynamoDB JSON item per line. */
const items = (folder: string) =>
  `read_json('${folder}AWSDynamoDB/*/data/*.json.gz', format = 'newline_delimited', columns = {Item: 'JSON'})`;

/** The CLI's export of this test's backup. */
const exportCli = (out: string, format: string) =>
  runCli(['export', '--bucket', bucket, '--table', table, '--out', out, '--format', format]);

async function rows(sql: string): Promise<unknown[][]> {
  return (await db.runAndReadAll(sql)).getRows();
}

beforeAll(async () => {
  const events = new EventBuilder(table);
  work = randomWorkload(events, 20261203, 150, 600, Math.floor(Date.now() / 1000) - 3600);
  for (let i = 0; i < work.records.length; i += 100)
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(work.records.slice(i, i + 100)));
  instants.early = Math.floor(work.firstS + (work.lastS - work.firstS) / 3) * 1000;
  instants.late = (work.lastS + 1) * 1000;
  for (const when of ['early', 'late'] as const) {
    folders[when] = `${mkdtempSync(join(tmpdir(), `rw-sql-${when}-`))}/`;
    const done = await exportAsOf(deps, {
      source: loc,
      atMs: instants[when],
      out: folders[when],
      partitions: 2,
      clockSkewMs: 0,
    });
    if (when === 'late') exportIds.late = done.exportId ?? '';
  }
  folders.parquet = `${mkdtempSync(join(tmpdir(), 'rw-sql-parquet-'))}/`;
  const parquet = await exportAsOf(deps, {
    source: loc,
    atMs: instants.late,
    out: folders.parquet,
    partitions: 2,
    clockSkewMs: 0,
    format: 'parquet',
  });
  exportIds.parquet = parquet.exportId ?? '';
  db = await (await DuckDBInstance.create(':memory:')).connect();
}, 300_000);

afterAll(() => db?.closeSync());

describe('SQL over exports (DuckDB)', () => {
  it('counts the items of each export', async () => {
    for (const when of ['early', 'late'] as const) {
      const [[count]] = (await rows(`select count(*) from ${items(folders[when])}`)) as [[bigint]];
      expect(Number(count)).toBe(expectedAsOf(work, loc, instants[when]).size);
    }
  });

  it('filters on an attribute', async () => {
    const want = [...expectedAsOf(work, loc, instants.late).values()].filter(
      (json) => (JSON.parse(json) as { sk: { N: string } }).sk.N === '3',
    ).length;
    const [[count]] = (await rows(
      `select count(*) from ${items(folders.late)} where json_extract_string(Item, '$.sk.N') = '3'`,
    )) as [[bigint]];
    expect(want).toBeGreaterThan(0);
    expect(Number(count)).toBe(want);
  });

  it('joins two exports: the items changed between them, and those only in one', async () => {
    const early = expectedAsOf(work, loc, instants.early);
    const late = expectedAsOf(work, loc, instants.late);
    const changed = [...late].filter(([k, json]) => early.has(k) && early.get(k) !== json).length;
    const added = [...late.keys()].filter((k) => !early.has(k)).length;
    const removed = [...early.keys()].filter((k) => !late.has(k)).length;
    const keyed = (folder: string) =>
      `(select json_extract_string(Item, '$.pk.S') as pk, json_extract_string(Item, '$.sk.N') as sk, Item from ${items(folder)})`;
    const [[c, a, r]] = (await rows(`
      with e as ${keyed(folders.early)}, l as ${keyed(folders.late)}
      select
        (select count(*) from e join l using (pk, sk) where json(e.Item) <> json(l.Item)),
        (select count(*) from l anti join e using (pk, sk)),
        (select count(*) from e anti join l using (pk, sk))
    `)) as [[bigint, bigint, bigint]];
    expect(changed + added + removed).toBeGreaterThan(0);
    expect({ changed: Number(c), added: Number(a), removed: Number(r) }).toEqual({ changed, added, removed });
  });

  it('reads a Parquet export: a column per key attribute, the item as JSON, the same items as the JSON export', async () => {
    const parquet = `read_parquet('${folders.parquet}AWSDynamoDB/*/data/*.parquet')`;
    const want = expectedAsOf(work, loc, instants.late);
    const [[count, filtered]] = (await rows(
      `select count(*), count(*) filter (where sk = '3') from ${parquet}`,
    )) as [[bigint, bigint]];
    expect(Number(count)).toBe(want.size);
    expect(Number(filtered)).toBe(
      [...want.values()].filter((json) => (JSON.parse(json) as { sk: { N: string } }).sk.N === '3').length,
    );
    // Key columns agree with the item, and every item equals the JSON export's.
    const [[badKeys, differ]] = (await rows(`
      with p as (select pk, sk, Item from ${parquet}),
           j as (select json_extract_string(Item, '$.pk.S') as pk, json_extract_string(Item, '$.sk.N') as sk, Item from ${items(folders.late)})
      select
        (select count(*) from p where pk <> json_extract_string(Item, '$.pk.S') or sk <> json_extract_string(Item, '$.sk.N')),
        (select count(*) from p full join j using (pk, sk) where p.Item is null or j.Item is null or json(p.Item) <> json(j.Item))
    `)) as [[bigint, bigint]];
    expect({ badKeys: Number(badKeys), differ: Number(differ) }).toEqual({ badKeys: 0, differ: 0 });
    const root = join(folders.parquet, 'AWSDynamoDB');
    const [id] = readdirSync(root);
    const summary = JSON.parse(readFileSync(join(root, id as string, 'manifest-summary.json'), 'utf8'));
    expect(summary).toMatchObject({ outputFormat: 'PARQUET', itemCount: want.size });
    // manifest-files.json names every data file with its item count and MD5, as for JSON exports.
    const lines = readFileSync(join(root, id as string, 'manifest-files.json'), 'utf8')
      .trim()
      .split('\n');
    const files = lines.map(
      (l) => JSON.parse(l) as { itemCount: number; md5Checksum: string; dataFileS3Key: string },
    );
    expect(files.reduce((n, f) => n + f.itemCount, 0)).toBe(want.size);
    for (const f of files) {
      const bytes = readFileSync(join(folders.parquet, f.dataFileS3Key));
      expect(createHash('md5').update(bytes).digest('base64')).toBe(f.md5Checksum);
      expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    }
  });

  it('writes Parquet to an S3 folder that reads back the same; refuses it for one file in one line', async () => {
    const summary = await exportAsOf(deps, {
      source: loc,
      atMs: instants.late,
      out: `s3://${bucket}/pq/`,
      clockSkewMs: 0,
      format: 'parquet',
    });
    const local = mkdtempSync(join(tmpdir(), 'rw-sql-s3pq-'));
    const root = `pq/AWSDynamoDB/${summary.exportId}/`;
    const manifest = Buffer.from(
      (await readObjectIfExists(s3, bucket, `${root}manifest-files.json`)) ?? [],
    ).toString('utf8');
    const files = manifest
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { dataFileS3Key: string }).dataFileS3Key);
    for (const [i, key] of files.entries())
      writeFileSync(join(local, `${i}.parquet`), (await readObjectIfExists(s3, bucket, key)) as Uint8Array);
    const [[count]] = (await rows(`select count(*) from read_parquet('${local}/*.parquet')`)) as [[bigint]];
    expect(Number(count)).toBe(expectedAsOf(work, loc, instants.late).size);

    const cli = await exportCli(join(local, 'one.json.gz'), 'parquet');
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/Expected `--out` to be a folder \(ending in \/\) with `--format parquet`/);
    const bad = await exportCli(`${local}/x/`, 'csv');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected `--format` to be dynamodb-json or parquet, got `csv`/);
  });

  // The Glue tables the construct's `exportTables` registers, read here as Athena would read
  // them: the table's Location holds the data files and nothing else, and its columns and SerDe
  // give the model's items (JSON: each whole line in one column; Parquet: columns by name).
  it('reads each export through the Glue table it is registered as', async () => {
    const want = expectedAsOf(work, loc, instants.late);
    const shipped = [...want.values()].filter(
      (json) => (JSON.parse(json) as { sk: { N: string } }).sk.N === '3',
    ).length;
    const tableOf = (format: 'dynamodb-json' | 'parquet', folder: string, exportId: string) =>
      exportTableInput({
        table,
        exportId,
        atMs: instants.late,
        format,
        dataLocation: `${folder}AWSDynamoDB/${exportId}/data/`,
        keyColumns: [
          { name: 'pk', type: 'S' },
          { name: 'sk', type: 'N' },
        ],
        itemCount: want.size,
      });
    const json = tableOf('dynamodb-json', folders.late, exportIds.late);
    const serde = json.StorageDescriptor?.SerdeInfo;
    expect(serde?.SerializationLibrary).toBe('org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe');
    const delim = serde?.Parameters?.['field.delim'] as string;
    const lines = `read_csv('${json.StorageDescriptor?.Location}*', delim = '${delim}', quote = '', escape = '', header = false, columns = {'line': 'VARCHAR'}, compression = 'gzip')`;
    const [[count, filtered, notOneItem]] = (await rows(`
      select count(*), count(*) filter (where json_extract_string(line, '$.Item.sk.N') = '3'),
             count(*) filter (where json_keys(line::JSON) <> ['Item'])
      from ${lines}`)) as [[bigint, bigint, bigint]];
    expect(json.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(['line']);
    expect({ count: Number(count), filtered: Number(filtered), notOneItem: Number(notOneItem) }).toEqual({
      count: want.size,
      filtered: shipped,
      notOneItem: 0,
    });

    const pq = tableOf('parquet', folders.parquet, exportIds.parquet);
    const columns = pq.StorageDescriptor?.Columns ?? [];
    expect(columns.map((c) => `${c.Name} ${c.Type}`)).toEqual(['pk string', 'sk string', 'item string']);
    const file = `read_parquet('${pq.StorageDescriptor?.Location}*')`;
    const types = (await rows(`select column_name, column_type from (describe select * from ${file})`)) as [
      string,
      string,
    ][];
    for (const c of columns)
      expect(types.find(([name]) => name.toLowerCase() === c.Name)?.[1]).toMatch(/^(VARCHAR|JSON)$/);
    const [[pqCount, pqFiltered]] = (await rows(
      `select count(*) filter (where ${columns.map((c) => `${c.Name} is not null`).join(' and ')}), count(*) filter (where json_extract_string(item, '$.sk.N') = '3') from ${file}`,
    )) as [[bigint, bigint]];
    expect({ count: Number(pqCount), filtered: Number(pqFiltered) }).toEqual({
      count: want.size,
      filtered: shipped,
    });
  });
});
