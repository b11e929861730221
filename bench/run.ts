/**
 * `npm run bench [-- --quick] [-- --items N --versions K --runs R --output FILE]`: the writer and
 * the restore measured side by side with the raw ceilings of the servers and with the classic
 * restore algorithm, in one run on the local stack. Prints a table and writes bench/RESULTS.md
 * (or FILE; a quick run writes nothing).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BatchWriter } from '../core/aws/batch-writer';
import { clientsFromEnv, dynamodbClient, s3Client } from '../core/aws/clients';
import { writePack } from '../core/aws/pack-writer';
import { type RestoreSummary, restore } from '../core/aws/restore';
import { writeStreamBatch } from '../core/aws/stream-writer';
import { listKeyVersions } from '../core/aws/version-store';
import { changeFromRecord, metaToS3 } from '../core/change-record';
import { type WireItem, wireItemToSdk } from '../core/ddb-json';
import { silentLog } from '../core/log';
import { backupLocation, HASH_PREFIXES, itemsRoot } from '../core/object-key';
import { TaskPool } from '../core/task-pool';
import {
  createTable,
  createVersionedBucket,
  deleteBucket,
  dropTable,
  EventBuilder,
} from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';
import { benchImage, records, writeAll } from './backup-fixture';

loadStackEnv();
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ITEMS = flag('--items', quick ? 300 : 100_000);
const VERSIONS = flag('--versions', quick ? 2 : 3);
const RUNS = flag('--runs', quick ? 1 : 3);
const WRITER_CHANGES = flag('--writer-changes', quick ? 600 : 20_000);
const CLASSIC_ITEMS = Math.min(ITEMS, flag('--classic-items', quick ? 100 : 2_000));
const OUTPUT = args.includes('--output')
  ? String(args[args.indexOf('--output') + 1])
  : join(__dirname, 'RESULTS.md');
/** Deleting a bucket of this many versions takes Ceph longer than the benchmark: leave it. */
const KEEP_BUCKET_ABOVE = 20_000;
/** With --latency-ms: only the restore figures, through proxies adding this much per request. */
const LATENCY = flag('--latency-ms', 0);
const CONCURRENCY = 32;
const SKEW_MS = 2000;
const { s3, dynamodb } = clientsFromEnv();
const deps = { s3, dynamodb, log: silentLog };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rate = (n: number, ms: number) => (n * 1000) / ms;
/** Times one measurement; progress goes to stderr, so a long run shows where it is. */
async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  if (!quick) console.error(`bench: ${label}: ${(ms / 1000).toFixed(1)} s`);
  return ms;
}

async function benchWriter(bucket: string) {
  // A table of its own in the bucket, so the restore figures see only the restore's items.
  const table = randomName('bench-writer');
  const events = new EventBuilder(table);
  const start = Math.floor(Date.now() / 1000) - 3600;
  // Distinct items, one change each: the writer's parallelism is across items.
  const recs = records(events, WRITER_CHANGES, 1, start);
  const loc = backupLocation(bucket, table);
  const puts = recs.map((r) => changeFromRecord(loc, r));
  const handler: number[] = [];
  const raw: number[] = [];
  const serial: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternate which goes first, so neither gains from the other having warmed the keys.
    const pair = [
      async () => {
        handler.push(
          rate(
            recs.length,
            await timed('writer handler', () =>
              writeStreamBatch(deps, { bucket, concurrency: CONCURRENCY }, { Records: recs }),
            ),
          ),
        );
      },
      async () => {
        raw.push(
          rate(
            puts.length,
            await timed('writer raw PUT loop', async () => {
              const pool = new TaskPool(CONCURRENCY);
              for (const p of puts) {
                await pool.submit(async () => {
                  await s3.send(
                    new PutObjectCommand({
                      Bucket: bucket,
                      Key: p.objectKey,
                      Body: p.body,
                      ContentType: 'application/json',
                      Metadata: metaToS3(p.meta),
                    }),
                  );
                });
              }
              await pool.drain();
            }),
          ),
        );
      },
    ];
    for (const measure of run % 2 ? pair.reverse() : pair) await measure();
    const few = puts.slice(0, Math.min(puts.length, quick ? 100 : 1000));
    serial.push(
      rate(
        few.length,
        await timed('writer one-at-a-time', async () => {
          for (const p of few)
            await s3.send(
              new PutObjectCommand({
                Bucket: bucket,
                Key: p.objectKey,
                Body: p.body,
                Metadata: metaToS3(p.meta),
              }),
            );
        }),
      ),
    );
  }
  return { handler: median(handler), raw: median(raw), serial: median(serial) };
}

