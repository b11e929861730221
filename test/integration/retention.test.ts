import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteBucketLifecycleCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { BackupReader } from '../../core/aws/backup-reader';
import { exportAsOf } from '../../core/aws/export-as-of';
import { itemHistory } from '../../core/aws/item-history';
import { writePack } from '../../core/aws/pack-writer';
import { restore } from '../../core/aws/restore';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { verify } from '../../core/aws/verify';
import type { WireItem } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { itemsRoot } from '../../core/object-key';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('retention');
const dir = mkdtempSync(join(tmpdir(), 'rw-retention-'));
const DAY = 86_400_000;
const realNow = Date.now();
const sec = (ms: number) => Math.floor(ms / 1000);
// Change times far in the past (Lambda-shaped records carry any time); S3 writes them today.
const t1 = realNow - 40 * DAY;
const t2 = realNow - 20 * DAY;
const t3 = realNow - 5 * DAY;
const key = { pk: { S: 'kept' } };
const images: WireItem[] = [
  { ...key, v: { N: '1' }, note: { S: 'first' } },
  { ...key, v: { N: '2' }, note: { S: 'first' } },
  { ...key, v: { N: '3' }, note: { S: 'first' } },
];
const rule30: LifecycleRule = {
  ID: 'keep-30-days',
  Status: 'Enabled',
  Filter: { Prefix: '' },
  NoncurrentVersionExpiration: { NoncurrentDays: 30 },
};
const setRules = async (rules: LifecycleRule[]) =>
  rules.length
    ? s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: rules },
        }),
      )
    : s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
const tableExists = async (name: string) =>
  dynamodb.send(new DescribeTableCommand({ TableName: name })).then(
    () => true,
    () => false,
  );
const cli = (args: string[]) => runCli([...args, '--table', table, '--bucket', bucket]);
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  const events = new EventBuilder(table);
  const records = [
    events.record('INSERT', key, sec(t1), images[0]),
    events.record('MODIFY', key, sec(t2), images[1]),
    events.record('MODIFY', key, sec(t3), images[2]),
    events.record('INSERT', { pk: { S: 'other' } }, sec(t1), { pk: { S: 'other' }, v: { N: '9' } }),
  ];
  const out = await writeStreamBatch(
    { s3, dynamodb, log: silentLog },
    { bucket, concurrency: 4 },
    events.event(records),
  );
  expect(out.failed).toBe(0);
});
afterEach(() => setRules([]));

describe('the retention horizon of a bucket with lifecycle rules', () => {
  const restoreAt = (atMs: number, nowMs: number) => {
    const target = track(randomName('retention-target'));
    return {
      target,
      run: () =>
        restore(
          { s3, dynamodb, log: silentLog, now: () => nowMs },
          { source: loc, atMs, targetTable: target, mode: 'upsert', createTable: true },
        ),
    };
  };

  it('refuses a restore or export as of an instant whose versions may have expired, and writes nothing', async () => {
    await setRules([rule30]);
    // 31 days from now the version current now (about to be replaced) may be gone.
    const later = realNow + 31 * DAY;
    const r = restoreAt(realNow - 1000, later);
    await expect(r.run()).rejects.toThrow(
      /^Expected `--at` to be at or after the backup's retention horizon .*lifecycle rule `keep-30-days` of bucket .* deletes noncurrent versions after 30 days/,
    );
    expect(await tableExists(r.target)).toBe(false);
    const out = join(dir, 'refused.json.gz');
    await expect(
      exportAsOf({ s3, dynamodb, now: () => later }, { source: loc, atMs: realNow - 1000, out }),
    ).rejects.toThrow(/retention horizon/);
    expect(existsSync(out)).toBe(false);
  });

  it('answers exactly at and after the horizon', async () => {
    await setRules([rule30]);
    // Horizon now - 30 days + skew: t2 (20 days ago) is after it, t1 (40 days ago) before.
    const ok = restoreAt(t2 + 1000, realNow);
    const summary = await ok.run();
    expect(summary.itemsPut).toBe(2);
    await expect(restoreAt(t1 + 1000, realNow).run()).rejects.toThrow(/retention horizon/);
  });

  it('ignores rules that cannot delete the items: other tables, packs, tags, disabled, expiry alone', async () => {
    await setRules([
      { ...rule30, ID: 'other', Filter: { Prefix: 'another-table/' } },
      { ...rule30, ID: 'packs', Filter: { Prefix: `${table}/_packs/` } },
      { ...rule30, ID: 'off', Status: 'Disabled' },
      { ID: 'expire', Status: 'Enabled', Filter: { Prefix: `${table}/` }, Expiration: { Days: 1 } },
    ]);
    const summary = await restoreAt(t1 + 1000, realNow).run();
    expect(summary.itemsPut).toBe(2);
  });

  it('refuses every reader when current versions expire and noncurrent ones are deleted', async () => {
    await setRules([
      { ...rule30, ID: 'nc', Filter: { Prefix: itemsRoot(loc) } },
      { ID: 'exp', Status: 'Enabled', Filter: { Prefix: `${table}/` }, Expiration: { Days: 365 } },
    ]);
    const nothing = /cannot answer any instant exactly: lifecycle rules `exp` and `nc`/;
    await expect(restoreAt(realNow, realNow).run()).rejects.toThrow(nothing);
    await expect(writePack({ s3, log: silentLog }, loc)).rejects.toThrow(nothing);
    await expect(verify({ s3, dynamodb }, { source: loc, settleMs: 0 })).rejects.toThrow(nothing);
    const shown = await cli(['show', '--key', '{"pk":"kept"}']);
    expect(shown.code).toBe(2);
    expect(shown.stderr.trim()).toMatch(nothing);
  });

  it('history starts at the horizon, diffing its first change against the item as of the horizon', async () => {
    await setRules([rule30]);
    const full = await itemHistory(new BackupReader(s3, loc), key);
    expect(full.entries.map((e) => e.event)).toEqual(['insert', 'modify', 'modify']);
    const h = await itemHistory(new BackupReader(s3, loc), key, { horizonMs: realNow - 30 * DAY });
    expect(h.entries.map((e) => e.timeMs)).toEqual([sec(t2) * 1000, sec(t3) * 1000]);
    // Against v=1 (the state at the horizon), not against nothing: one attribute changed.
    expect(h.entries[0]?.changes).toEqual([{ path: 'v', kind: 'changed', old: { N: '1' }, new: { N: '2' } }]);

    const printed = await cli(['history', '--key', '{"pk":"kept"}']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(
      /: 2 changes\n\(changes before \S+ are not listed: lifecycle rule `keep-30-days`/,
    );
    const shown = await cli(['show', '--key', '{"pk":"kept"}', '--at', iso(t2 + 1000), '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ exists: true, item: images[1] });
  });

  it('the CLI refuses instants before the horizon in one line, exit 2', async () => {
    await setRules([rule30]);
    const before = iso(realNow - 35 * DAY);
    const target = track(randomName('retention-cli'));
    const cases = [
      ['restore', '--at', before, '--target-table', target, '--create-table'],
      ['export', '--at', before, '--out', join(dir, 'cli.json.gz')],
      ['show', '--key', '{"pk":"kept"}', '--at', before],
      ['history', '--key', '{"pk":"kept"}', '--since', before],
      ['changes', '--since', before],
    ];
    for (const args of cases) {
      const out = await cli(args);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(
        /^ddb-rewind: Expected `--(at|since)` to be at or after the backup's retention horizon/,
      );
    }
    expect(await tableExists(target)).toBe(false);
    expect(existsSync(join(dir, 'cli.json.gz'))).toBe(false);
  });
});
