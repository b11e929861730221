import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ConfigurationError, InputError } from '../errors';
import { createTableInput, type TableManifest } from '../table-manifest';

async function describe(dynamodb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

const keySignature = (
  keys: Array<{ AttributeName?: string | undefined; KeyType?: string | undefined }>,
  types: Map<string, string>,
) =>
  keys
    .map((k) => `${k.KeyType}:${k.AttributeName}:${types.get(k.AttributeName ?? '') ?? '?'}`)
    .sort()
    .join(',');

/**
 * Makes sure the target table can take the restore: created from the backup's description with
 * `createTable` (and refused if it exists), or existing with the source's key schema.
 * Returns true when the table was created here (so it is known to be empty).
 */
export async function prepareTarget(
  dynamodb: DynamoDBClient,
  manifest: TableManifest | undefined,
  target: string,
  createTable: boolean,
  /** How to fix a missing target, in the error. */
  whenMissing = "add --create-table to create it from the backup's table description",
): Promise<boolean> {
  const existing = await describe(dynamodb, target);
  if (createTable) {
    if (existing) {
      throw new InputError(
        `Target table ${target} already exists, and --create-table creates a new one: drop --create-table to restore into it, or pick another --target-table`,
      );
    }
    if (!manifest?.keySchema.length) {
      throw new ConfigurationError(
        `The backup holds no description of table ${manifest?.tableName ?? '(unknown)'}, so --create-table cannot build ${target}: create ${target} yourself with the source's key schema and drop --create-table`,
      );
    }
    await dynamodb.send(new CreateTableCommand(createTableInput(manifest, target)));
    await waitUntilTableExists(
      { client: dynamodb, maxWaitTime: 600, minDelay: 1, maxDelay: 5 },
      { TableName: target },
    );
    if (manifest.ttlAttribute) {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: target,
          TimeToLiveSpecification: { Enabled: true, AttributeName: manifest.ttlAttribute },
        }),
      );
    }
    return true;
  }
  if (!existing) {
    throw new InputError(`Target table ${target} does not exist: ${whenMissing}`);
  }
  if (manifest?.keySchema.length) {
    const want = keySignature(
      manifest.keySchema,
      new Map(manifest.attributeDefinitions.map((d) => [d.AttributeName ?? '', d.AttributeType ?? ''])),
    );
    const got = keySignature(
      existing.KeySchema ?? [],
      new Map(
        (existing.AttributeDefinitions ?? []).map((d) => [d.AttributeName ?? '', d.AttributeType ?? '']),
      ),
    );
    if (want !== got) {
      throw new InputError(
        `Target table ${target} has key schema ${got}, but the backup of ${manifest.tableName} has ${want}: restore into a table with the same keys, or use --create-table with a new name`,
      );
    }
  }
  return false;
}