/** Clients the measured requests go through: the servers directly, or the latency proxies. */
interface Measured {
  s3: S3Client;
  dynamodb: DynamoDBClient;
}

async function benchRestore(bucket: string, table: string, m: Measured) {
  const mdeps = { ...m, log: silentLog };
  const events = new EventBuilder(table);
  const start = Math.floor(Date.now() / 1000) - 3600;
  await writeAll(deps, bucket, records(events, ITEMS, VERSIONS, start));
  const loc = backupLocation(bucket, table);
  // Restore "now": every version is then known to be in from its LastModified alone.
  await new Promise((r) => setTimeout(r, SKEW_MS + 100));
  const atMs = Date.now();
  const targets: string[] = [];
  const ours: number[] = [];
  const listGet: number[] = [];
  const listOnly: number[] = [];
  const batchWrite: number[] = [];
  const restoreRun = async (label: string, usePack: boolean, at = atMs) => {
    const target = randomName('bench-target');
    targets.push(target);
    let summary: RestoreSummary | undefined;
    const ms = await timed(label, async () => {
      summary = await restore(mdeps, {
        source: loc,
        atMs: at,
        targetTable: target,
        mode: 'upsert',
        createTable: true,
        concurrency: 64,
        usePack,
      });
    });
    return { rate: rate(ITEMS, ms), summary: summary as RestoreSummary };
  };
  for (let run = 0; run < RUNS; run++) {
    ours.push((await restoreRun('restore (ours)', false)).rate);
    // Ceiling 1: list every version and GET one version per key, as fast as the server allows.
    listGet.push(
      rate(
        ITEMS,
        await timed('ceiling list+GET', async () => {
          const prefixes = new TaskPool(16);
          for (const hh of HASH_PREFIXES) {
            await prefixes.submit(async () => {
              const gets = new TaskPool(4);
              for await (const group of listKeyVersions(m.s3, bucket, `${itemsRoot(loc)}${hh}/`)) {
                const v = group.versions[0];
                if (v)
                  await gets.submit(async () => {
                    const out = await m.s3.send(
                      new GetObjectCommand({ Bucket: bucket, Key: group.objectKey, VersionId: v.versionId }),
                    );
                    await out.Body?.transformToString();
                  });
              }
              await gets.drain();
            });
          }
          await prefixes.drain();
        }),
      ),
    );
    // Ceiling 3: the listing alone, the floor of any restore that reads every version's entry
    // (with a pack, bodies come in chunks of thousands: listing is nearly all that is left).
    listOnly.push(
      rate(
        ITEMS,
        await timed('ceiling list only', async () => {
          const prefixes = new TaskPool(16);
          for (const hh of HASH_PREFIXES)
            await prefixes.submit(async () => {
              for await (const _group of listKeyVersions(m.s3, bucket, `${itemsRoot(loc)}${hh}/`));
            });
          await prefixes.drain();
        }),
      ),
    );
    // Ceiling 2: BatchWriteItem of the same number of items into a fresh table.
    const sink = randomName('bench-sink');
    targets.push(sink);
    await createTable(dynamodb, sink, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }], stream: false });
    batchWrite.push(
      rate(
        ITEMS,
        await timed('ceiling BatchWriteItem', async () => {
          const writer = new BatchWriter(m.dynamodb, {
            table: sink,
            concurrency: 16,
          });
          // The very items a restore writes (their last version), so the two compare fairly.
          for (let i = 0; i < ITEMS; i++)
            await writer.add({ PutRequest: { Item: wireItemToSdk(benchImage(i, VERSIONS - 1)) } });
          await writer.flush();
        }),
      ),
    );
  }
  // With a pack: made once (a full read of every item), then again with nothing changed (what a
  // scheduled pack costs on a quiet table: the listing, and chunks copied from the last pack).
  const packFirst = rate(
    ITEMS,
    await timed('pack (first)', () => writePack(mdeps, loc, { concurrency: 64 })),
  );
  const packNext = rate(ITEMS, await timed('pack (next)', () => writePack(mdeps, loc, { concurrency: 64 })));
  // As of an instant after the pack (nothing changed since atMs: the same items): the change
  // index names what to list, every other item comes from the pack. As of atMs, before the pack
  // was made, every prefix is listed and the pack saves the GETs.
  const packAt = Date.now();
  const packed: number[] = [];
  const packedListed: number[] = [];
  let fromPack = 0;
  let packIndex: RestoreSummary['packIndex'];
  for (let run = 0; run < RUNS; run++) {
    const r = await restoreRun('restore (ours, pack, T after it)', true, packAt);
    packed.push(r.rate);
    fromPack = r.summary.itemsFromPack;
    packIndex = r.summary.packIndex;
    packedListed.push((await restoreRun('restore (ours, pack, T before it)', true)).rate);
  }
  // The classic algorithm (dynamo-incremental-restore): every version into memory, the latest
  // by LastModified per key, then one GET and one PutItem per key, one at a time.
  const classicTarget = randomName('bench-classic');
  targets.push(classicTarget);
  await createTable(dynamodb, classicTarget, {
    keys: [{ name: 'pk', type: 'S', role: 'HASH' }],
    stream: false,
  });
  // Its cost for N items is one listing of every version plus N sequential GET + PutItem pairs:
  // the listing is timed whole, the pairs on CLASSIC_ITEMS keys, and the sum extrapolated to N.
  const latest = new Map<string, { versionId: string; lm: number }>();
  const classicListMs = await timed('classic listing', async () => {
    // One paginated walk of the whole table, as the original lists its bucket.
    for await (const group of listKeyVersions(m.s3, bucket, itemsRoot(loc))) {
      for (const v of group.versions) {
        const seen = latest.get(group.objectKey);
        if (!v.isDeleteMarker && (!seen || v.lastModifiedMs > seen.lm))
          latest.set(group.objectKey, { versionId: v.versionId, lm: v.lastModifiedMs });
      }
    }
  });
  const classicPairsMs = await timed('classic GET+PutItem pairs', async () => {
    let n = 0;
    for (const [key, v] of latest) {
      if (n++ >= CLASSIC_ITEMS) break;
      const out = await m.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId }));
      const item = JSON.parse((await out.Body?.transformToString()) ?? '{}') as WireItem;
      await m.dynamodb.send(new PutItemCommand({ TableName: classicTarget, Item: wireItemToSdk(item) }));
    }
  });
  const classic = rate(ITEMS, classicListMs + (classicPairsMs * ITEMS) / CLASSIC_ITEMS);
  // Single item as of T with the writer keeping up (the common case): change 1, then T, then
  // change 2 a second later; restore the item as of T.
  const key: WireItem = { pk: { S: 'single-item' } };
  const nowS = () => Math.floor(Date.now() / 1000);
  await writeStreamBatch(
    deps,
    { bucket, concurrency: 1 },
    { Records: [events.record('INSERT', key, nowS(), { ...key, v: { N: '1' } })] },
  );
  await new Promise((r) => setTimeout(r, SKEW_MS + 100));
  const singleAt = Date.now();
  await new Promise((r) => setTimeout(r, 1100));
  await writeStreamBatch(
    deps,
    { bucket, concurrency: 1 },
    { Records: [events.record('MODIFY', key, nowS(), { ...key, v: { N: '2' } })] },
  );
  const single = await restore(mdeps, {
    source: loc,
    atMs: singleAt,
    targetTable: targets[0] as string,
    mode: 'upsert',
    keys: [key],
  });
  for (const t of targets) await dropTable(dynamodb, t);
  return {
    ours: median(ours),
    packed: median(packed),
    packedListed: median(packedListed),
    packIndex,
    fromPack,
    packFirst,
    packNext,
    listGet: median(listGet),
    listOnly: median(listOnly),
    batchWrite: median(batchWrite),
    classic,
    single,
    atMs,
    packAt,
  };
}

