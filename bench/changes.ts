/**
 * `npm run bench:changes [-- --items N --versions K --days D --runs R]`: `changes` over a one-hour
 * window read from the change index, side by side in one run with the floor of any answer
 * without it: one ListObjectVersions pass over every version of the backup (no HEADs, which the
 * listing fallback adds on top). The workload's change times spread evenly over D days.
 */
import { cpus } from 'node:os';
import type { DynamoDBRecord } from 'aws-lambda';
import { changesIn } from '../core/aws/changes';
import { clientsFromEnv } from '../core/aws/clients';
import { listKeyVersions } from '../core/aws/version-store';
import { silentLog } from '../core/log';
import { backupLocation, HASH_PREFIXES, itemsRoot } from '../core/object-key';
import { TaskPool } from '../core/task-pool';
import { createVersionedBucket, EventBuilder } from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';
import { records, writeAll } from './backup-fixture';

loadStackEnv();
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ITEMS = flag('--items', 100_000);
const VERSIONS = flag('--versions', 3);
const DAYS = flag('--days', 3);
const RUNS = flag('--runs', 3);
const { s3 } = clientsFromEnv();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  console.error(`bench: ${label}: ${(ms / 1000).toFixed(2)} s`);
  return ms;
}

/** The usual workload, its change times spread evenly over DAYS days ending an hour ago. */
function spread(events: EventBuilder, startS: number): DynamoDBRecord[] {
  const recs = records(events, ITEMS, VERSIONS, startS);
  const stepS = (DAYS * 86_400) / recs.length;
  return recs.map((r, i) => {
    if (r.dynamodb) r.dynamodb.ApproximateCreationDateTime = Math.floor(startS + i * stepS);
    return r;
  });
}

async function main() {
  const bucket = randomName('bench-changes');
  const table = randomName('bench-changes');
  await createVersionedBucket(s3, bucket);
  const loc = backupLocation(bucket, table);
  const startS = Math.floor(Date.now() / 1000) - DAYS * 86_400 - 3600;
  const recs = spread(new EventBuilder(table), startS);
  await timed(`write ${recs.length} changes`, () => writeAll({ s3, log: silentLog }, bucket, recs));
  // One hour in the middle of the history.
  const sinceMs = (startS + (DAYS * 86_400) / 2) * 1000;
  const window = { sinceMs, untilMs: sinceMs + 3600_000 };
  const indexed: number[] = [];
  const listOnly: number[] = [];
  let report: Awaited<ReturnType<typeof changesIn>> | undefined;
  for (let run = 0; run < RUNS; run++) {
    indexed.push(
      await timed(
        'changes, one hour, from the index',
        async () => (report = await changesIn(s3, loc, window)),
      ),
    );
    listOnly.push(
      await timed('floor: list every version once', async () => {
        const pool = new TaskPool(16);
        for (const hh of HASH_PREFIXES) {
          await pool.submit(async () => {
            for await (const _ of listKeyVersions(s3, bucket, `${itemsRoot(loc)}${hh}/`)) {
              // listing only
            }
          });
        }
        await pool.drain();
      }),
    );
  }
  if (report?.source !== 'index')
    throw new Error(`expected the index to answer, got ${report?.source}: ${report?.note}`);
  const [i, l] = [median(indexed), median(listOnly)];
  console.log(
    [
      `Command: \`npm run bench:changes -- ${args.join(' ')}\` (${cpus().length} cores, Node ${process.version}, Ceph RGW ${process.env.STACK_S3_STORE ?? 'memstore'}); medians of ${RUNS}`,
      '',
      '| figure | value | against |',
      '| --- | --- | --- |',
      `| changes, one-hour window (N=${ITEMS} x ${VERSIONS} versions over ${DAYS} days) | ${(i / 1000).toFixed(2)} s, ${report.changes} changes of ${report.items} items, ${report.s3Requests} S3 requests | ${(l / i).toFixed(1)}x faster than listing every version once (${(l / 1000).toFixed(2)} s; target >= 10x) |`,
    ].join('\n'),
  );
  console.log(`left bucket ${bucket} in place (\`npm run stack:down\` removes the local cluster with it)`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
