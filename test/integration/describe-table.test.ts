import {
  type DynamoDBClient,
  DynamoDBServiceException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { dynamodbClient } from '../../core/aws/clients';
import { describeTable, readManifest } from '../../core/aws/manifest-store';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { ConfigurationError } from '../../core/errors';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { versionsOf } from '../support/backup-reader';
import { EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

// The manifest records the table's TTL attribute so `--create-table` re-creates TTL. A failed
// DescribeTimeToLive used to be swallowed: the manifest then silently had no TTL attribute.

const { s3, dynamodb, bucket, table, loc } = scratchBackup('ttl-desc');

/** A real DynamoDB Local client whose DescribeTimeToLive fails as DynamoDB would answer it. */
function ttlFailingClient(errorName: string): DynamoDBClient {
  const client = dynamodbClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DescribeTimeToLiveCommand') return next(args);
      throw new DynamoDBServiceException({
        name: errorName,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: `injected ${errorName}`,
      });
    },
    { step: 'initialize', name: 'failDescribeTimeToLive' },
  );
  return client;
}

beforeAll(async () => {
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
    }),
  );
});

describe('the table description and its TTL setting', () => {
  it('records the TTL attribute when DescribeTimeToLive answers', async () => {
    expect((await describeTable(dynamodb, table)).ttlAttribute).toBe('expiresAt');
  });

  it.each([
    [
      'AccessDeniedException',
      /Cannot read the TTL setting of table .* \(access denied\): grant dynamodb:DescribeTimeToLive/,
    ],
    [
      'InternalServerError',
      /Cannot read the TTL setting of table .* \(InternalServerError: injected InternalServerError\): .*try again/,
    ],
  ])('fails with one line on %s instead of dropping the TTL attribute', async (name, message) => {
    const failing = ttlFailingClient(name);
    const err = await describeTable(failing, table).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('the writer still backs up the changes, and records no manifest without the TTL attribute', async () => {
    const events = new EventBuilder(table);
    const key = { pk: { S: 'ttl-a' } };
    const out = await writeStreamBatch(
      { s3, dynamodb: ttlFailingClient('InternalServerError'), log: silentLog },
      { bucket, concurrency: 1 },
      events.event([events.record('INSERT', key, Math.floor(Date.now() / 1000), { ...key, v: { N: '1' } })]),
    );
    expect(out).toMatchObject({ written: 1, failed: 0 });
    expect(await versionsOf(s3, bucket, objectKeyFor(loc, key))).toHaveLength(1);
    expect(await readManifest(s3, loc)).toBeUndefined();
  });
});
