import type { Column, TableInput } from '@aws-sdk/client-glue';
import { InputError } from './errors';
import type { KeyColumn } from './table-manifest';

/**
 * Glue tables over the exports (the construct's `exportTables`), so Athena, Redshift Spectrum or
 * Spark query them with SQL: one table per finished export, named by its instant, and one
 * `<table>_latest` that is the same definition as the export of the latest instant. A table, not
 * an Athena view: a view's Glue encoding is Athena's own and undocumented, and other engines
 * cannot read it; a table over the newest export's files is what the view would select.
 */
export interface CatalogExport {
  /** The backed-up table. */
  table: string;
  exportId: string;
  /** As of when, epoch ms. */
  atMs: number;
  format: 'dynamodb-json' | 'parquet';
  /** `s3://bucket/<prefix>AWSDynamoDB/<export id>/data/`: nothing but the data files. */
  dataLocation: string;
  keyColumns: readonly KeyColumn[];
  itemCount: number;
}

/** Table parameters that say which export a Glue table reads (ours, so `latest` can compare). */
export const EXPORT_TIME_PARAMETER = 'ddb_rewind_export_time';
export const EXPORT_ID_PARAMETER = 'ddb_rewind_export_id';

/** Glue and Athena take lower-case letters, digits and `_` in database and table names. */
export function catalogName(name: string): string {
  const safe = name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/[a-z0-9]/.test(safe))
    throw new InputError(`Cannot name a Glue table after "${name}": give a name with a letter or digit`);
  return safe;
}

/** `<table>_<yyyymmdd>_<hhmmss>_<export id's hex>`: sorts by instant, unique per export. */
export function exportTableName(e: Pick<CatalogExport, 'table' | 'exportId' | 'atMs'>): string {
  const stamp = new Date(e.atMs).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const hex = e.exportId.split('-')[1] ?? e.exportId;
  return catalogName(`${e.table}_${stamp}_${hex}`);
}

export const latestTableName = (table: string): string => catalogName(`${table}_latest`);

/**
 * Parquet keys are plain columns (B as binary, N as its decimal text) and `item` is JSON text.
 * Engines match Parquet columns by name, and Athena's column names are letters, digits and `_`:
 * a key attribute named otherwise is left to `item` rather than shown under a name matching nothing.
 */
function parquetColumns(keys: readonly KeyColumn[]): Column[] {
  return [
    ...keys
      .filter((k) => /^[A-Za-z0-9_]+$/.test(k.name) && k.name.toLowerCase() !== 'item')
      .map((k) => ({
        Name: k.name.toLowerCase(),
        Type: k.type === 'B' ? 'binary' : 'string',
        Comment: `key attribute ${k.name} (${k.type})`,
      })),
    { Name: 'item', Type: 'string', Comment: 'the item, DynamoDB JSON' },
  ];
}

const PARQUET_STORAGE = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};

// Each gzipped line, `{"Item":{...}}`, read whole into one string column: JSON text never holds
// the delimiter (\u0001 is escaped), and no column list can spell out every item's attributes.
const JSON_LINES_STORAGE = {
  InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
    Parameters: { 'field.delim': '\u0001', 'serialization.format': '\u0001' },
  },
};

/** The Glue table of one export (CreateTable's TableInput), `name` defaulting to the export's own. */
export function exportTableInput(e: CatalogExport, name = exportTableName(e)): TableInput {
  const parquet = e.format === 'parquet';
  return {
    Name: name,
    Description: `ddb-rewind export of ${e.table} as of ${new Date(e.atMs).toISOString()} (${e.itemCount} items)`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: parquet ? 'parquet' : 'json',
      [EXPORT_TIME_PARAMETER]: new Date(e.atMs).toISOString(),
      [EXPORT_ID_PARAMETER]: e.exportId,
      ddb_rewind_source_table: e.table,
      ddb_rewind_item_count: String(e.itemCount),
    },
    StorageDescriptor: {
      Columns: parquet
        ? parquetColumns(e.keyColumns)
        : [{ Name: 'line', Type: 'string', Comment: 'one {"Item":{...}} line, DynamoDB JSON' }],
      Location: e.dataLocation,
      Compressed: !parquet,
      ...(parquet ? PARQUET_STORAGE : JSON_LINES_STORAGE),
    },
  };
}

/**
 * Whether `latest` should now read this export: when it reads none yet, or one of an earlier
 * instant (the same instant exported again replaces it, so a re-run export is taken).
 */
export function replacesLatest(
  current: Record<string, string> | undefined,
  e: Pick<CatalogExport, 'atMs'>,
): boolean {
  const time = current?.[EXPORT_TIME_PARAMETER];
  return time === undefined || Date.parse(time) <= e.atMs;
}
