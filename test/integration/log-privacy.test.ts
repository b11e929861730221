import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { wireItemToSdk } from '../../core/ddb-json';
import type { Log } from '../../core/log';
import { runCli, userEnv } from '../support/cli';
import { dropTable, EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table } = scratchBackup('privacy');
const PLANTED = 'PLANTED-VALUE-7f3a9';

describe('logs carry no item values', () => {
  it('the writer logs counts, sequence numbers and key hashes only, also when a record fails', async () => {
    const lines: string[] = [];
    const capture =
      (level: string) =>
      (message: string, ...extra: Array<Record<string, unknown>>) =>
        lines.push(`${level} ${message} ${JSON.stringify(extra)}`);
    const log: Log = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const events = new EventBuilder(table);
    const key = { pk: { S: `user/${PLANTED}` } };
    const out = await writeStreamBatch(
      { s3, dynamodb, log, beforeWrite: () => Promise.reject(new Error('injected')) },
      { bucket, concurrency: 2 },
      events.event([
        events.record('INSERT', key, Math.floor(Date.now() / 1000), { ...key, secret: { S: PLANTED } }),
      ]),
    );
    expect(out.failed).toBe(1);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(PLANTED);
  });

  it('the CLI runner and restore, verbose, print no item values', async () => {
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: wireItemToSdk({ pk: { S: PLANTED }, secret: { S: PLANTED } }),
      }),
    );
    const env = userEnv();
    const stream = await runCli(
      [
        '--verbose',
        'stream',
        '--table',
        table,
        '--bucket',
        bucket,
        '--drain',
        '--checkpoint-dir',
        mkdtempSync(join(tmpdir(), 'rw-priv-')),
      ],
      env,
    );
    expect(stream.code).toBe(0);
    await new Promise((r) => setTimeout(r, 2200));
    const restored = await runCli(
      [
        '--verbose',
        'restore',
        '--table',
        table,
        '--bucket',
        bucket,
        '--target-table',
        `${table}-r`,
        '--create-table',
      ],
      env,
    );
    await dropTable(dynamodb, `${table}-r`);
    expect(restored.code).toBe(0);
    expect(stream.stderr + stream.stdout + restored.stderr + restored.stdout).not.toContain(PLANTED);
    expect(restored.stderr).toContain('restore finished');
  });
});
