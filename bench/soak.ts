/**
 * `npm run bench:soak [-- --minutes N --rate W --keys K --max-growth-mb G]`: the local stream
 * runner following a table's stream (follow mode, as `ddb-rewind stream` without `--drain`) while
 * a steady writer puts, updates and deletes items on the local stack. Samples this process's RSS
 * and heap every 10 s, counts process warnings (a listener leak shows up as one), and at the end
 * checks with verify that the backup's latest state equals the table. Prints a table per minute
 * and a verdict; exits 1 when the verdict fails. Not a timed test: figures for bench/RESULTS.md.
 */
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { clientsFromEnv } from '../core/aws/clients';
import { listGaps, recordGap } from '../core/aws/gap-store';
import { runStream } from '../core/aws/stream-runner';
import { streamHandler } from '../core/aws/stream-writer';
import { verify } from '../core/aws/verify';
import type { Log } from '../core/log';
import { wholeNumber } from '../core/number-arg';
import { backupLocation } from '../core/object-key';
import { TaskPool } from '../core/task-pool';
import { createTable, createVersionedBucket, deleteBucket, dropTable } from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';
import { seeded } from '../test/support/workload';

loadStackEnv();
const args = process.argv.slice(2);
const flag = (name: string, range: { min: number; max: number; fallback: number }) => {
  const i = args.indexOf(name);
  return wholeNumber(name, i >= 0 ? args[i + 1] : undefined, range);
};
const MINUTES = flag('--minutes', { min: 1, max: 24 * 60, fallback: 3 });
const RATE = flag('--rate', { min: 1, max: 1000, fallback: 50 });
const KEYS = flag('--keys', { min: 1, max: 100_000, fallback: 300 });
const MAX_GROWTH_MB = flag('--max-growth-mb', { min: 0, max: 10_000, fallback: 20 });
const SAMPLE_MS = 10_000;
const mb = (bytes: number) => bytes / 2 ** 20;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const { s3, dynamodb, streams } = clientsFromEnv();

interface Sample {
  /** When it was due: the 10 s tick it belongs to. */
  atS: number;
  rssMb: number;
  heapUsedMb: number;
  abortListeners: number;
}

/**
 * A writer at a steady rate where every call changes the table, so each makes one stream record.
 * Up to 16 calls in flight, one per key, so a slow call does not lower the rate or reorder a key.
 */
async function writeSteadily(table: string, until: number, signal: AbortSignal): Promise<number> {
  const rand = seeded(13);
  const versions = new Map<string, number>();
  const busy = new Set<string>();
  const pool = new TaskPool(16);
  const started = Date.now();
  let ops = 0;
  while (Date.now() < until && !signal.aborted) {
    // Paced from the start, not per call.
    const wait = started + (ops * 1000) / RATE - Date.now();
    if (wait > 0) await delay(wait);
    const pk = `key#${Math.floor(rand() * KEYS)}`;
    if (busy.has(pk)) continue;
    const version = (versions.get(pk) ?? 0) + 1;
    const exists = versions.has(pk);
    const r = rand();
    let write: () => Promise<unknown>;
    if (exists && r < 0.2) {
      write = () => dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } } }));
      versions.delete(pk);
    } else if (exists && r < 0.6) {
      write = () =>
        dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: pk } },
            UpdateExpression: 'SET v = :v, note = :n',
            ExpressionAttributeValues: { ':v': { N: String(version) }, ':n': { S: `update ${version}` } },
          }),
        );
      versions.set(pk, version);
    } else {
      const body = 'x'.repeat(50 + Math.floor(rand() * 400));
      write = () =>
        dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              pk: { S: pk },
              v: { N: String(version) },
              body: { S: body },
              tags: { SS: ['a', `t${version % 7}`] },
            },
          }),
        );
      versions.set(pk, version);
    }
    busy.add(pk);
    await pool.submit(async () => {
      await write();
      busy.delete(pk);
    });
    ops++;
  }
  await pool.drain();
  return ops;
}

