import {
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ENABLED_VIEW_TYPE, existingTableFix, streamViewTypeProblem } from '../stream-view-type';

/**
 * Custom resource (Provider framework onEvent) for an existing table: enables a
 * NEW_AND_OLD_IMAGES stream when the table has none, refuses a stream without new images, and
 * returns the stream ARN for the event source mapping. AwsCustomResource cannot branch on
 * DescribeTable's answer, hence this small function.
 *
 * Delete leaves the stream alone: disabling it would drop up to 24 h of unread changes and break
 * any other consumer of the stream.
 */

/** The two DynamoDB calls this needs, so tests can fake them. */
export interface TableApi {
  describe(table: string): Promise<TableDescription>;
  enableStream(table: string): Promise<void>;
}

export interface StreamAttributes {
  StreamArn: string;
  StreamViewType: string;
  /** 'true' when this deployment enabled the stream. */
  EnabledHere: string;
}

export interface WaitOptions {
  attempts: number;
  sleep: (ms: number) => Promise<void>;
  delayMs: number;
}

const WAIT: WaitOptions = {
  // About 4 minutes, well inside the function's 5-minute timeout.
  attempts: 48,
  delayMs: 5000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Makes sure `table` has a stream with new images and returns its ARN and view type. */
export async function ensureStream(
  api: TableApi,
  table: string,
  wait: WaitOptions = WAIT,
): Promise<StreamAttributes> {
  let enabledHere = false;
  for (let attempt = 1; ; attempt++) {
    const desc = await api.describe(table);
    const spec = desc.StreamSpecification;
    if (spec?.StreamEnabled && desc.LatestStreamArn) {
      const viewType = spec.StreamViewType ?? 'UNKNOWN';
      const problem = streamViewTypeProblem(table, viewType, existingTableFix(table));
      if (problem) throw new Error(problem);
      // An event source mapping needs the stream ENABLED, which it is once the table is ACTIVE.
      if (desc.TableStatus === 'ACTIVE') {
        return {
          StreamArn: desc.LatestStreamArn,
          StreamViewType: viewType,
          EnabledHere: String(enabledHere),
        };
      }
    } else if (!enabledHere && desc.TableStatus === 'ACTIVE') {
      try {
        await api.enableStream(table);
        enabledHere = true;
      } catch (err) {
        // Another update is running on the table: wait for it and try again.
        if (!(err instanceof ResourceInUseException || (err as Error).name === 'ResourceInUseException'))
          throw err;
      }
    }
    if (attempt >= wait.attempts) {
      throw new Error(
        `Table ${table} did not get an enabled stream within ${Math.round((wait.attempts * wait.delayMs) / 1000)} s (status ${desc.TableStatus ?? 'unknown'}): check it in the DynamoDB console and deploy again`,
      );
    }
    await wait.sleep(wait.delayMs);
  }
}

/** TableApi over a real client. */
export function tableApi(client: DynamoDBClient): TableApi {
  return {
    async describe(table) {
      const out = await client.send(new DescribeTableCommand({ TableName: table }));
      if (!out.Table) throw new Error(`DescribeTable returned no description for table ${table}`);
      return out.Table;
    },
    async enableStream(table) {
      await client.send(
        new UpdateTableCommand({
          TableName: table,
          StreamSpecification: { StreamEnabled: true, StreamViewType: ENABLED_VIEW_TYPE },
        }),
      );
    },
  };
}

// Built on first use: importing this module (tests) creates no client.
let api: TableApi | undefined;

export async function handler(
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data?: StreamAttributes }> {
  const table = String(event.ResourceProperties.TableName ?? '');
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  if (!table) throw new Error('Expected the TableName property on the ddb-rewind stream resource');
  api ??= tableApi(new DynamoDBClient({}));
  return { PhysicalResourceId: table, Data: await ensureStream(api, table) };
}
