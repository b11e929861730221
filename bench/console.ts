/**
 * `npm run bench:console [-- --items N --versions K --days D --runs R --output FILE]`: the web
 * console's pages (issue 16) timed as served (over HTTP, body read whole), side by side in one run
 * with the core calls they make and the bare S3 requests beneath them. One backup, written through
 * the real stream writer (so with change metadata and the change index): N items of one version
 * each, change times spread evenly over D days ending an hour before the run; one item of K
 * versions written as it changed (change time = write time, as a writer keeping up does); and one
 * item of K versions whose changes spread over the same D days, written during the run (versions
 * written up to D days after their change, as a replay of old records would be). Prints a table
 * (and writes it to FILE with --output); progress goes to stderr.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { DynamoDBRecord } from 'aws-lambda';
import { SESSION_COOKIE } from '../console/guard';
import type { ViewContext } from '../console/html';
import { itemView } from '../console/item-view';
import { type ConsoleSource, loadItem, loadTable, PAGE_ITEMS, TIMELINE_CHANGES } from '../console/load';
import { type RunningConsole, startConsole } from '../console/serve';
import { tableView } from '../console/table-view';
import { askedInstants, assertAnswerable } from '../core/aws/backup-check';
import { BackupReader } from '../core/aws/backup-reader';
import { changesIn } from '../core/aws/changes';
import { clientsFromEnv } from '../core/aws/clients';
import { historyPage } from '../core/aws/history-page';
import { itemHistory } from '../core/aws/item-history';
import { requireManifest, writeManifest } from '../core/aws/manifest-store';
import { writePack } from '../core/aws/pack-writer';
import { counted, RequestTally } from '../core/aws/request-tally';
import { writeStreamBatch } from '../core/aws/stream-writer';
import { itemsPage } from '../core/aws/table-page';
import { countChange, emptyChart } from '../core/change-chart';
import { silentLog } from '../core/log';
import { backupLocation, type ItemKey, objectKeyFor } from '../core/object-key';
import type { TableManifest } from '../core/table-manifest';
import { TaskPool } from '../core/task-pool';
import { createVersionedBucket, deleteBucket, EventBuilder } from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';
import { benchImage, records } from './backup-fixture';

loadStackEnv();
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ITEMS = flag('--items', 100_000);
/** Versions of each of the two busy items whose timelines are timed. */
const VERSIONS = flag('--versions', 3_000);
const DAYS = flag('--days', 3);
const RUNS = flag('--runs', 5);
const OUTPUT = args.includes('--output') ? String(args[args.indexOf('--output') + 1]) : undefined;
/** Deleting a bucket of this many versions takes Ceph longer than the benchmark: leave it. */
const KEEP_BUCKET_ABOVE = 20_000;
/** The item page's reader concurrency (console/load.ts): the core call and the bare reads use it too. */
const CONCURRENCY = 64;
const SKEW_MS = 2000;
const TIMELINE_TARGET_MS = 1000;
const PAGE_TARGET_MS = 500;
const { s3, dynamodb } = clientsFromEnv();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const iso = (t: number) => new Date(t).toISOString();
const ms = (x: number) => `${x.toFixed(0)} ms`;
/** Written as it changed. */
const LIVE_KEY: ItemKey = { pk: { S: 'live-item' } };
/** Written up to DAYS days after its changes. */
const LATE_KEY: ItemKey = { pk: { S: 'late-item' } };
const keyText = (k: ItemKey): string => JSON.stringify({ pk: (k.pk as { S: string }).S });
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/**
 * The N items (one change each) and the late item's K changes, in change-time order, with the
 * live item's K changes spread among them (their change times are set as they are written).
 */