async function main() {
  const bucket = randomName('soak');
  const table = randomName('soak');
  const loc = backupLocation(bucket, table);
  const checkpointDir = mkdtempSync(join(tmpdir(), 'rw-soak-'));
  const warnings: string[] = [];
  process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
  const runnerLog = { warn: 0, error: 0 };
  const log: Log = {
    debug() {},
    info() {},
    warn: () => void runnerLog.warn++,
    error: () => void runnerLog.error++,
  };
  await createVersionedBucket(s3, bucket);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
  const controller = new AbortController();
  try {
    const write = streamHandler({ s3, dynamodb, log }, { bucket, concurrency: 16 });
    let delivered = 0;
    let lastDelivery = Date.now();
    const handler = async (event: DynamoDBStreamEvent) => {
      delivered += event.Records.length;
      lastDelivery = Date.now();
      return write(event);
    };
    const runner = runStream(
      { dynamodb, streams, log, handler, onGap: (gap) => recordGap(s3, loc, gap) },
      {
        table,
        drain: false,
        checkpointFile: join(checkpointDir, `${table}.json`),
        signal: controller.signal,
      },
    );
    // A runner that fails stops the writer; the failure is thrown where the runner is awaited.
    runner.catch(() => controller.abort());
    const started = Date.now();
    const samples: Sample[] = [];
    const sampler = setInterval(() => {
      const atS = ((samples.length + 1) * SAMPLE_MS) / 1000;
      // The workload's minutes only: not the catch-up after it.
      if (atS > MINUTES * 60) return;
      const { rss, heapUsed } = process.memoryUsage();
      samples.push({
        atS,
        rssMb: mb(rss),
        heapUsedMb: mb(heapUsed),
        abortListeners: getEventListeners(controller.signal, 'abort').length,
      });
      console.error(
        `soak: ${atS} s, RSS ${mb(rss).toFixed(1)} MB, heapUsed ${mb(heapUsed).toFixed(1)} MB, ${delivered} records delivered`,
      );
    }, SAMPLE_MS);
    const ops = await writeSteadily(table, started + MINUTES * 60_000, controller.signal);
    const writeSeconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    // The runner catches up: every change delivered and nothing new for 3 s (at most 2 min).
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (delivered < ops || Date.now() - lastDelivery < 3000)) await delay(250);
    controller.abort();
    const summary = await runner;
    const report = await verify({ s3, dynamodb }, { source: loc, settleMs: 2000 });
    const gaps = await listGaps(s3, loc);

    const lines = ['| minute | RSS MB | heapUsed MB | abort listeners |', '| --- | --- | --- | --- |'];
    const perMinute: Sample[][] = [];
    for (const s of samples) {
      const minute = Math.ceil(s.atS / 60) - 1;
      perMinute[minute] = [...(perMinute[minute] ?? []), s];
    }
    perMinute.forEach((inMinute, i) => {
      const last = inMinute[inMinute.length - 1];
      lines.push(
        `| ${i + 1} | ${mean(inMinute.map((s) => s.rssMb)).toFixed(1)} | ${mean(inMinute.map((s) => s.heapUsedMb)).toFixed(1)} | ${last?.abortListeners ?? 0} |`,
      );
    });
    const first = perMinute[0] ?? [];
    const lastMinute = perMinute[perMinute.length - 1] ?? [];
    const growth = mean(lastMinute.map((s) => s.rssMb)) - mean(first.map((s) => s.rssMb));
    const heapGrowth = mean(lastMinute.map((s) => s.heapUsedMb)) - mean(first.map((s) => s.heapUsedMb));
    const mismatches = report.drift.length;
    const pass =
      growth <= MAX_GROWTH_MB &&
      warnings.length === 0 &&
      mismatches === 0 &&
      gaps.length === 0 &&
      report.checkedItems > 0;
    console.log(`Soak: ${MINUTES} min, ${RATE} writes/s over ${KEYS} keys, runner in follow mode\n`);
    console.log(lines.join('\n'));
    console.log(
      `\nchanges written ${ops} (${(ops / writeSeconds).toFixed(1)}/s), records backed up ${summary.records} in ${summary.batches} batches (${summary.retries} retries), log warn/error ${runnerLog.warn}/${runnerLog.error}`,
    );
    console.log(
      `verdict: ${pass ? 'PASS' : 'FAIL'}: RSS minute 1 -> ${perMinute.length} ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (limit ${MAX_GROWTH_MB}), heapUsed ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MB; warnings ${warnings.length}; items checked ${report.checkedItems}; mismatches ${mismatches}; gaps ${gaps.length}`,
    );
    for (const w of new Set(warnings)) console.log(`warning: ${w}`);
    if (!pass) process.exitCode = 1;
  } finally {
    controller.abort();
    await dropTable(dynamodb, table);
    await deleteBucket(s3, bucket);
    rmSync(checkpointDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`soak failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
