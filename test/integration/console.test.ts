import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningConsole, startConsole } from '../../console/serve';
import { changesIn } from '../../core/aws/changes';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { sdkItemToWire, type WireItem } from '../../core/ddb-json';
import type { Log } from '../../core/log';
import { withoutIndex } from '../support/change-index';
import { runCli, userEnv } from '../support/cli';
import { createTable, EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';

// The console in a real browser (Debian's chromium through playwright-core) against the real
// local stack: each deep link on a known workload, a restore preview and run, and the guards.
const CHROMIUM = process.env.DDB_REWIND_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', 'test-output', 'console');
const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('console', PK_SK);

// The workload, in whole seconds an hour ago: 120 orders inserted; order#1 changed five times;
// orders 20-29 paid; three removed by users and two by TTL.
const t0 = Math.floor(Date.now() / 1000) - 3600;
const ITEMS = 120;
const key = (i: number): WireItem => ({ pk: { S: `order#${i}` }, sk: { N: String(i) } });
const placed = (i: number): WireItem => ({ ...key(i), status: { S: 'placed' }, n: { N: '0' } });
const iso = (s: number) => new Date(s * 1000).toISOString();
const lines: string[] = [];
const log: Log = {
  debug: (m) => lines.push(m),
  info: (m) => lines.push(m),
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};

let browser: Browser;
let open: RunningConsole;
let readOnly: RunningConsole;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `No browser at ${CHROMIUM}: install it with \`bash scripts/setup.sh\` (apt-get install chromium)`,
    );
  const ev = new EventBuilder(table);
  const records = Array.from({ length: ITEMS }, (_, i) => ev.record('INSERT', key(i), t0, placed(i)));
  for (let k = 1; k <= 5; k++)
    records.push(ev.record('MODIFY', key(1), t0 + 60 * k, { ...placed(1), n: { N: String(k) } }));
  for (let i = 20; i < 30; i++)
    records.push(ev.record('MODIFY', key(i), t0 + 600, { ...placed(i), status: { S: 'paid' } }));
  for (const i of [40, 41, 42])
    records.push(ev.record('REMOVE', key(i), t0 + 1200, undefined, { oldImage: placed(i) }));
  for (const i of [43, 44])
    records.push(ev.record('REMOVE', key(i), t0 + 1200, undefined, { ttl: true, oldImage: placed(i) }));
  await writeStreamBatch({ s3, dynamodb, log }, { bucket, concurrency: 16 }, ev.event(records));
  lines.length = 0;
  const settings = { s3, dynamodb, bucket, prefix: '', region: 'us-east-1', port: 0, log };
  open = await startConsole({ ...settings, allowRestore: true });
  readOnly = await startConsole({ ...settings, allowRestore: false });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await open?.close();
  await readOnly?.close();
});

/**
 * A page signed in to a console (its URL sets the cookie), recording console errors unless the
 * test makes the server refuse on purpose (the browser logs each refused request as an error).
 */