function workload(
  events: EventBuilder,
  startS: number,
): { recs: DynamoDBRecord[]; live: Set<DynamoDBRecord> } {
  const spanS = DAYS * 86_400;
  const at = (r: DynamoDBRecord, s: number): DynamoDBRecord => {
    if (r.dynamodb) r.dynamodb.ApproximateCreationDateTime = s;
    return r;
  };
  const items = records(events, ITEMS, 1, startS).map((r, i) =>
    at(r, startS + Math.floor((i * spanS) / ITEMS)),
  );
  const busy = (key: ItemKey, v: number, s: number) =>
    events.record(v === 0 ? 'INSERT' : 'MODIFY', key, s, { ...benchImage(0, v), ...key });
  const late: DynamoDBRecord[] = [];
  const live: DynamoDBRecord[] = [];
  for (let v = 0; v < VERSIONS; v++) {
    const s = startS + Math.floor((v * spanS) / VERSIONS);
    late.push(busy(LATE_KEY, v, s));
    // Placed among the others by this time; written with the time it is written at.
    live.push(busy(LIVE_KEY, v, s));
  }
  // As a stream delivers them: by change time (a stable sort keeps each item's own order).
  const time = (r: DynamoDBRecord) => r.dynamodb?.ApproximateCreationDateTime ?? 0;
  return { recs: [...items, ...late, ...live].sort((a, b) => time(a) - time(b)), live: new Set(live) };
}

/**
 * Backs the records up through the real stream writer as bench/backup-fixture.ts's writeAll does
 * (100 records a batch, 4 batches at once), the live item's change times set to the batch's start.
 */
async function writeBackup(bucket: string, recs: DynamoDBRecord[], live: Set<DynamoDBRecord>): Promise<void> {
  const pool = new TaskPool(4);
  for (let i = 0; i < recs.length; i += 100) {
    const batch = recs.slice(i, i + 100);
    await pool.submit(async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const r of batch) if (live.has(r) && r.dynamodb) r.dynamodb.ApproximateCreationDateTime = now;
      const out = await writeStreamBatch(
        { s3, log: silentLog },
        { bucket, concurrency: 8 },
        { Records: batch },
      );
      if (out.failed) throw new Error(`${out.failed} changes of a batch not written`);
    });
  }
  await pool.drain();
}

interface Timing {
  median: number;
  /** The first, untimed-for-the-median call (connections, JIT and caches cold). */
  cold: number;
}

/**
 * Times each function once as a warm-up, then RUNS rounds of all of them, the order rotated each
 * round so none gains from always running after another (other work on the machine shifts too).
 */
async function sideBySide<K extends string>(
  label: string,
  fns: Record<K, () => Promise<unknown>>,
): Promise<Record<K, Timing>> {
  const names = Object.keys(fns) as K[];
  const once = async (name: K) => {
    const t = performance.now();
    await fns[name]();
    return performance.now() - t;
  };
  const cold = new Map<K, number>();
  const times = new Map<K, number[]>(names.map((n) => [n, []]));
  for (const n of names) cold.set(n, await once(n));
  for (let run = 0; run < RUNS; run++)
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + run) % names.length] as K;
      times.get(n)?.push(await once(n));
    }
  const out = {} as Record<K, Timing>;
  for (const n of names) {
    const xs = times.get(n) ?? [];
    out[n] = { median: median(xs), cold: cold.get(n) ?? 0 };
    console.error(
      `bench: ${label}, ${n}: median ${ms(median(xs))} of ${xs.map((x) => x.toFixed(0)).join(' / ')} (warm-up ${ms(cold.get(n) ?? 0)})`,
    );
  }
  return out;
}

/** One page as a browser gets it: the session cookie, the body read whole. */
async function getPage(c: RunningConsole, path: string): Promise<string> {
  const res = await fetch(`${c.origin}${path}`, { headers: { cookie: `${SESSION_COOKIE}=${c.token}` } });
  const body = await res.text();
  if (res.status !== 200)
    throw new Error(
      `${path}: HTTP ${res.status}: ${/id="error">([^<]*)/.exec(body)?.[1] ?? body.slice(0, 300)}`,
    );
  return body;
}

/** Every version id of one object key, newest first (ListObjectVersions alone); and the pages it took. */
async function listVersionIds(bucket: string, objectKey: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: objectKey,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    pages++;
    for (const v of page.Versions ?? []) if (v.Key === objectKey && v.VersionId) ids.push(v.VersionId);
    if (!page.IsTruncated) return { ids, pages };
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** GETs these versions, CONCURRENCY at once, bodies read whole. */
async function getVersions(bucket: string, objectKey: string, ids: readonly string[]): Promise<void> {
  const pool = new TaskPool(CONCURRENCY);
  for (const id of ids)
    await pool.submit(async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: id }));
      await out.Body?.transformToString('utf8');
    });
  await pool.drain();
}

const match = (re: RegExp, body: string, what: string): RegExpExecArray => {
  const m = re.exec(body);
  if (!m) throw new Error(`the page has no ${what} (${re})`);
  return m;
};

