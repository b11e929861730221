import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { canonicalItemJson, type SdkItem, sdkItemToWire } from '../../core/ddb-json';
import { keyOf } from '../../core/item-key';
import { type BackupLocation, objectKeyFor } from '../../core/object-key';

/** A whole table as object key -> canonical JSON, for exact comparison with a model. */
export async function tableState(
  dynamodb: DynamoDBClient,
  table: string,
  loc: BackupLocation,
  keyNames: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const page of paginateScan({ client: dynamodb }, { TableName: table, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const wire = sdkItemToWire(item as SdkItem);
      out.set(objectKeyFor(loc, keyOf(wire, keyNames)), canonicalItemJson(wire));
    }
  }
  return out;
}
