import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { silentLog } from '../../core/log';
import { runCli, userEnv } from '../support/cli';
import { createTable, deleteBucket, EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table, track } = scratchBackup('bad', PK_SK);
const plainBucket = randomName('plain');
const other = track(randomName('other'));
const startS = Math.floor(Date.now() / 1000) - 600;

async function versionCount(b: string): Promise<number> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
  return (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0);
}
// Only the tables a command here could create or drop: other test files run alongside.
const tableNames = async () =>
  ((await dynamodb.send(new ListTablesCommand({}))).TableNames ?? []).filter((t) =>
    ['x-target', other, table].includes(t),
  );

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: plainBucket }));
  await createTable(dynamodb, other, { keys: [{ name: 'id', type: 'S', role: 'HASH' }] });
  const events = new EventBuilder(table);
  const key = { pk: { S: 'a' }, sk: { N: '1' } };
  await writeStreamBatch(
    { s3, dynamodb, log: silentLog },
    { bucket, concurrency: 1 },
    events.event([events.record('INSERT', key, startS, { ...key, v: { N: '1' } })]),
  );
});
afterAll(async () => {
  await deleteBucket(s3, plainBucket);
});

/** One case per reader command: the same one-line NoBackupError for each. */
function noBackupCases(): Array<[string, () => string[], RegExp]> {
  const readers: string[][] = [
    ['restore', '--target-table', 'x-target'],
    ['restore', '--target-table', 'x-target', '--keys', '{"id":"a"}'],
    ['export', '--out', '/tmp/ddb-rewind-bad-input-never.json.gz'],
    ['verify'],
    ['pack'],
    ['show', '--key', '{"id":"a"}'],
    ['history', '--key', '{"id":"a"}'],
    ['locate', '--key', '{"id":"a"}'],
    ['changes', '--since', String(startS * 1000)],
  ];
  const line = new RegExp(
    `^ddb-rewind: No backup of table ${other} at s3://${bucket}/${other}/: check --bucket, --prefix and --table, or start backing it up \\(ddb-rewind stream / the CDK construct\\)$`,
  );
  return readers.map(([command = '', ...rest]) => [
    `no backup of the table (${command}${rest.includes('--keys') ? ' --keys' : ''})`,
    () => [command, '--table', other, '--bucket', bucket, ...rest],
    line,
  ]);
}

const restoreArgs = (...extra: string[]) => ['restore', '--table', table, '--bucket', bucket, ...extra];

// Each case: the CLI's whole stderr is one line naming what is wrong and how to fix it, the exit
// code is non-zero, and nothing was written (bucket versions and table list unchanged).
// Every row has all four cells: jest would take a missing fourth parameter for a `done` callback.
const cases: Array<[string, () => string[], RegExp, NodeJS.ProcessEnv?]> = [
  [
    'a malformed --at',
    () => restoreArgs('--target-table', 'x-target', '--at', 'yesterday'),
    /Expected `--at` to be an ISO-8601 time with a zone .* got `yesterday`/,
  ],
  [
    'a zone-less --at',
    () => restoreArgs('--target-table', 'x-target', '--at', '2026-03-01T09:00:00'),
    /got `2026-03-01T09:00:00` \(add a zone, e.g. Z or \+02:00\)/,
  ],
  [
    'a future --at',
    () => restoreArgs('--target-table', 'x-target', '--at', '2099-01-01T00:00:00Z'),
    /Expected `--at` not to be in the future/,
  ],
  [
    'an --at before coverage',
    () => restoreArgs('--target-table', 'x-target', '--at', String((startS - 60) * 1000)),
    /starts at .*; --at .* is before it: pick a later --at/,
  ],
  [
    'an unknown table',
    () => ['restore', '--table', 'no-such-table', '--bucket', bucket, '--target-table', 'x-target'],
    /No backup of table no-such-table at s3:\/\/.*check --bucket, --prefix and --table/,
  ],
  // Every reader says "no backup" with the same line (the table exists, its backup does not).
  ...noBackupCases(),
  [
    'a malformed --settle-ms (verify)',
    () => ['verify', '--table', table, '--bucket', bucket, '--settle-ms', '10s'],
    /Expected `--settle-ms` to be a whole number from 0 to 3600000, got `10s`/,
  ],
  [
    'a malformed AWS_MAX_ATTEMPTS',
    () => restoreArgs('--target-table', 'x-target'),
    /Expected `AWS_MAX_ATTEMPTS` to be a whole number from 1 to 100, got `abc`/,
    { AWS_MAX_ATTEMPTS: 'abc' },
  ],
  [
    'an unknown bucket',
    () => ['restore', '--table', table, '--bucket', 'no-such-bucket-rw', '--target-table', 'x-target'],
    /bucket .*does not exist: check --bucket/,
  ],
  [
    'wrong key attribute names',
    () => restoreArgs('--target-table', other, '--keys', '{"id":"a"}'),
    /Expected `--keys` to name exactly the key attributes of table .* \(pk, sk\), got id/,
  ],
  [
    'wrong key types',
    () => restoreArgs('--target-table', other, '--keys', '{"pk":"a","sk":"x1"}'),
    /Expected a DynamoDB number, got `x1`|Expected key attribute `sk`/,
  ],
  [
    'a target with another key schema',
    () => restoreArgs('--target-table', other),
    /Target table .* has key schema .* but the backup of .* has .*: restore into a table with the same keys/,
  ],
  [
    '--create-table on an existing table',
    () => restoreArgs('--target-table', other, '--create-table'),
    /Target table .* already exists, and --create-table creates a new one/,
  ],
  [
    'the source table without --in-place',
    () => restoreArgs('--target-table', table),
    /is the source table: pass --in-place/,
  ],
  [
    'an unknown --mode',
    () => restoreArgs('--target-table', 'x-target', '--mode', 'merge'),
    /Expected `--mode` to be upsert or rewind, got `merge`/,
  ],
  [
    'a bucket without versioning (stream runner)',
    () => ['stream', '--table', table, '--bucket', plainBucket, '--drain'],
    /has versioning never enabled: enable it/,
  ],
  [
    'a missing region',
    () => restoreArgs('--target-table', 'x-target'),
    /No AWS region set: set AWS_REGION/,
    { AWS_REGION: '', AWS_DEFAULT_REGION: '' },
  ],
  [
    'missing credentials',
    () => restoreArgs('--target-table', 'x-target'),
    /No AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID/,
    {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: 'ddb-rewind-none',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  ],
  [
    'an unreachable endpoint',
    () => restoreArgs('--target-table', 'x-target'),
    /Cannot reach 127\.0\.0\.1:9: check AWS_ENDPOINT_URL\* and the network/,
    { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '2' },
  ],
];

describe('bad input is refused with one line, a non-zero exit, and nothing written', () => {
  it.each(cases.map(([name, args, message, env]) => [name, args, message, env ?? {}] as const))(
    '%s',
    async (_name, args, message, env) => {
      const [versionsBefore, tablesBefore] = [await versionCount(bucket), await tableNames()];
      const merged = userEnv(env);
      for (const [k, v] of Object.entries(env ?? {})) if (v === '') delete merged[k];
      const out = await runCli(args(), merged);
      expect(out.code).not.toBe(0);
      expect(out.stdout).toBe('');
      const lines = out.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ddb-rewind: /);
      expect(lines[0]).toMatch(message);
      expect(out.stderr).not.toContain('ddbrewindlocalsecret');
      expect(await versionCount(bucket)).toBe(versionsBefore);
      expect((await tableNames()).sort()).toEqual(tablesBefore.sort());
    },
  );
});
