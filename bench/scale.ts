/**
 * `npm run bench:scale [-- --items N --versions K --output FILE]`: the inputs of the scale model,
 * measured on the local stack, then the model itself (bench/scale-model.ts) for 1 M, 10 M and
 * 100 M items. Per-partition rates come from running each job with 16 partitions, its tasks one
 * at a time, and timing only the partition tasks: what one Lambda task does.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriter } from '../core/aws/batch-writer';
import { clientsFromEnv } from '../core/aws/clients';
import { backfillJob } from '../core/aws/jobs/backfill-job';
import { exportJob } from '../core/aws/jobs/export-job';
import { packJob } from '../core/aws/jobs/pack-job';
import { restoreJob } from '../core/aws/jobs/restore-job';
import { counted, RequestTally } from '../core/aws/request-tally';
import { type JobContext, type JobDefinition, runJob } from '../core/aws/run-job';
import { listKeyVersions } from '../core/aws/version-store';
import { wireItemToSdk } from '../core/ddb-json';
import { silentLog } from '../core/log';
import { backupLocation, itemsRoot } from '../core/object-key';
import { CHUNK_BYTES, chunkKey, decodeChunk } from '../core/pack-format';
import { createTable, createVersionedBucket, dropTable, EventBuilder } from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';
import { records, writeAll } from './backup-fixture';
import {
  AWS,
  type MeasuredRates,
  otherEstimates,
  pitrRestoreCost,
  restoreEstimates,
  type Scenario,
} from './scale-model';

loadStackEnv();
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ITEMS = flag('--items', 10_000);
const VERSIONS = flag('--versions', 3);
const PARTITIONS = 16;
const OUTPUT = args.includes('--output')
  ? String(args[args.indexOf('--output') + 1])
  : join(__dirname, 'SCALE.md');
const { s3, dynamodb } = clientsFromEnv();

/** Runs a job with its tasks one at a time; returns the seconds spent in partition tasks. */
async function partitionSeconds<R, S>(
  job: JobDefinition<R, unknown, unknown, S>,
  ctx: JobContext,
  request: R,
): Promise<{ seconds: number; summary: S }> {
  let ms = 0;
  const timedJob: JobDefinition<R, unknown, unknown, S> = {
    ...job,
    partition: async (c, task) => {
      const t = performance.now();
      const out = await job.partition(c, task);
      ms += performance.now() - t;
      return out;
    },
  };
  const summary = await runJob(ctx, timedJob, request, { concurrency: 1 });
  console.error(`scale: ${(ms / 1000).toFixed(1)} s in partition tasks`);
  return { seconds: ms / 1000, summary };
}

async function listRate(bucket: string, table: string): Promise<number> {
  const loc = backupLocation(bucket, table);
  const t = performance.now();
  let versions = 0;
  for (const hh of ['00', '01', '02', '03'])
    for await (const g of listKeyVersions(s3, bucket, `${itemsRoot(loc)}${hh}/`))
      versions += g.versions.length;
  return versions / ((performance.now() - t) / 1000);
}

async function measure(bucket: string, table: string, tracked: string[]): Promise<MeasuredRates> {
  const source = backupLocation(bucket, table);
  const tally = new RequestTally();
  const ctx = { s3: counted(s3, tally), dynamodb, log: silentLog };
  const atMs = Date.now();
  const target = () => {
    const t = randomName('scale-target');
    tracked.push(t);
    return t;
  };
  const restoreRun = (usePack: boolean) =>
    partitionSeconds(restoreJob, ctx, {
      source,
      atMs,
      targetTable: target(),
      mode: 'upsert',
      createTable: true,
      partitions: PARTITIONS,
      usePack,
    });
  const plain = await restoreRun(false);
  const gets = (plain.summary.requests.s3.GetObject ?? 0) + (plain.summary.requests.s3.HeadObject ?? 0);
  const pack = await partitionSeconds(packJob, ctx, { source, partitions: PARTITIONS });
  const packed = await restoreRun(true);
  const exported = await partitionSeconds(exportJob, ctx, {
    source,
    atMs: Date.now(),
    out: `s3://${bucket}/scale-export/`,
    partitions: PARTITIONS,
  });
  const backfill = await measureBackfill(bucket);
  return {
    listVersionsPerStream: await listRate(bucket, table),
    restoreNoPack: ITEMS / plain.seconds,
    restorePacked: ITEMS / packed.seconds,
    pack: ITEMS / pack.seconds,
    export: ITEMS / exported.seconds,
    backfill: backfill.rate,
    getsPerItemNoPack: gets / ITEMS,
    putsPerItemBackfill: backfill.puts,
    listsPerItemBackfill: backfill.lists,
    itemsPerChunk: await itemsPerFullChunk(source, pack.summary.packId),
  };
}

/**
 * How many of these items a full chunk holds (CHUNK_BYTES of entries): a small table's chunks
 * are partial (one per prefix), so the count comes from the measured size of its entries.
 */
async function itemsPerFullChunk(source: ReturnType<typeof backupLocation>, packId: string): Promise<number> {
  const out = await s3.send(
    new GetObjectCommand({ Bucket: source.bucket, Key: chunkKey(source, packId, '00', 0) }),
  );
  const entries = decodeChunk(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  const bytes = entries.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 1, 0);
  return Math.floor(CHUNK_BYTES / (bytes / entries.length));
}