/**
 * Peak RSS of restoring the partition 00..`to` of the benchmark backup (about a tenth of it for
 * '19', all of it for 'ff'), in a child process of its own.
 */
function peakRss(
  bucket: string,
  table: string,
  atMs: number,
  to: string,
  pack: boolean,
): { items: number; mb: number } {
  const out = execFileSync(
    process.execPath,
    [
      '-r',
      'tsx/cjs',
      join(__dirname, 'restore-rss.ts'),
      bucket,
      table,
      String(atMs),
      to,
      pack ? 'pack' : 'no-pack',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
  );
  return { items: Number(/items=(\d+)/.exec(out)?.[1]), mb: Number(/peakRssMb=([\d.]+)/.exec(out)?.[1]) };
}

/** Starts a latency proxy in a child process; resolves to its URL. */
async function latencyProxy(
  target: string | undefined,
  delayMs: number,
): Promise<{ url: string; stop: () => void }> {
  if (!target)
    throw new Error('--latency-ms needs AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB (the local stack)');
  const child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', join(__dirname, 'latency-proxy.ts'), target, String(delayMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /port=(\d+)/.exec(String(d));
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`latency proxy exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** The restore and the classic algorithm with LATENCY ms added to every request, as over a network. */
async function latencyRun(bucket: string, table: string) {
  const s3Proxy = await latencyProxy(
    process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
    LATENCY,
  );
  const ddbProxy = await latencyProxy(
    process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL,
    LATENCY,
  );
  try {
    const r = await benchRestore(bucket, table, {
      s3: s3Client({ endpoint: s3Proxy.url }),
      dynamodb: dynamodbClient({ endpoint: ddbProxy.url }),
    });
    const lower = Math.min(r.listGet, r.batchWrite);
    const section = `## With ${LATENCY} ms added to every request\n\nCommand: \`npm run bench -- ${args.join(' ')}\`  \nEvery S3 and DynamoDB request of the measured parts goes through a proxy process that waits ${LATENCY} ms before forwarding it: the round trip a host pays to reach S3 and DynamoDB over a network, which localhost does not. Median of ${RUNS} run(s).\n\n| figure | value | against |\n| --- | --- | --- |\n| restore items/s, no pack (N=${ITEMS}, ${VERSIONS} versions each) | ${r.ours.toFixed(0)} | ${(r.ours / lower).toFixed(2)}x lower raw ceiling (list+GET ${r.listGet.toFixed(0)}/s, BatchWriteItem ${r.batchWrite.toFixed(0)}/s); ${(r.ours / r.classic).toFixed(1)}x classic (${r.classic.toFixed(1)}/s; target >= 10x) |\n| ${packedRow(r).join(' | ')} |\n| ${packCostRow(r).join(' | ')} |\n| single item as of T | ${r.single.s3Requests} S3 requests | ${r.single.durationMs} ms |\n`;
    console.log(section);
    // The section replaces an earlier one of the same kind in OUTPUT; the rest of the file stays.
    const marker = '## With ';
    let doc = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '# Benchmark results\n';
    const at = doc.indexOf(marker);
    if (at >= 0) {
      const next = doc.indexOf('\n## ', at + marker.length);
      doc = doc.slice(0, at) + (next >= 0 ? doc.slice(next + 1) : '');
    }
    writeFileSync(OUTPUT, `${doc.trimEnd()}\n\n${section}`);
  } finally {
    s3Proxy.stop();
    ddbProxy.stop();
  }
}

