import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TableInput } from '@aws-sdk/client-glue';
import {
  type CatalogExport,
  catalogName,
  EXPORT_TIME_PARAMETER,
  exportTableInput,
  exportTableName,
  latestTableName,
  replacesLatest,
} from '../../core/export-catalog';

const sample: CatalogExport = {
  table: 'Orders-EU.v2',
  exportId: '01764756000000-1a2b3c4d',
  atMs: Date.parse('2026-03-01T09:00:00.250Z'),
  format: 'parquet',
  dataLocation: 's3://exports/orders/AWSDynamoDB/01764756000000-1a2b3c4d/data/',
  keyColumns: [
    { name: 'PK', type: 'S' },
    { name: 'version', type: 'N' },
  ],
  itemCount: 42,
};

describe('Glue names', () => {
  it('are lower-case letters, digits and _, sorted by instant and unique per export', () => {
    expect(catalogName('Orders-EU.v2')).toBe('orders_eu_v2');
    expect(exportTableName(sample)).toBe('orders_eu_v2_20260301_090000_1a2b3c4d');
    expect(exportTableName({ ...sample, atMs: sample.atMs + 86_400_000 }) > exportTableName(sample)).toBe(
      true,
    );
    expect(latestTableName(sample.table)).toBe('orders_eu_v2_latest');
    expect(() => catalogName('---')).toThrow(
      /Cannot name a Glue table after "---": give a name with a letter or digit/,
    );
  });
});

describe('an export as a Glue table', () => {
  it('Parquet: a string or binary column per key attribute, the item as JSON text, read by name', () => {
    const input = exportTableInput({
      ...sample,
      keyColumns: [...sample.keyColumns, { name: 'blob', type: 'B' }],
    });
    expect(input.StorageDescriptor?.Columns?.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'pk string',
      'version string',
      'blob binary',
      'item string',
    ]);
    expect(input.StorageDescriptor).toMatchObject({
      Location: sample.dataLocation,
      Compressed: false,
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(input.Parameters).toMatchObject({
      classification: 'parquet',
      [EXPORT_TIME_PARAMETER]: '2026-03-01T09:00:00.250Z',
      ddb_rewind_export_id: sample.exportId,
      ddb_rewind_item_count: '42',
    });
  });

  it('leaves to `item` a key attribute whose name no column can have', () => {
    const input = exportTableInput({
      ...sample,
      keyColumns: [
        { name: 'user-id', type: 'S' },
        { name: 'item', type: 'S' },
      ],
    });
    expect(input.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(['item']);
  });

  it('DynamoDB JSON: each gzipped line whole in one string column', () => {
    const input = exportTableInput({ ...sample, format: 'dynamodb-json' }, 'orders_latest');
    expect(input.Name).toBe('orders_latest');
    expect(input.StorageDescriptor?.Columns).toEqual([
      { Name: 'line', Type: 'string', Comment: expect.any(String) },
    ]);
    expect(input.StorageDescriptor).toMatchObject({
      Compressed: true,
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' },
    });
    // JSON.stringify escapes U+0001, so no line of an export holds the field delimiter.
    expect(JSON.stringify({ Item: { s: { S: '\u0001' } } })).not.toContain('\u0001');
  });
});

describe('the latest table', () => {
  it('moves to an export of a later or the same instant, never back', () => {
    expect(replacesLatest(undefined, sample)).toBe(true);
    expect(replacesLatest({}, sample)).toBe(true);
    const current = { [EXPORT_TIME_PARAMETER]: '2026-03-01T09:00:00.250Z' };
    expect(replacesLatest(current, sample)).toBe(true);
    expect(replacesLatest(current, { atMs: sample.atMs + 1 })).toBe(true);
    expect(replacesLatest(current, { atMs: sample.atMs - 1 })).toBe(false);
  });
});

// The AWS CLI checks a request against Glue's own API model before it sends anything: a table
// input it accepts has every required field, the right types and no unknown field. Nothing
// listens on the endpoint, so a valid request ends in a connection error, never at Glue.
describe("Glue's API model (the AWS CLI's parameter validation)", () => {
  const run = promisify(execFile);
  const createTable = async (input: TableInput): Promise<string> => {
    const file = join(mkdtempSync(join(tmpdir(), 'rw-glue-')), 'table.json');
    writeFileSync(file, JSON.stringify(input));
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
      AWS_RETRY_MODE: 'standard',
    };
    const args = ['glue', 'create-table', '--region', 'us-east-1', '--endpoint-url', 'http://127.0.0.1:9'];
    try {
      await run('aws', [...args, '--database-name', 'exports', '--table-input', `file://${file}`], { env });
      return 'sent';
    } catch (err) {
      const e = err as { code?: string; stderr?: string };
      if (e.code === 'ENOENT')
        throw new Error('The AWS CLI is missing: run `bash scripts/setup.sh` (it installs awscli)');
      return e.stderr ?? String(err);
    }
  };

  it('accepts both tables, and would refuse a malformed one', async () => {
    for (const format of ['parquet', 'dynamodb-json'] as const) {
      expect(await createTable(exportTableInput({ ...sample, format }))).toMatch(
        /Could not connect to the endpoint URL/,
      );
    }
    const bad = { ...exportTableInput(sample), Retention: 'forever' } as unknown as TableInput;
    expect(await createTable(bad)).toMatch(/Parameter validation failed/);
  }, 30_000);
});
