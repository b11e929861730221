import type {
  AttributeDefinition,
  CreateTableCommandInput,
  KeySchemaElement,
  Projection,
  TableDescription,
  TimeToLiveDescription,
} from '@aws-sdk/client-dynamodb';

/**
 * The table description kept in the backup (`_meta/table.json`, one S3 version per change), so a
 * restore can create the target table even when the source is gone.
 */
export interface TableManifest {
  format: 'ddb-rewind-table/1';
  tableName: string;
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  provisioned?: { read: number; write: number };
  globalSecondaryIndexes?: IndexManifest[];
  localSecondaryIndexes?: IndexManifest[];
  ttlAttribute?: string;
  streamViewType?: string;
  /** The earliest instant the backup covers: its first backed-up change or backfill, epoch ms. */
  coverageFromMs?: number;
}

export interface IndexManifest {
  indexName: string;
  keySchema: KeySchemaElement[];
  projection: Projection;
  provisioned?: { read: number; write: number };
}

const throughput = (p?: {
  ReadCapacityUnits?: number | undefined;
  WriteCapacityUnits?: number | undefined;
}) =>
  p?.ReadCapacityUnits && p.WriteCapacityUnits
    ? { read: p.ReadCapacityUnits, write: p.WriteCapacityUnits }
    : undefined;

/** Builds a manifest from DescribeTable and DescribeTimeToLive. */
export function manifestFromDescription(table: TableDescription, ttl?: TimeToLiveDescription): TableManifest {
  const billingMode =
    table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
  const provisioned = billingMode === 'PROVISIONED' ? throughput(table.ProvisionedThroughput) : undefined;
  const gsis = (table.GlobalSecondaryIndexes ?? []).map((g) => {
    const p = billingMode === 'PROVISIONED' ? throughput(g.ProvisionedThroughput) : undefined;
    return {
      indexName: g.IndexName ?? '',
      keySchema: g.KeySchema ?? [],
      projection: g.Projection ?? { ProjectionType: 'ALL' },
      ...(p ? { provisioned: p } : {}),
    };
  });
  const lsis = (table.LocalSecondaryIndexes ?? []).map((l) => ({
    indexName: l.IndexName ?? '',
    keySchema: l.KeySchema ?? [],
    projection: l.Projection ?? { ProjectionType: 'ALL' },
  }));
  const ttlOn = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
  return {
    format: 'ddb-rewind-table/1',
    tableName: table.TableName ?? '',
    keySchema: table.KeySchema ?? [],
    attributeDefinitions: table.AttributeDefinitions ?? [],
    billingMode,
    ...(provisioned ? { provisioned } : {}),
    ...(gsis.length ? { globalSecondaryIndexes: gsis } : {}),
    ...(lsis.length ? { localSecondaryIndexes: lsis } : {}),
    ...(ttlOn && ttl?.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
    ...(table.StreamSpecification?.StreamViewType
      ? { streamViewType: table.StreamSpecification.StreamViewType }
      : {}),
  };
}

/** True when two manifests describe the same schema (coverage aside). */
export function sameSchema(a: TableManifest, b: TableManifest): boolean {
  const { coverageFromMs: _a, ...restA } = a;
  const { coverageFromMs: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** CreateTable input that rebuilds the source's keys, indexes and billing mode under a new name. */
export function createTableInput(manifest: TableManifest, tableName: string): CreateTableCommandInput {
  const pt = (p?: { read: number; write: number }) =>
    p ? { ProvisionedThroughput: { ReadCapacityUnits: p.read, WriteCapacityUnits: p.write } } : {};
  return {
    TableName: tableName,
    KeySchema: manifest.keySchema,
    AttributeDefinitions: manifest.attributeDefinitions,
    BillingMode: manifest.billingMode,
    ...pt(manifest.provisioned),
    ...(manifest.globalSecondaryIndexes
      ? {
          GlobalSecondaryIndexes: manifest.globalSecondaryIndexes.map((g) => ({
            IndexName: g.indexName,
            KeySchema: g.keySchema,
            Projection: g.projection,
            ...pt(g.provisioned),
          })),
        }
      : {}),
    ...(manifest.localSecondaryIndexes
      ? {
          LocalSecondaryIndexes: manifest.localSecondaryIndexes.map((l) => ({
            IndexName: l.indexName,
            KeySchema: l.keySchema,
            Projection: l.projection,
          })),
        }
      : {}),
  };
}

/** The partition and sort key names, in schema order. */
export function keyNames(manifest: Pick<TableManifest, 'keySchema'>): string[] {
  const hash = manifest.keySchema.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = manifest.keySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return [hash, range].filter((n): n is string => Boolean(n));
}

/** A key attribute with its type: what an export writes as a column of its own. */
export interface KeyColumn {
  name: string;
  type: 'S' | 'N' | 'B';
}

/** The key attributes with their types, in schema order. */
export function keyColumns(manifest: Pick<TableManifest, 'keySchema' | 'attributeDefinitions'>): KeyColumn[] {
  return keyNames(manifest).map((name) => ({
    name,
    type: (manifest.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType ??
      'S') as KeyColumn['type'],
  }));
}