/** Every page of an item's timeline, following its "older changes" links: what they show in all. */
async function walkTimeline(c: RunningConsole, firstPath: string) {
  const versions = new Set<string>();
  let pages = 0;
  let path: string | undefined = firstPath;
  const t = performance.now();
  while (path) {
    const body = await getPage(c, path);
    pages++;
    for (const m of body.matchAll(/data-version="([^"]+)"/g)) versions.add(m[1] as string);
    path = /id="older-changes"[^>]* href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');
  }
  return { pages, changes: versions.size, ms: performance.now() - t };
}

/** The table page's own account of its page of items. */
function pageFigures(body: string) {
  const page = match(
    /id="page-info">(\d+) items on this page \((\d+) keys gone through\), (.*?), (\d+) S3 requests\./,
    body,
    'page info',
  );
  return {
    items: Number(page[1]),
    scanned: Number(page[2]),
    source: String(page[3]),
    requests: Number(page[4]),
  };
}

/** The changes section's own account of its chart. */
function chartFigures(body: string) {
  const chart = match(
    /id="change-counts">(\d+) changes to (\d+) items[\s\S]*?Read from (.*?), (\d+) S3 requests\./,
    body,
    'change counts',
  );
  return { changes: Number(chart[1]), source: String(chart[3]), requests: Number(chart[4]) };
}