type RestoreFigures = Awaited<ReturnType<typeof benchRestore>>;

const packedRow = (r: RestoreFigures): [string, string, string] => [
  `restore items/s, with a pack (N=${ITEMS}, ${VERSIONS} versions each)`,
  r.packed.toFixed(0),
  `${(r.packed / r.listOnly).toFixed(2)}x the list-only ceiling (${r.listOnly.toFixed(0)}/s; target >= 0.8x), ${(r.packed / r.batchWrite).toFixed(2)}x the BatchWriteItem ceiling of the same items (${r.batchWrite.toFixed(0)}/s); ${(r.packed / r.classic).toFixed(1)}x classic (target >= 10x); ${(r.packed / r.ours).toFixed(1)}x no pack; ${r.fromPack} of ${ITEMS} bodies from the pack; T after the pack, ${indexNote(r.packIndex)}. T before it (every prefix listed): ${r.packedListed.toFixed(0)}/s, ${(r.packedListed / r.listOnly).toFixed(2)}x list-only`,
];

const indexNote = (p: RestoreSummary['packIndex']): string =>
  !p
    ? 'no pack read'
    : 'changedItems' in p
      ? `${p.changedItems} items listed by the change index`
      : `listed: ${p.reason}`;

const packCostRow = (r: RestoreFigures): [string, string, string] => [
  'pack items/s: first / next (nothing changed)',
  `${r.packFirst.toFixed(0)} / ${r.packNext.toFixed(0)}`,
  `first ${(r.packFirst / r.listGet).toFixed(2)}x list+GET: made once, then only changed items are read`,
];

