/**
 * The demo: a table with a stream, two phases of writes a minute apart, a backup made by the
 * local stream runner, one item's history, a restore as of the instant between the phases, and an
 * undo of phase two in the table itself, each checked against what the table held then.
 * Everything runs on the local stack.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { clientsFromEnv } from '../core/aws/clients';
import { type WireItem, wireItemToSdk } from '../core/ddb-json';
import { backupLocation } from '../core/object-key';
import { createTable } from '../test/support/fixtures';
import { tableState } from '../test/support/table-state';

const { s3, dynamodb } = clientsFromEnv();
const id = randomBytes(3).toString('hex');
const table = `demo-orders-${id}`;
const bucket = `ddb-rewind-demo-${id}`;
const target = `${table}-as-of-phase-one`;
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`== ${s}`)}`);

function cli(args: string[]): string {
  console.log(`$ ddb-rewind ${args.map((a) => (/[\s{}"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const out = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'ddb-rewind.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out.stdout);
  if (out.status !== 0) throw new Error(`ddb-rewind ${args[0]} failed (exit ${out.status})`);
  return out.stdout;
}

const order = (n: number, status: string, total: string, extra: WireItem = {}): WireItem => ({
  pk: { S: `order#${n}` },
  status: { S: status },
  total: { N: total },
  lines: { L: [{ M: { sku: { S: `sku-${n}` }, qty: { N: String(n) } } }] },
  tags: { SS: ['demo', n % 2 ? 'odd' : 'even'] },
  ...extra,
});
const put = (item: WireItem) =>
  dynamodb.send(new PutItemCommand({ TableName: table, Item: wireItemToSdk(item) }));
const del = (n: number) =>
  dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: `order#${n}` } }) }));

async function main(): Promise<void> {
  step(`create table ${table} (stream NEW_AND_OLD_IMAGES) and versioned bucket ${bucket}`);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );

  step('phase one: 12 orders placed, 4 paid, order#12 cancelled and deleted');
  for (let n = 1; n <= 12; n++) await put(order(n, 'placed', `${n}9.99`));
  for (let n = 1; n <= 4; n++) {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: wireItemToSdk({ pk: { S: `order#${n}` } }),
        UpdateExpression: 'SET #s = :s, paidAt = :t',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: wireItemToSdk({ ':s': { S: 'paid' }, ':t': { N: String(Date.now()) } }),
      }),
    );
  }
  await del(12);
  const loc = backupLocation(bucket, table);
  const phaseOne = await tableState(dynamodb, table, loc, ['pk']);

  // DynamoDB Local stamps each change with its minute (real DynamoDB: its second), so the
  // phases go in different minutes and the restore instant is the end of the first.
  const boundary = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
  step(
    `waiting ${Math.ceil((boundary - Date.now()) / 1000)} s for the next minute (DynamoDB Local records change times to the minute)`,
  );
  await new Promise((r) => setTimeout(r, boundary - Date.now() + 500));

  step('phase two: order#1 refunded, orders 5-8 deleted by mistake, order#3 edited, order#13 placed');
  await put(order(1, 'refunded', '0', { note: { S: 'customer complaint' } }));
  for (let n = 5; n <= 8; n++) await del(n);
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: wireItemToSdk({ pk: { S: 'order#3' } }),
      UpdateExpression: 'SET #t = :t, #l[0].qty = :q ADD tags :tag',
      ExpressionAttributeNames: { '#t': 'total', '#l': 'lines' },
      ExpressionAttributeValues: wireItemToSdk({
        ':t': { N: '123456789012345678901234567890.12345678' },
        ':q': { N: '30' },
        ':tag': { SS: ['edited'] },
      }),
    }),
  );
  await put(order(13, 'placed', '13.00'));

  step('back up the stream to S3 (the writer ran late: every S3 version is newer than both phases)');
  cli(['stream', '--table', table, '--bucket', bucket, '--drain']);
  step("order#3's history: every change, oldest first, with what changed");
  cli(['history', '--table', table, '--bucket', bucket, '--key', '{"pk":"order#3"}']);

  const at = new Date(boundary - 1).toISOString();
  step(`restore the table as of ${at} (between the phases) into ${target}`);
  cli([
    'restore',
    '--table',
    table,
    '--bucket',
    bucket,
    '--at',
    at,
    '--target-table',
    target,
    '--create-table',
  ]);

  step('check: the restored table equals the table at the end of phase one');
  const restored = await tableState(dynamodb, target, loc, ['pk']);
  const same = restored.size === phaseOne.size && [...phaseOne].every(([k, v]) => restored.get(k) === v);
  console.log(
    same
      ? `MATCH: ${restored.size} items, attribute for attribute`
      : 'MISMATCH: the restore differs from phase one',
  );
  if (!same) process.exitCode = 1;

  const since = new Date(boundary).toISOString();
  step(`undo phase two in ${table} itself: every item changed since ${since} put back, nothing else touched`);
  cli(['undo', '--table', table, '--bucket', bucket, '--since', since, '--yes']);
  const undone = await tableState(dynamodb, table, loc, ['pk']);
  const back = undone.size === phaseOne.size && [...phaseOne].every(([k, v]) => undone.get(k) === v);
  console.log(
    back
      ? `MATCH: ${table} is as it was at the end of phase one (${undone.size} items)`
      : 'MISMATCH: the undo left the table unlike phase one',
  );
  if (!back) process.exitCode = 1;

  step('what to try next');
  console.log(`  eval "$(npm run -s stack:env)"   # point your shell at the local stack
  npx ddb-rewind undo --table ${table} --bucket ${bucket} --since ${since} --dry-run   # the plan, now that it is undone: unchanged
  npx ddb-rewind restore --table ${table} --bucket ${bucket} --at ${at} --target-table ${table} --in-place --mode rewind --dry-run
  npx ddb-rewind restore --table ${table} --bucket ${bucket} --at ${at} --target-table ${target} --keys '{"pk":"order#5"}' --mode rewind
  npx ddb-rewind show --table ${table} --bucket ${bucket} --key '{"pk":"order#5"}' --at ${at}
  npx ddb-rewind changes --table ${table} --bucket ${bucket} --since ${new Date(boundary - 120_000).toISOString()}
  npx ddb-rewind pack --table ${table} --bucket ${bucket}   # whole-table restores then skip the per-item GETs
  npx ddb-rewind --help`);
  step('the console: this backup in a browser (tables, changes over time, item timelines, restores)');
  console.log(`  npm run ui -- --bucket ${bucket} --allow-restore
  # then open the URL it prints; order#3's timeline: /tables/${table}/item?key=${encodeURIComponent('{"pk":"order#3"}')}`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