async function main() {
  const bucket = randomName('bench-console');
  const table = randomName('bench-console');
  const loc = backupLocation(bucket, table);
  await createVersionedBucket(s3, bucket);
  const consoles: RunningConsole[] = [];
  try {
    const startS = Math.floor(Date.now() / 1000) - Math.ceil(DAYS * 86_400) - 3600;
    const { recs, live } = workload(new EventBuilder(table), startS);
    let t = performance.now();
    await writeBackup(bucket, recs, live);
    console.error(`bench: wrote ${recs.length} changes in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    // The table description the pages need (the writer records it only when it can describe a
    // live DynamoDB table; this backup has none).
    const manifest: TableManifest = {
      format: 'ddb-rewind-table/1',
      tableName: table,
      keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      billingMode: 'PAY_PER_REQUEST',
      streamViewType: 'NEW_AND_OLD_IMAGES',
      coverageFromMs: startS * 1000,
    };
    await writeManifest(s3, loc, manifest);
    // Pages as of "now": every version is then known to be in from its LastModified alone.
    await sleep(SKEW_MS + 100);

    const settings = { dynamodb, bucket, prefix: '', region: 'us-east-1', port: 0, allowRestore: false };
    const served = await startConsole({ ...settings, s3, log: silentLog });
    consoles.push(served);
    // A second console whose S3 client counts every request (one request per page, for the counts).
    const pageTally = new RequestTally();
    const counting = await startConsole({ ...settings, s3: counted(s3, pageTally), log: silentLog });
    consoles.push(counting);
    const countedPage = async (path: string) => {
      const before = pageTally.byOperation('s3');
      const total = pageTally.total('s3');
      const body = await getPage(counting, path);
      const ops = Object.entries(pageTally.byOperation('s3'))
        .map(([op, n]) => `${op} ${n - (before[op] ?? 0)}`)
        .filter((s) => !s.endsWith(' 0'))
        .join(', ');
      return { body, requests: pageTally.total('s3') - total, ops };
    };
    const src: ConsoleSource = { s3, dynamodb, bucket, prefix: '', now: Date.now };
    const ctx: ViewContext = { bucket, prefix: '', region: 'us-east-1', allowRestore: false, csrf: 'bench' };

    // 1. An item's timeline (its first page): served, its reads alone, the core calls alone, and the
    // bare requests beneath them; then every older page walked, to check that all changes show.
    const itemAt = Date.now();
    const itemPath = (k: ItemKey) =>
      `/tables/${table}/item?key=${encodeURIComponent(keyText(k))}&at=${encodeURIComponent(iso(itemAt))}`;
    const liveObject = objectKeyFor(loc, LIVE_KEY);
    const firstBody = await getPage(served, itemPath(LIVE_KEY));
    const heading = match(
      /Timeline: (\d+) changes?[^<]*?(?:\((\d+) versions in all\))?</,
      firstBody,
      'timeline',
    );
    if (
      Number(heading[1]) !== Math.min(TIMELINE_CHANGES, VERSIONS) ||
      Number(heading[2] ?? VERSIONS) !== VERSIONS
    )
      throw new Error(`unexpected timeline heading: ${heading[0]}`);
    const listed = await listVersionIds(bucket, liveObject);
    const reader = () => new BackupReader(s3, loc, { concurrency: CONCURRENCY });
    let pageRequests = 0;
    let fullRequests = 0;
    const item = await sideBySide(`item page, ${VERSIONS} versions written as they changed`, {
      served: () => getPage(served, itemPath(LIVE_KEY)),
      loadItem: () => loadItem(src, table, { key: keyText(LIVE_KEY), at: iso(itemAt) }),
      historyPage: async () => {
        pageRequests = (await historyPage(reader(), LIVE_KEY, { limit: TIMELINE_CHANGES })).s3Requests;
      },
      itemHistory: async () => {
        fullRequests = (await itemHistory(reader(), LIVE_KEY)).s3Requests;
      },
      bareNewest: async () =>
        getVersions(
          bucket,
          liveObject,
          (await listVersionIds(bucket, liveObject)).ids.slice(0, TIMELINE_CHANGES + 1),
        ),
      bareAll: async () => getVersions(bucket, liveObject, (await listVersionIds(bucket, liveObject)).ids),
    });
    const itemData = await loadItem(src, table, { key: keyText(LIVE_KEY), at: iso(itemAt) });
    const itemRender = await sideBySide('item page', {
      render: async () => String(await itemView(ctx, itemData)),
    });
    const itemCounted = await countedPage(itemPath(LIVE_KEY));
    const liveWalk = await walkTimeline(served, itemPath(LIVE_KEY));
    const late = await sideBySide(`item page, ${VERSIONS} versions written up to ${DAYS} days late`, {
      served: () => getPage(served, itemPath(LATE_KEY)),
    });
    const lateCounted = await countedPage(itemPath(LATE_KEY));
    const lateWalk = await walkTimeline(served, itemPath(LATE_KEY));
    console.error(
      `bench: timelines walked: live ${liveWalk.changes} changes in ${liveWalk.pages} pages, late ${lateWalk.changes} in ${lateWalk.pages}`,
    );

    // 2. The table page's first page: without a pack (none exists yet), then with one. Its changes
    // section is a request of its own (/tables/<t>/changes), fetched by the page's script after it.
    const day = (atMs: number) => ({ sinceMs: atMs - 86_400_000, untilMs: atMs });
    const atQuery = (atMs: number) => `at=${encodeURIComponent(iso(atMs))}`;
    const tablePath = (atMs: number) => `/tables/${table}?${atQuery(atMs)}`;
    const changesPath = (atMs: number, w = day(atMs)) =>
      `/tables/${table}/changes?${atQuery(atMs)}&from=${encodeURIComponent(iso(w.sinceMs))}&to=${encodeURIComponent(iso(w.untilMs))}`;
    const pageAlone = (atMs: number, usePack: boolean) =>
      itemsPage(new BackupReader(s3, loc), {
        atMs,
        limit: PAGE_ITEMS,
        budgetMs: 2_000,
        keyNames: ['pk'],
        usePack,
      });
    const noPackAt = Date.now();
    const noPack = await sideBySide('table page before the pack', {
      served: () => getPage(served, tablePath(noPackAt)),
      itemsPage: () => pageAlone(noPackAt, true),
    });
    const noPackCounted = await countedPage(tablePath(noPackAt));
    const noPackFigures = pageFigures(noPackCounted.body);
    if (!noPackFigures.source.includes('no pack'))
      throw new Error(`expected no pack: ${noPackFigures.source}`);
    t = performance.now();
    const pack = await writePack({ s3, dynamodb, log: silentLog }, loc, { concurrency: 64 });
    const packMs = performance.now() - t;
    console.error(`bench: pack of ${pack.items} items: ${(packMs / 1000).toFixed(0)} s`);
    await sleep(SKEW_MS + 100);
    const at = Date.now();
    const withPack = await sideBySide('table page with the pack', {
      served: () => getPage(served, tablePath(at)),
      changesServed: () => getPage(served, changesPath(at)),
      loadTable: () => loadTable(src, table, { at: iso(at) }),
      itemsPage: () => pageAlone(at, true),
      itemsPageNoPack: () => pageAlone(at, false),
      changesIn: () => {
        const chart = emptyChart(day(at).sinceMs, at);
        return changesIn(s3, loc, day(at), () => {}, { onChange: (c) => countChange(chart, c) });
      },
    });
    const tableData = await loadTable(src, table, { at: iso(at) });
    const tableRender = await sideBySide('table page', {
      render: async () => String(await tableView(ctx, tableData)),
    });
    const pageCounted = await countedPage(tablePath(at));
    const packFigures = pageFigures(pageCounted.body);
    if (!packFigures.source.startsWith('read from pack'))
      throw new Error(`the page did not read the pack: ${packFigures.source}`);

    // 3. The chart's requests against the `changes` command's: the page's default day, and one hour.
    const hourSince = (startS + (DAYS * 86_400) / 2) * 1000;
    const hour = { sinceMs: hourSince, untilMs: hourSince + 3_600_000 };
    /** What `ddb-rewind changes --since --until` sends (cli/changes.ts), all of it, counted. */
    const commandRequests = async (w: { sinceMs: number; untilMs: number }) => {
      const tally = new RequestTally();
      const c = counted(s3, tally);
      const now = Date.now();
      await requireManifest(c, loc);
      await assertAnswerable(c, loc, undefined, askedInstants(w, now), now);
      const report = await changesIn(c, loc, w, () => {});
      return { total: tally.total('s3'), changesIn: report.s3Requests, report };
    };
    const chartCompare = async (w: { sinceMs: number; untilMs: number }) => {
      const endpoint = await countedPage(changesPath(at, w));
      // As console/load.ts draws the chart, through a tally of its own.
      const chartTally = new RequestTally();
      const chart = emptyChart(w.sinceMs, w.untilMs);
      await changesIn(counted(s3, chartTally), loc, w, () => {}, { onChange: (c) => countChange(chart, c) });
      return {
        line: chartFigures(endpoint.body),
        endpoint,
        chart: chartTally.total('s3'),
        command: await commandRequests(w),
      };
    };
    const dayCompare = await chartCompare(day(at));
    const hourCompare = await chartCompare(hour);

    const met = (ok: boolean) => (ok ? 'yes' : '**no**');
    const chartRow = (
      name: string,
      c: Awaited<ReturnType<typeof chartCompare>>,
    ): [string, string, string, string, string] => [
      `change chart S3 requests, ${name} (${c.command.report.changes} changes of ${c.command.report.items} items, from the ${c.command.report.source})`,
      `chart ${c.line.requests} (its line), ${c.chart} counted; the whole /changes request ${c.endpoint.requests}`,
      `\`ddb-rewind changes\`: changesIn ${c.command.changesIn}; the whole command ${c.command.total}`,
      `${(c.chart / c.command.changesIn).toFixed(2)}x; whole ${(c.endpoint.requests / c.command.total).toFixed(2)}x`,
      `chart <= 1x: ${met(c.line.requests <= c.command.changesIn && c.chart <= c.command.changesIn)}; whole <= 1x: ${met(c.endpoint.requests <= c.command.total)}`,
    ];
    const rows: Array<[string, string, string, string, string]> = [
      [
        `item timeline, first page served (newest ${TIMELINE_CHANGES} of ${VERSIONS} changes, written as they changed)`,
        ms(item.served.median),
        `historyPage alone ${ms(item.historyPage.median)} (${pageRequests} S3 requests); bare ListObjectVersions (${listed.pages} pages) + ${TIMELINE_CHANGES + 1} GetObject ${ms(item.bareNewest.median)}. Reading every version: itemHistory ${ms(item.itemHistory.median)} (${fullRequests} requests), bare listing + ${listed.ids.length} GetObject ${ms(item.bareAll.median)}. All ${CONCURRENCY} requests at once`,
        `${(item.served.median / item.historyPage.median).toFixed(2)}x historyPage, ${(item.served.median / item.bareNewest.median).toFixed(2)}x bare newest, ${(item.served.median / item.bareAll.median).toFixed(2)}x bare all`,
        `< ${TIMELINE_TARGET_MS} ms: ${met(item.served.median < TIMELINE_TARGET_MS)}; every change reachable (${liveWalk.changes} of ${VERSIONS} in ${liveWalk.pages} pages): ${met(liveWalk.changes === VERSIONS)}`,
      ],
      [
        `item timeline, first page served (${VERSIONS} changes over ${DAYS} days, written during the run)`,
        ms(late.served.median),
        `bare listing + ${VERSIONS} GetObject (above) ${ms(item.bareAll.median)}; ${lateCounted.requests} S3 requests (${lateCounted.ops})`,
        `${(late.served.median / item.bareAll.median).toFixed(2)}x bare all`,
        `< ${TIMELINE_TARGET_MS} ms: ${met(late.served.median < TIMELINE_TARGET_MS)}; every change reachable (${lateWalk.changes} of ${VERSIONS} in ${lateWalk.pages} pages): ${met(lateWalk.changes === VERSIONS)}`,
      ],
      [
        `table page, first page with a pack, served (N=${ITEMS + 2})`,
        ms(withPack.served.median),
        `the same page before the pack ${ms(noPack.served.median)}; itemsPage alone ${ms(withPack.itemsPage.median)} with the pack, ${ms(withPack.itemsPageNoPack.median)} without. Its changes section (24 h, fetched after it) ${ms(withPack.changesServed.median)}, changesIn alone ${ms(withPack.changesIn.median)}`,
        `${(withPack.served.median / noPack.served.median).toFixed(2)}x no pack, ${(withPack.served.median / withPack.itemsPage.median).toFixed(1)}x itemsPage`,
        `< ${PAGE_TARGET_MS} ms: ${met(withPack.served.median < PAGE_TARGET_MS)}`,
      ],
      chartRow("the page's default window (24 h)", dayCompare),
      chartRow('one hour mid-history', hourCompare),
    ];
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, S3: Ceph RGW ${process.env.STACK_S3_STORE ?? 'memstore'}`;
    const md = [
      `Command: \`npm run bench:console -- ${args.join(' ')}\`  `,
      `Machine: ${machine}  `,
      `Workload: ${ITEMS} items x 1 version, change times over ${DAYS} days ending an hour before the run; one item of ${VERSIONS} versions written as it changed; one of ${VERSIONS} versions with change times over the same ${DAYS} days; all written through the stream writer during the run (${recs.length} changes). Times are medians of ${RUNS} rounds after one warm-up, the compared calls rotated within each round; served = HTTP GET to the console in this process, body read whole.`,
      '',
      '| figure | measured | compared with | ratio | target met? |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `- item page (written as it changed): loadItem (its reads) ${ms(item.loadItem.median)}, itemView rendering ${ms(itemRender.render.median)}; ${itemCounted.requests} S3 requests (${itemCounted.ops}); warm-up request ${ms(item.served.cold)}; every page walked in ${ms(liveWalk.ms)}. Written late: warm-up request ${ms(late.served.cold)}; every page walked in ${ms(lateWalk.ms)}.`,
      `- table page with the pack: loadTable (its reads) ${ms(withPack.loadTable.median)}, tableView rendering ${ms(tableRender.render.median)}; ${pageCounted.requests} S3 requests (${pageCounted.ops}), ${packFigures.requests} of them the page of items (${packFigures.items} items, ${packFigures.scanned} keys, ${packFigures.source}); warm-up request ${ms(withPack.served.cold)}.`,
      `- table page before the pack: itemsPage alone ${ms(noPack.itemsPage.median)}; ${noPackCounted.requests} S3 requests (${noPackCounted.ops}), ${noPackFigures.requests} of them the page of items (${noPackFigures.items} items, ${noPackFigures.scanned} keys, ${noPackFigures.source}).`,
      `- changes section, 24 h: ${dayCompare.endpoint.requests} S3 requests (${dayCompare.endpoint.ops}); the command's ${dayCompare.command.total}. One hour: ${hourCompare.endpoint.requests} (${hourCompare.endpoint.ops}); the command's ${hourCompare.command.total}.`,
      `- pack ${pack.packId}: ${pack.items} items in ${(packMs / 1000).toFixed(0)} s (${pack.s3Requests} S3 requests), made between the two table pages.`,
      '',
    ].join('\n');
    console.log(md);
    if (OUTPUT) writeFileSync(OUTPUT, md);
  } finally {
    for (const c of consoles) await c.close();
    if (ITEMS + 2 * VERSIONS <= KEEP_BUCKET_ABOVE) await deleteBucket(s3, bucket);
    else
      console.log(
        `left bucket ${bucket} (${ITEMS + 2 * VERSIONS} versions) in place: \`npm run stack:down\` removes the local cluster with it`,
      );
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
