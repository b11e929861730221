import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  PutItemCommand,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { listGaps } from '../../core/aws/gap-store';
import { restore } from '../../core/aws/restore';
import { verify } from '../../core/aws/verify';
import { wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { runCli, userEnv } from '../support/cli';
import { randomName } from '../support/local-env';
import { scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('gaps');
const dir = mkdtempSync(join(tmpdir(), 'rw-gaps-'));
const env = userEnv();
const stream = () =>
  runCli(['stream', '--table', table, '--bucket', bucket, '--drain', '--checkpoint-dir', dir], env);
const put = (pk: string, v: string) =>
  dynamodb.send(
    new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: pk }, v: { N: v } }) }),
  );
const setStream = async (enabled: boolean) => {
  await dynamodb.send(
    new UpdateTableCommand({
      TableName: table,
      StreamSpecification: enabled
        ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }
        : { StreamEnabled: false },
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: table });
};

describe('gaps in the backup', () => {
  it('a replaced stream is recorded as a gap; restore and verify warn and say to backfill; a backfill closes it for verify', async () => {
    await put('a', '1');
    expect((await stream()).code).toBe(0);
    const oldArn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table
      ?.LatestStreamArn;
    await setStream(false);
    await put('a', '2'); // no stream: this change is lost to the backup
    await new Promise((r) => setTimeout(r, 1100));
    await setStream(true);
    expect(
      (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn,
    ).not.toBe(oldArn);
    await put('b', '1');
    const second = await stream();
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/the table has a new stream/);

    const gaps = await listGaps(s3, loc);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.reason).toBe('stream replaced');

    await new Promise((r) => setTimeout(r, 2200));
    const target = randomName('gaps-target');
    track(target);
    const summary = await restore(
      { s3, dynamodb, log: silentLog },
      { source: loc, atMs: gaps[0]?.toMs ?? 0, targetTable: target, mode: 'upsert', createTable: true },
    );
    expect(summary.warnings.join()).toMatch(/has a gap: .*\(stream replaced\).*run `ddb-rewind backfill`/);

    const before = await verify({ s3, dynamodb }, { source: loc, settleMs: 200 });
    expect(before.inSync).toBe(false);
    expect(before.warnings.join()).toMatch(/run `ddb-rewind backfill`/);

    const filled = await runCli(
      [
        'backfill',
        '--table',
        table,
        '--bucket',
        bucket,
        '--checkpoint-dir',
        dir,
        '--time-precision-ms',
        '60000',
      ],
      env,
    );
    expect(filled.code).toBe(0);
    const after = await verify({ s3, dynamodb }, { source: loc, settleMs: 200 });
    expect(after).toMatchObject({ inSync: true, warnings: [] });
  });
});