async function signedIn(c: RunningConsole, { refusals = false } = {}): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  if (!refusals)
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(`${page.url()}: ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  const res = await page.goto(c.url);
  expect(res?.status()).toBe(200);
  expect(new URL(page.url()).search).toBe(''); // the token left the address bar
  return page;
}

/** Follows "next page" to the end of the table: every key shown, and each row's attributes. */
async function everyPage(page: Page): Promise<{ keys: string[]; rows: Map<string, string> }> {
  const keys: string[] = [];
  const rows = new Map<string, string>();
  for (let pages = 0; pages < 50; pages++) {
    for (const row of await page.locator('#items tbody tr').all()) {
      const k = (await row.locator('th').textContent()) ?? '';
      keys.push(k);
      rows.set(k, (await row.locator('td').textContent()) ?? '');
    }
    const next = page.locator('#next-page');
    if (!(await next.count())) break;
    await next.click();
  }
  expect(await page.locator('#end-of-table').count()).toBe(1);
  return { keys, rows };
}

const text = async (page: Page, selector: string) =>
  (await page.locator(selector).textContent())?.trim() ?? '';
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const tableLink = (at: number, extra = '') =>
  `/tables/${table}?at=${encodeURIComponent(iso(at))}&from=${encodeURIComponent(iso(t0 - 60))}&to=${encodeURIComponent(iso(t0 + 1500))}${extra}`;
const itemLink = (i: number, at: number) =>
  `/tables/${table}/item?key=${encodeURIComponent(JSON.stringify({ pk: `order#${i}`, sk: i }))}&at=${encodeURIComponent(iso(at))}`;

describe('the console in a browser', () => {
  it('refuses a browser without the token (401) and shows the tables once signed in', async () => {
    const stranger = await (await browser.newContext()).newPage();
    const refused = await stranger.goto(`${open.origin}/tables/${table}`);
    expect(refused?.status()).toBe(401);
    expect(await text(stranger, '#error')).toMatch(/open the URL ddb-rewind ui printed/);

    const page = await signedIn(open);
    const row = page.locator(`tr[data-table="${table}"]`);
    expect(await row.locator('td').nth(0).textContent()).toBe('pk (partition, S), sk (sort, N)');
    expect(await row.locator('td').nth(2).textContent()).toBe(iso(t0 + 1200)); // last change
    expect(await row.locator('td').nth(3).textContent()).toBe('none'); // gaps
    expect(await row.locator('td').nth(4).textContent()).toMatch(/every version kept/);
    await shot(page, 'tables');
  });

  it('draws the changes of a window by kind, lists the changed items, and reads no more than `changes`', async () => {
    const page = await signedIn(open);
    await page.goto(`${open.origin}${tableLink(t0 + 900)}`);
    // The table page fetches its changes section after the first paint.
    await page.waitForSelector('#changes[data-loaded=true] #change-counts');
    const drawn = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          ddbRewindChart: { data: { datasets: Array<{ label: string; data: number[] }> } };
        }
      ).ddbRewindChart;
      return Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)]));
    });
    expect(drawn).toEqual({ insert: ITEMS, modify: 15, remove: 3, ttl: 2, backfill: 0 });
    expect(await text(page, '#change-counts')).toMatch(
      /^140 changes to 120 items: insert 120, modify 15, remove 3, ttl 2, backfill 0\./,
    );
    expect(await page.locator('#changed-items > li').count()).toBe(ITEMS);
    const alone = await changesIn(s3, loc, { sinceMs: (t0 - 60) * 1000, untilMs: (t0 + 1500) * 1000 });
    const chartRequests = Number(/(\d+) S3 requests/.exec(await text(page, '#change-counts'))?.[1]);
    expect(chartRequests).toBeLessThanOrEqual(alone.s3Requests);
    expect(alone.source).toBe('index');
    await shot(page, 'table');
  });

  it('asks before listing every version when the change index cannot answer for the window', async () => {
    const page = await signedIn(open);
    const changesLink = `/tables/${table}/changes?at=${encodeURIComponent(iso(t0 + 900))}&from=${encodeURIComponent(iso(t0 - 60))}&to=${encodeURIComponent(iso(t0 + 1500))}`;
    await withoutIndex(s3, loc, async () => {
      await page.goto(`${open.origin}${changesLink}`);
      expect(await text(page, '#needs-listing')).toMatch(/no change index/);
      expect(await page.locator('#change-counts').count()).toBe(0);
      await page.locator('#list-anyway').click();
      expect(await text(page, '#change-counts')).toMatch(
        /^140 changes to 120 items: insert 120, modify 15, remove 3, ttl 2, backfill 0\.\s+Read from a listing of every version/,
      );
    });
  });

  it('pages through the table as of an instant, every item once, and filters by key prefix', async () => {
    const page = await signedIn(open);
    await page.goto(`${open.origin}${tableLink(t0 + 900)}`);
    const { keys, rows } = await everyPage(page);
    // As of t0+900 nothing is removed yet; orders 20-29 are paid, order#1 is at n=5.
    expect(keys.length).toBe(ITEMS);
    expect(new Set(keys).size).toBe(ITEMS);
    expect(rows.get('{"pk":"order#25","sk":25}')).toMatch(/status: "paid"/);
    expect(rows.get('{"pk":"order#1","sk":1}')).toMatch(/n: 5/);

    await page.goto(`${open.origin}${tableLink(t0 + 1300, '&prefix=order%231')}`);
    const filtered = (await everyPage(page)).keys;
    expect(filtered.length).toBe(1 + 10 + 20); // order#1, #10-19, #100-119
    expect(filtered.every((k) => k.startsWith('{"pk":"order#1'))).toBe(true);
  });

  it("shows an item's timeline with attribute diffs, the item as of an instant, and where it lives", async () => {
    const page = await signedIn(open);
    await page.goto(`${open.origin}${itemLink(1, t0 + 150)}`);
    const entries = page.locator('#timeline > li');
    expect(await entries.count()).toBe(6);
    expect(await page.locator('#first-change').count()).toBe(1); // one page holds it all
    expect(await entries.locator('.event').allTextContents()).toEqual([
      'modify',
      'modify',
      'modify',
      'modify',
      'modify',
      'insert',
    ]);
    expect(await entries.nth(0).locator('.diff li').allTextContents()).toEqual(['~ n: 4 -> 5']);
    expect(await entries.nth(5).locator('.diff li').allTextContents()).toEqual([
      '+ n = 0',
      '+ pk = "order#1"',
      '+ sk = 1',
      '+ status = "placed"',
    ]);
    // As of t0+150 the item is at its second change (n=2).
    expect(await page.locator('#as-of').getAttribute('data-exists')).toBe('true');
    expect(JSON.parse((await page.locator('#ddb-json').textContent()) ?? '')).toEqual({
      ...placed(1),
      n: { N: '2' },
    });
    expect(await text(page, '#s3-location')).toContain(`s3://${bucket}/${table}/v1/`);
    await shot(page, 'item');

    await page.goto(`${open.origin}${itemLink(42, t0 + 1300)}`);
    expect(await page.locator('#as-of').getAttribute('data-exists')).toBe('false');
    expect(await page.locator('#timeline > li').first().getAttribute('data-event')).toBe('remove');
  });

  it('restores one item as of a version: the plan and its diff first, then the run into the chosen table', async () => {
    const target = track(randomName('console-item'));
    await createTable(dynamodb, target, PK_SK);
    const page = await signedIn(open);
    await page.goto(`${open.origin}${itemLink(1, t0 + 1300)}`);
    await page.locator('#restore-item input[name=target]').fill(target);
    await page.locator('#timeline > li').nth(2).locator('button.restore-version').click(); // n: 2 -> 3
    expect(await text(page, '#plan-puts')).toBe('1');
    expect(await page.locator('#plan-diff li').allTextContents()).toEqual([
      '+ n = 3',
      '+ pk = "order#1"',
      '+ sk = 1',
      '+ status = "placed"',
    ]);
    expect(
      (
        await dynamodb.send(
          new GetItemCommand({ TableName: target, Key: { pk: { S: 'order#1' }, sk: { N: '1' } } }),
        )
      ).Item,
    ).toBeUndefined();
    await shot(page, 'item-restore-plan');
    await page.locator('#confirm-restore input[name=confirm]').fill(target);
    await page.locator('#confirm-restore button').click();
    await page.waitForSelector('#run-state[data-state=done]', { timeout: 60_000 });
    expect(await text(page, '#run-puts')).toBe('1');
    const got = await dynamodb.send(
      new GetItemCommand({ TableName: target, Key: { pk: { S: 'order#1' }, sk: { N: '1' } } }),
    );
    expect(sdkItemToWire(got.Item ?? {})).toEqual({ ...placed(1), n: { N: '3' } });
    await shot(page, 'item-restore-done');
  });

  it('restores the whole table as of an instant into a new table after the plan is confirmed', async () => {
    const target = track(randomName('console-table'));
    const page = await signedIn(open);
    await page.goto(`${open.origin}${tableLink(t0 + 1300)}`);
    await page.locator('#table-restore input[name=target]').fill(target);
    await page.locator('#table-restore input[name=createTable]').check();
    await page.locator('#table-restore button').click();
    expect(await text(page, '#plan-puts')).toBe(String(ITEMS - 5));
    await page.locator('#confirm-restore input[name=confirm]').fill('not the name');
    await page.locator('#confirm-restore button').click();
    expect(await text(page, '#error')).toMatch(/Not confirmed: type the target table's name/);
    expect(await text(page, '#plan-puts')).toBe(String(ITEMS - 5)); // the same plan, to confirm again
    await page.locator('#confirm-restore input[name=confirm]').fill(target);
    await page.locator('#confirm-restore button').click();
    await page.waitForSelector('#run-state[data-state=done]', { timeout: 120_000 });
    expect(await text(page, '#run-puts')).toBe(String(ITEMS - 5));
    const scanned = await dynamodb.send(new ScanCommand({ TableName: target }));
    const items = (scanned.Items ?? []).map(sdkItemToWire);
    expect(items.length).toBe(ITEMS - 5);
    const paid = items.find((i) => i.pk?.S === 'order#25');
    expect(paid?.status).toEqual({ S: 'paid' });
    expect(items.some((i) => i.pk?.S === 'order#40')).toBe(false);
    await shot(page, 'table-restore-done');
  });

  it('read-only: no restore forms, and POSTs refused even with the form token', async () => {
    const page = await signedIn(readOnly, { refusals: true });
    await page.goto(`${readOnly.origin}${itemLink(1, t0 + 1300)}`);
    expect(await page.locator('form[method=post]').count()).toBe(0);
    expect(await page.locator('button.restore-version').count()).toBe(0);
    const status = await page.evaluate(async (t) => {
      const r = await fetch(`/tables/${t}/restore`, {
        method: 'POST',
        body: new URLSearchParams({ target: t }),
      });
      return { status: r.status, body: await r.text() };
    }, table);
    expect(status.status).toBe(403);
    expect(status.body).toMatch(/read-only: restart it with `ddb-rewind ui --allow-restore`/);
    await shot(page, 'read-only-item');
  });

  it('refuses a POST without the form token, and any request with a foreign Host header', async () => {
    const page = await signedIn(open, { refusals: true });
    const refused = await page.evaluate(async (t) => {
      const r = await fetch(`/tables/${t}/restore`, {
        method: 'POST',
        body: new URLSearchParams({ target: t }),
      });
      return r.status;
    }, table);
    expect(refused).toBe(403);
    const port = new URL(open.origin).port;
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(400);
  });

  it('logged requests, never an item value, and the pages raised no script error', () => {
    expect(lines.some((l) => l.startsWith(`GET /tables/${table}/item 200`))).toBe(true);
    expect(lines.filter((l) => /order#|"pk"|placed|paid/.test(l))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe('ddb-rewind ui', () => {
  const BIN = process.env.DDB_REWIND_TEST_CLI ?? join(__dirname, '..', '..', 'bin', 'ddb-rewind.js');

  it('prints one URL that signs a browser in, serves the tables, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'ui', '--bucket', bucket, '--port', '0'], {
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout.trim());
      });
      child.on('exit', (code) => reject(new Error(`ui exited ${code}: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const home = await fetch(new URL('/', url), { headers: { cookie } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(`data-table="${table}"`);
    expect((await fetch(new URL('/', url))).status).toBe(401);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr).toMatch(/read-only\): open the URL above; Ctrl-C stops it/);
  });

  it('refuses a bad port, a port in use and a bad bucket in one line each, exit 2', async () => {
    const badPort = await runCli(['ui', '--bucket', bucket, '--port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--port/)]);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const inUse = await runCli(['ui', '--bucket', bucket, '--port', String(port)]);
    taken.close();
    expect(inUse.code).toBe(2);
    expect(inUse.stderr.trim()).toBe(
      `ddb-rewind: Port ${port} is in use: pick another with --port (0 for any free one)`,
    );
    const badBucket = await runCli(['ui', '--bucket', 'Not_A_Bucket', '--port', '0']);
    expect(badBucket.code).toBe(2);
    expect(badBucket.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--bucket/)]);
  });
});
