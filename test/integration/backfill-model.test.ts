import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriter } from '../../core/aws/batch-writer';
import { restore } from '../../core/aws/restore';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler } from '../../core/aws/stream-writer';
import { verify } from '../../core/aws/verify';
import { canonicalItemJson, type WireItem, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { localBackfillArgs, runCli, runCliKilled, userEnv } from '../support/cli';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { seeded } from '../support/workload';

// Restores at instants before, during and after a backfill, compared with a model of every change.
// DynamoDB Local stamps stream changes with the minute, so a restore as of T holds every change
// made before the end of T's minute; the model applies the same rule, and the writer never writes
// near a minute boundary, so which minute a change belongs to is never in doubt.
const { s3, dynamodb, streams, bucket, table, loc, track } = scratchBackup('bfmodel', {
  ...PK_ONLY,
  stream: false,
});
const dir = mkdtempSync(join(tmpdir(), 'rw-bfmodel-'));
const env = userEnv();
const MINUTE = 60_000;
/** Items that exist before the stream: only the backfill can back up the cold ones. */
const ITEMS = 1500;
/** The writer changes these (and NEW_KEYS keys that did not exist before) all through the test. */
const HOT = 300;
const NEW_KEYS = 100;
const keyName = (i: number) => `item-${i}`;
const isPreExisting = (i: number) => i < ITEMS;
const initial = (i: number): WireItem => ({
  pk: { S: keyName(i) },
  v: { N: '0' },
  pad: { S: 'x'.repeat(200) },
});
const hotKey = (r: number) => {
  const j = Math.floor(r * (HOT + NEW_KEYS));
  return j < HOT ? j : ITEMS + (j - HOT);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const sleepUntil = (atMs: number) => sleep(atMs - Date.now());
const minuteEnd = (t: number) => Math.floor(t / MINUTE) * MINUTE + MINUTE;

beforeAll(async () => {
  const writer = new BatchWriter(dynamodb, { table, concurrency: 8 });
  for (let i = 0; i < ITEMS; i++) await writer.add({ PutRequest: { Item: wireItemToSdk(initial(i)) } });
  await writer.flush();
  await dynamodb.send(
    new UpdateTableCommand({
      TableName: table,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
});

interface Change {
  atMs: number;
  image?: WireItem;
}

/** What a restore as of T must hold for key i: the state after every change before T's minute ends. */
function expected(history: Map<number, Change[]>, i: number, atMs: number) {
  const end = minuteEnd(atMs);
  const before = (history.get(i) ?? []).filter((c) => c.atMs < end);
  const last = before.at(-1);
  if (last) return { known: true, image: last.image };
  return { known: false, image: isPreExisting(i) ? initial(i) : undefined };
}

describe('restores around a backfill match a model', () => {
  it('before, during (backfill killed and resumed) and after: exact for every item the backup can know', async () => {
    const controller = new AbortController();
    const handler = streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 });
    // A batching window, as Lambda's: the writer's ~30 changes a second arrive in a few batches a
    // second instead of one or two records a GetRecords call.
    const streamOptions = {
      table,
      checkpointFile: join(dir, 'stream.json'),
      pollIntervalMs: 50,
      batchWindowMs: 500,
    };
    const runner = runStream(
      { dynamodb, streams, log: silentLog, handler },
      { ...streamOptions, drain: false, signal: controller.signal },
    );

    const history = new Map<number, Change[]>();
    const ambiguous = new Set<number>();
    let writing = true;
    const rand = seeded(11);
    const changes = (async () => {
      let n = 0;
      while (writing) {
        const intoMinute = Date.now() % MINUTE;
        if (intoMinute > MINUTE - 400 || intoMinute < 400) {
          await sleep((MINUTE + 450 - intoMinute) % MINUTE);
          continue;
        }
        const i = hotKey(rand());
        const key = { pk: { S: keyName(i) } };
        const image = rand() < 0.2 ? undefined : { ...key, v: { N: String(++n) } };
        const sent = Date.now();
        if (image) await dynamodb.send(new PutItemCommand({ TableName: table, Item: wireItemToSdk(image) }));
        else await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk(key) }));
        // A request that crossed a minute boundary after all: its minute is unknown, leave the key out.
        if (minuteEnd(sent) !== minuteEnd(Date.now())) ambiguous.add(i);
        const list = history.get(i) ?? [];
        list.push({ atMs: sent, ...(image ? { image } : {}) });
        history.set(i, list);
        // About 15 changes a second: every hot key changes several times, and clean-up stays short.
        await sleep(60);
      }
    })();

    await sleep(3000);
    const before = Date.now();
    // The backfill starts in the minute after `before`'s, so no scan counts as of `before`.
    const start = minuteEnd(before) + 500;
    await sleepUntil(start);
    const args = localBackfillArgs(table, bucket, join(dir, 'cp'));
    // Slow enough to be part-way when killed, so scans fall in two minutes: `during` sees the first.
    const during = start + 5000;
    await runCliKilled([...args, '--max-rcu', '1'], env, sleepUntil(start + 20_000));
    await sleepUntil(minuteEnd(start) + 500);
    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).segments).toBe(4);
    await sleep(3000);

    writing = false;
    await changes;
    controller.abort();
    await runner;
    await runStream({ dynamodb, streams, log: silentLog, handler }, { ...streamOptions, drain: true });
    await sleep(2500);
    const after = Date.now();

    const universe = [
      ...Array.from({ length: ITEMS }, (_, i) => i),
      ...Array.from({ length: NEW_KEYS }, (_, j) => ITEMS + j),
    ].filter((i) => !ambiguous.has(i));
    expect(ambiguous.size).toBeLessThan(20);

    const check = async (label: string, atMs: number) => {
      const target = track(`${table}-${label}`);
      await restore(
        { s3, dynamodb, log: silentLog },
        { source: loc, atMs, targetTable: target, mode: 'upsert', createTable: true },
      );
      const got = await tableState(dynamodb, target, loc, ['pk']);
      const wrong: string[] = [];
      let unknownPresent = 0;
      let unknownMissing = 0;
      for (const i of universe) {
        const want = expected(history, i, atMs);
        const have = got.get(objectKeyFor(loc, { pk: { S: keyName(i) } }));
        const wantJson = want.image ? canonicalItemJson(want.image) : undefined;
        if (want.known || have !== undefined) {
          // Whatever the backup holds as of T must be exactly the table as of T.
          if (have !== wantJson)
            wrong.push(`${keyName(i)}: ${have ?? '(absent)'} != ${wantJson ?? '(absent)'}`);
          if (!want.known) unknownPresent++;
        } else if (wantJson) unknownMissing++;
      }
      expect({ label, wrong: wrong.slice(0, 5), count: wrong.length }).toEqual({
        label,
        wrong: [],
        count: 0,
      });
      return { unknownPresent, unknownMissing, items: got.size };
    };

    // The three restores (and the verify) read the same finished backup into their own tables:
    // run side by side rather than one after another.
    const [first, mid, last, report] = await Promise.all([
      check('before', before),
      check('during', during),
      check('after', after),
      verify({ s3, dynamodb }, { source: loc, settleMs: 500 }),
    ]);
    // Before the backfill the backup knows only what the stream carried.
    expect(first).toMatchObject({ unknownPresent: 0 });
    // During it: the items scanned by then, and no others.
    expect(mid.unknownPresent).toBeGreaterThan(0);
    expect(mid.unknownMissing).toBeGreaterThan(0);
    // After it: every item.
    expect(last).toMatchObject({ unknownMissing: 0 });
    expect(report.drift).toEqual([]);
  }, 420_000);
});