async function fullRun(bucket: string, table: string) {
  const w = await benchWriter(bucket);
  const r = await benchRestore(bucket, table, { s3, dynamodb });
  const small = peakRss(bucket, table, r.atMs, '19', false);
  const large = peakRss(bucket, table, r.atMs, 'ff', false);
  const smallPacked = peakRss(bucket, table, r.atMs, '19', true);
  const largePacked = peakRss(bucket, table, r.atMs, 'ff', true);
  // Two more child processes: the full run only (the quick one checks that the bench runs).
  const guided = quick
    ? undefined
    : {
        small: peakRss(bucket, table, r.packAt, '19', true),
        large: peakRss(bucket, table, r.packAt, 'ff', true),
      };
  const lower = Math.min(r.listGet, r.batchWrite);
  const rows: Array<[string, string, string]> = [
    [
      'writer changes/s (handler)',
      w.handler.toFixed(0),
      `${(w.handler / w.raw).toFixed(2)}x raw PUT loop (${w.raw.toFixed(0)}/s, target >= 0.8x); ${(w.handler / w.serial).toFixed(1)}x one-at-a-time (${w.serial.toFixed(0)}/s)`,
    ],
    [
      `restore items/s, no pack (N=${ITEMS}, ${VERSIONS} versions each)`,
      r.ours.toFixed(0),
      `${(r.ours / lower).toFixed(2)}x lower raw ceiling (list+GET ${r.listGet.toFixed(0)}/s, BatchWriteItem ${r.batchWrite.toFixed(0)}/s; target >= 0.8x); ${(r.ours / r.classic).toFixed(1)}x classic (${r.classic.toFixed(0)}/s; target >= 10x)`,
    ],
    packedRow(r),
    packCostRow(r),
    [
      `peak RSS restore N=${small.items} / N=${large.items}`,
      `${small.mb.toFixed(0)} / ${large.mb.toFixed(0)} MB`,
      `growth ${(large.mb - small.mb).toFixed(0)} MB (target <= 50 MB)`,
    ],
    [
      `peak RSS restore with a pack, T before it, N=${smallPacked.items} / N=${largePacked.items}`,
      `${smallPacked.mb.toFixed(0)} / ${largePacked.mb.toFixed(0)} MB`,
      `growth ${(largePacked.mb - smallPacked.mb).toFixed(0)} MB (target <= 50 MB)`,
    ],
    ...(guided
      ? [
          [
            `peak RSS restore with a pack, T after it, N=${guided.small.items} / N=${guided.large.items}`,
            `${guided.small.mb.toFixed(0)} / ${guided.large.mb.toFixed(0)} MB`,
            `growth ${(guided.large.mb - guided.small.mb).toFixed(0)} MB (target <= 50 MB)`,
          ] as [string, string, string],
        ]
      : []),
    [
      'single item as of T',
      `${r.single.s3Requests} S3 requests`,
      `${r.single.durationMs} ms (target <= 3 requests)`,
    ],
  ];
  const table_ = rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`).join('\n');
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, S3: Ceph RGW ${process.env.STACK_S3_STORE ?? 'memstore'}, DynamoDB Local`;
  const md = `# Benchmark results\n\nCommand: \`npm run bench -- ${args.join(' ')}\`  \nMachine: ${machine}  \nFigures: median of ${RUNS} run(s); ratios measured side by side in this run.\n\n| figure | value | against |\n| --- | --- | --- |\n${table_}\n`;
  console.log(md);
  if (!quick) writeFileSync(OUTPUT, md);
  if (quick && !(r.single.s3Requests <= 3 && r.ours > 0 && w.handler > 0 && r.fromPack === ITEMS))
    process.exitCode = 1;
}

async function main() {
  const bucket = randomName('bench');
  const table = randomName('bench');
  await createVersionedBucket(s3, bucket);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
  try {
    if (LATENCY > 0) await latencyRun(bucket, table);
    else await fullRun(bucket, table);
  } finally {
    await dropTable(dynamodb, table);
    if (ITEMS * VERSIONS <= KEEP_BUCKET_ABOVE) await deleteBucket(s3, bucket);
    else
      console.log(
        `left bucket ${bucket} (${ITEMS * VERSIONS} versions) in place: \`npm run stack:down\` removes the local cluster with it`,
      );
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
