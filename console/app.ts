import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';
import { describeError } from '../cli/errors';
import { RewindError } from '../core/errors';
import type { Log } from '../core/log';
import { csrfTokenOf, guard } from './guard';
import { layout, type ViewContext } from './html';
import { itemView } from './item-view';
import { type ConsoleSource, loadChanges, loadItem, loadTable, loadTables, restoreAsk } from './load';
import { RestoreRuns } from './restore-runs';
import { planView, runView } from './restore-view';
import { changesView, tableView } from './table-view';
import { tablesView } from './tables-view';

export interface ConsoleSettings {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  bucket: string;
  prefix: string;
  region: string;
  token: string;
  /** `host:port` values the Host header may carry. */
  hosts: readonly string[];
  allowRestore: boolean;
  /** One line per request: method, path, status, time. Never a query or a body (keys are item values). */
  log: Log;
  now?: () => number;
}

/** The console's routes: thin, each loads through the core (load.ts) and renders a view. */
export function consoleApp(s: ConsoleSettings): Hono {
  const src: ConsoleSource = {
    s3: s.s3,
    dynamodb: s.dynamodb,
    bucket: s.bucket,
    prefix: s.prefix,
    now: s.now ?? Date.now,
  };
  const ctx: ViewContext = {
    bucket: s.bucket,
    prefix: src.prefix,
    region: s.region,
    allowRestore: s.allowRestore,
    csrf: csrfTokenOf(s.token),
  };
  const runs = new RestoreRuns({ s3: s.s3, dynamodb: s.dynamodb, log: s.log, now: src.now });
  const refuse = (c: Context, status: 400 | 401 | 403 | 404, message: string) =>
    c.html(
      layout(ctx, statusTitle[status], html`<p class="warning" role="alert" id="error">${message}</p>`),
      status,
    );
  const app = new Hono();
  app.use(async (c, next) => {
    const started = Date.now();
    await next();
    s.log.info(`${c.req.method} ${c.req.path} ${c.res.status} ${Date.now() - started} ms`);
  });
  app.use(
    secureHeaders({
      // Not no-referrer: with it a browser sends `Origin: null` on form posts, and the guard refuses them.
      referrerPolicy: 'same-origin',
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.use(guard({ token: s.token, hosts: s.hosts, allowRestore: s.allowRestore }, refuse));
  app.onError((err, c) => {
    s.log.warn(`${c.req.method} ${c.req.path} failed`, { error: (err as Error).name });
    return c.html(
      layout(
        ctx,
        'Cannot show this',
        html`<p class="warning" role="alert" id="error">${describeError(err)}</p>`,
      ),
      err instanceof RewindError ? 400 : 500,
    );
  });
  app.notFound((c) => refuse(c, 404, `No page at ${c.req.path}: start from the list of tables`));
  app.get('/assets/:name', (c) => serveAsset(c, c.req.param('name')));
  app.get('/', async (c) => c.html(tablesView(ctx, await loadTables(src))));
  app.get('/tables/:table', async (c) =>
    c.html(tableView(ctx, await loadTable(src, c.req.param('table'), c.req.query()))),
  );
  app.get('/tables/:table/changes', async (c) =>
    c.html(changesView(ctx, await loadChanges(src, c.req.param('table'), c.req.query()))),
  );
  app.get('/tables/:table/item', async (c) =>
    c.html(itemView(ctx, await loadItem(src, c.req.param('table'), c.req.query()))),
  );
  app.post('/tables/:table/restore', async (c) => {
    const ask = await restoreAsk(src, c.req.param('table'), formOf(await c.req.parseBody()));
    return c.html(planView(ctx, await runs.preview(ask)));
  });
  app.post('/runs', async (c) => {
    const form = formOf(await c.req.parseBody());
    const planned = runs.plan(form.plan ?? '');
    // A mistyped confirmation shows the same plan again, with what to type.
    if (planned && form.confirm !== planned.ask.target)
      return c.html(
        planView(
          ctx,
          planned,
          `Not confirmed: type the target table's name, ${planned.ask.target}, to run the restore`,
        ),
      );
    return c.redirect(`/runs/${runs.start(form.plan ?? '').id}`, 303);
  });
  app.get('/runs/:id', (c) => {
    const run = runs.run(c.req.param('id'));
    return run
      ? c.html(runView(ctx, run))
      : refuse(c, 404, 'No such restore: runs are kept while the console runs');
  });
  return app;
}

const statusTitle = { 400: 'Bad request', 401: 'Not signed in', 403: 'Refused', 404: 'Not found' } as const;

/** Form fields as text (the console's forms have no files). */
const formOf = (body: Record<string, unknown>): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));

/** The page styles and script, and Chart.js from its package (no CDN: machines may be offline). */
const ASSETS: Record<string, { type: string; path: () => string }> = {
  'console.css': { type: 'text/css', path: () => ownAsset('console.css') },
  'console.js': { type: 'text/javascript', path: () => ownAsset('console.js') },
  // The package exports only its modules: its UMD build sits beside the CommonJS entry.
  'chart.umd.js': {
    type: 'text/javascript',
    path: () => join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
  },
};

const cache = new Map<string, string>();

function serveAsset(c: Context, name: string): Response | Promise<Response> {
  const asset = ASSETS[name];
  if (!asset) return c.text('no such asset', 404);
  const body = cache.get(name) ?? readFileSync(asset.path(), 'utf8');
  cache.set(name, body);
  return c.body(body, 200, {
    'content-type': `${asset.type}; charset=utf-8`,
    'cache-control': 'max-age=300',
  });
}

/** console/assets beside this module, or beside the repository root when the CLI is bundled. */
function ownAsset(name: string): string {
  const candidates = [
    join(__dirname, 'assets', name),
    join(__dirname, '..', '..', 'console', 'assets', name),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`console asset ${name} not found next to ${__dirname}`);
  return found;
}