/** A live table of ITEMS items, backfilled into a bucket of its own. */
async function measureBackfill(bucket: string) {
  const table = randomName('scale-live');
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }], stream: false });
  try {
    const writer = new BatchWriter(dynamodb, { table, concurrency: 8 });
    for (let i = 0; i < ITEMS; i++) {
      const item = { pk: { S: `customer#${i}` }, body: { S: 'x'.repeat(300) } };
      await writer.add({ PutRequest: { Item: wireItemToSdk(item) } });
    }
    await writer.flush();
    const tally = new RequestTally();
    const ctx = { s3: counted(s3, tally), dynamodb: counted(dynamodb, tally), log: silentLog };
    const run = await partitionSeconds(backfillJob, ctx, {
      source: backupLocation(bucket, table),
      segments: PARTITIONS,
      timePrecisionMs: 60_000,
    });
    const s3ops = tally.byOperation('s3');
    return {
      rate: ITEMS / run.seconds,
      puts: ((s3ops.PutObject ?? 0) + (s3ops.CopyObject ?? 0)) / ITEMS,
      lists: (s3ops.ListObjectVersions ?? 0) / ITEMS,
    };
  } finally {
    await dropTable(dynamodb, table);
  }
}

const minutes = (s: number) => (s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);
/**
 * One hash prefix's time at the measured rate. Over 13 minutes (Lambda's 15, 2 kept for the stop)
 * its task stops inside the prefix and a continuation carries on after the last key handled.
 */
const unit = (sec: number) => `${minutes(sec)}${sec > 13 * 60 ? ' (split by continuations)' : ''}`;
const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;

function modelTables(m: MeasuredRates): string {
  const out: string[] = [];
  for (const items of [1e6, 1e7, 1e8]) {
    for (const versionsPerItem of [10, 100]) {
      const s: Scenario = {
        items,
        versionsPerItem,
        itemKb: 1,
        partitions: 256,
        warmTarget: true,
        warmBucket: false,
      };
      const cold = { ...s, warmTarget: false };
      out.push(
        `\n### ${items / 1e6} M items x ${versionsPerItem} versions (${(items * versionsPerItem) / 1e6} M versions), 256 partitions, 1 KB items, cold bucket\n`,
        '| job | time | bottleneck | S3 requests | S3 cost | DynamoDB writes | Lambda (CPU work) | one hash prefix |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...[...restoreEstimates(s, m), ...otherEstimates(s, m)].map(
          (e) =>
            `| ${e.job} | ${minutes(e.seconds)} | ${e.bottleneck} | ${(e.s3Requests / 1e6).toFixed(2)} M | ${usd(e.s3Cost)} | ${usd(e.ddbCost)} | ${usd(e.lambdaCost)} | ${unit(e.unitSeconds)} |`,
        ),
        ...restoreEstimates(cold, m).map(
          (e) =>
            `| ${e.job}, target without warm throughput | ${minutes(e.seconds)} | ${e.bottleneck} | ${(e.s3Requests / 1e6).toFixed(2)} M | ${usd(e.s3Cost)} | ${usd(e.ddbCost)} | ${usd(e.lambdaCost)} | ${unit(e.unitSeconds)} |`,
        ),
        `| native PITR restore (new table only) | not published | — | — | — | ${usd(pitrRestoreCost(s))} restore charge | — | — |`,
      );
    }
  }
  return out.join('\n');
}

const INPUTS = join(__dirname, 'scale-inputs.json');
const machineOf = () =>
  `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, S3: Ceph RGW ${process.env.STACK_S3_STORE ?? 'memstore'}, DynamoDB Local`;

/** SCALE.md's generated part: the measured inputs, then the model computed from them. */
function write(m: MeasuredRates, command: string, machine: string): void {
  const inputs = Object.entries(m)
    .map(([k, v]) => `| ${k} | ${Number(v).toFixed(k.includes('PerItem') ? 3 : 0)} |`)
    .join('\n');
  const md = `## Measured inputs\n\nCommand: \`${command}\` (${PARTITIONS} partitions, tasks one at a time; \`npm run bench:scale -- --model-only\` recomputes the model from bench/scale-inputs.json)  \nMachine: ${machine}\n\n| input | value |\n| --- | --- |\n${inputs}\n\n## The model at scale\n\nAWS figures used: ${JSON.stringify(AWS)}\n${modelTables(m)}\n`;
  console.log(md);
  writeFileSync(OUTPUT, between(existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '', md));
}

const BEGIN = '<!-- bench:scale begin -->';
const END = '<!-- bench:scale end -->';
/** Replaces the generated part of SCALE.md, keeping the prose around it. */
function between(doc: string, generated: string): string {
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) return `${doc}\n${BEGIN}\n${generated}\n${END}\n`;
  return `${doc.slice(0, i + BEGIN.length)}\n${generated}\n${doc.slice(j)}`;
}

async function main() {
  if (args.includes('--model-only')) {
    const saved = JSON.parse(readFileSync(INPUTS, 'utf8')) as {
      command: string;
      machine: string;
      inputs: MeasuredRates;
    };
    write(saved.inputs, saved.command, saved.machine);
    return;
  }
  const bucket = randomName('scale');
  const table = randomName('scale');
  // The writer records the table's description from the live table: it must exist.
  const tracked: string[] = [table];
  await createVersionedBucket(s3, bucket);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }], stream: false });
  const start = Math.floor(Date.now() / 1000) - 3600;
  await writeAll(
    { s3, dynamodb, log: silentLog },
    bucket,
    records(new EventBuilder(table), ITEMS, VERSIONS, start),
  );
  await new Promise((r) => setTimeout(r, 2100));
  try {
    const m = await measure(bucket, table, tracked);
    writeFileSync(
      INPUTS,
      `${JSON.stringify({ command: `npm run bench:scale -- ${args.join(' ')}`, machine: machineOf(), inputs: m }, null, 2)}\n`,
    );
    write(m, `npm run bench:scale -- ${args.join(' ')}`, machineOf());
  } finally {
    for (const t of tracked) await dropTable(dynamodb, t).catch(() => {});
  }
}

main().catch((err: unknown) => {
  console.error(`bench:scale failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
