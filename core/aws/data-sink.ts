import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ParquetSchema } from '@dsnp/parquetjs';
import type { WireItem } from '../ddb-json';
import { InputError } from '../errors';
import type { KeyColumn } from '../table-manifest';
import { type FileTarget, openGzipSink, openRawSink, type WrittenFile } from './export-files';

/** The formats of an export's data files. */
export type ExportFormat = 'dynamodb-json' | 'parquet';

/** One data file being written: items in, its checksum out. */
export interface DataSink {
  add(item: WireItem): Promise<void>;
  close(): Promise<WrittenFile>;
  abort(): Promise<void>;
}

/** `data/<token>` plus the format's extension. */
export const dataFileExtension = (format: ExportFormat): string =>
  format === 'parquet' ? '.parquet' : '.json.gz';

/** The Parquet column holding the whole item (DynamoDB JSON), beside one column per key attribute. */
export const ITEM_COLUMN = 'Item';

/**
 * A Parquet file's schema: each key attribute a column (S and N as UTF-8 text, numbers exact in
 * their canonical form; B as bytes), and `Item`, the whole item as a JSON column a SQL engine
 * reads with its JSON functions. Compressed with GZIP, which every Parquet reader knows.
 */
export async function parquetSchema(keys: readonly KeyColumn[]): Promise<ParquetSchema> {
  if (keys.some((k) => k.name === ITEM_COLUMN)) {
    throw new InputError(
      `A Parquet export names its item column \`${ITEM_COLUMN}\`, which is also a key attribute of this table: export it with --format dynamodb-json`,
    );
  }
  const columns: Record<string, { type: 'UTF8' | 'BYTE_ARRAY' | 'JSON'; compression: 'GZIP' }> = {};
  for (const k of keys)
    columns[k.name] = { type: k.type === 'B' ? 'BYTE_ARRAY' : 'UTF8', compression: 'GZIP' };
  columns[ITEM_COLUMN] = { type: 'JSON', compression: 'GZIP' };
  return new (await parquetLib()).ParquetSchema(columns);
}

/** Opens a data file of `format` at `target`. */
export async function openDataSink(
  s3: S3Client,
  target: FileTarget,
  format: ExportFormat,
  keys: readonly KeyColumn[],
): Promise<DataSink> {
  if (format === 'dynamodb-json') {
    const sink = openGzipSink(s3, target);
    return {
      add: (item) => sink.write(`${JSON.stringify({ Item: item })}\n`),
      close: () => sink.close(),
      abort: () => sink.abort(),
    };
  }
  const stream = new PassThrough();
  const raw = openRawSink(
    s3,
    target.kind === 's3' ? { ...target, contentType: 'application/vnd.apache.parquet' } : target,
    stream,
  );
  // The library types its stream as an fs.WriteStream; it only calls write and end.
  const { ParquetWriter } = await parquetLib();
  const out = stream as unknown as Parameters<typeof ParquetWriter.openStream>[1];
  const writer = await ParquetWriter.openStream(await parquetSchema(keys), out);
  return {
    add: (item) => writer.appendRow(rowOf(item, keys)),
    close: async () => {
      await writer.close();
      return raw.done();
    },
    abort: async () => {
      stream.destroy();
      await raw.abort();
    },
  };
}

/** Loaded on first use: JSON exports, and every other job, start without it. */
const parquetLib = () => import('@dsnp/parquetjs');

function rowOf(item: WireItem, keys: readonly KeyColumn[]): Record<string, unknown> {
  // The JSON column's type serializes the value itself.
  const row: Record<string, unknown> = { [ITEM_COLUMN]: item };
  for (const k of keys) {
    const v = item[k.name] as { S?: string; N?: string; B?: string } | undefined;
    row[k.name] = k.type === 'B' ? Buffer.from(v?.B ?? '', 'base64') : (v?.S ?? v?.N);
  }
  return row;
}
