import { html } from 'hono/html';
import type { ChangedItem, ChangesReport } from '../core/aws/changes';
import type { ItemsPage } from '../core/aws/table-page';
import { CHART_SERIES, type ChangeChart } from '../core/change-chart';
import type { WireItem } from '../core/ddb-json';
import { formatValue } from '../core/history-format';
import { plainKeyText } from '../core/item-key';
import { encodeCursor } from '../core/page-cursor';
import { keyNames, type TableManifest } from '../core/table-manifest';
import { csrfField, type Html, href, iso, jsonBlock, layout, tablePath, type ViewContext } from './html';

export interface TableViewData {
  table: string;
  manifest: TableManifest;
  atMs: number;
  /** The change chart's window. */
  window: { fromMs: number; toMs: number };
  page: ItemsPage;
  keyPrefix?: string;
  /** This page's own cursor (absent on the first page). */
  after?: string;
  warnings: string[];
}

export type ChangesViewData = {
  table: string;
  manifest: TableManifest;
  atMs: number;
  window: { fromMs: number; toMs: number };
} & (
  | {
      chart: ChangeChart;
      changes: ChangesReport;
      /** The first items changed in the window (the report counts them all). */
      changed: ChangedItem[];
      notListed: number;
    }
  /** The change index cannot answer for the window: listing every version is asked for, not assumed. */
  | { needsListing: string }
);

/**
 * `/tables/<table>`: the table as of `at`, and the changes of a window, which the page's script
 * fetches from `/tables/<table>/changes` (a link without script): the first page never waits on
 * the change index.
 */
export function tableView(ctx: ViewContext, d: TableViewData): Html {
  const table = d.table;
  const at = iso(d.atMs);
  const window = { from: iso(d.window.fromMs), to: iso(d.window.toMs) };
  const changes = href(`${tablePath(table)}/changes`, { at, ...window });
  const body = html`
${d.warnings.map((w) => html`<p class="warning" role="alert">${w}</p>`)}
<form method="get" class="picker" aria-label="Time">
<label>As of <input name="at" value="${at}" size="26" pattern="\\d{4}-\\d\\d-\\d\\dT[\\d:.]+(Z|[+-]\\d\\d:?\\d\\d)" title="ISO-8601 with a zone, e.g. 2026-12-03T10:00:00Z"></label>
<label>Changes from <input name="from" value="${window.from}" size="26"></label>
<label>to <input name="to" value="${window.to}" size="26"></label>
${d.keyPrefix ? html`<input type="hidden" name="prefix" value="${d.keyPrefix}">` : ''}
<button type="submit">Show</button>
</form>
<section id="changes" data-src="${changes}" aria-live="polite">
<h2>Changes from <time>${window.from}</time> to <time>${window.to}</time></h2>
<p><a id="changes-link" href="${changes}">Show the changes of this window</a></p>
</section>
<section aria-labelledby="asof-h">
<h2 id="asof-h">The table as of <time>${at}</time></h2>
${itemsTable(table, d)}
</section>
${ctx.allowRestore ? restoreForm(ctx, table, at) : ''}`;
  return layout(ctx, table, body, [html`<a href="${tablePath(table)}">${table}</a>`]);
}

/** `/tables/<table>/changes`: the chart and the changed items of a window (also fetched into the table page). */
export function changesView(ctx: ViewContext, d: ChangesViewData): Html {
  const window = { from: iso(d.window.fromMs), to: iso(d.window.toMs) };
  const at = iso(d.atMs);
  const body = html`<section id="changes">${changesSection(d, window, at)}</section>
<p><a href="${href(tablePath(d.table), { at, ...window })}">The table as of <time>${at}</time></a></p>`;
  return layout(ctx, `${d.table}: changes`, body, [html`<a href="${tablePath(d.table)}">${d.table}</a>`]);
}

function changesSection(d: ChangesViewData, window: { from: string; to: string }, at: string): Html {
  if ('needsListing' in d)
    return html`<h2>Changes from <time>${window.from}</time> to <time>${window.to}</time></h2>
<p class="warning" id="needs-listing">The change index cannot answer for this window (${d.needsListing}); counting its changes means listing every version of the backup.</p>
<p><a id="list-anyway" href="${href(`${tablePath(d.table)}/changes`, { at, ...window, listing: 'yes' })}">List every version for this window</a></p>`;
  return html`<h2 id="chart-h">Changes from <time>${window.from}</time> to <time>${window.to}</time>, per ${d.chart.step}</h2>
<p id="change-counts">${d.changes.changes} changes to ${d.changes.items} items: ${CHART_SERIES.map((s) => `${s} ${sum(d.chart.counts[s])}`).join(', ')}.
<span class="dim">Read from ${d.changes.source === 'index' ? 'the change index' : `a listing of every version (${d.changes.note ?? 'no change index'})`}, ${d.changes.s3Requests} S3 requests.</span></p>
<div class="chart"><canvas id="change-chart" role="img" aria-label="Changes per ${d.chart.step}, by kind"></canvas></div>
${jsonBlock('chart-data', { ...d.chart, table: d.table, at })}
<h2 id="changed-h">Items changed in the window</h2>
${changedList(d.table, d.manifest, d)}`;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

function itemLink(table: string, names: readonly string[], key: Record<string, unknown>, at: string): string {
  return href(`${tablePath(table)}/item`, { key: plainKeyText(key as never, names), at });
}

function changedList(
  table: string,
  manifest: TableManifest,
  d: { changed: ChangedItem[]; notListed: number },
): Html {
  const names = keyNames(manifest);
  if (!d.changed.length) return html`<p id="changed-items" class="empty">No change in this window.</p>`;
  return html`<ol id="changed-items">${d.changed.map((c) =>
    c.key
      ? html`<li><a href="${itemLink(table, names, c.key, iso(c.lastMs))}">${plainKeyText(c.key, names)}</a> <span class="dim">${c.changes} change${c.changes === 1 ? '' : 's'}, last <time>${iso(c.lastMs)}</time></span></li>`
      : html`<li>${c.objectKey} <span class="dim">${c.changes} changes (a long key: find it with ddb-rewind locate)</span></li>`,
  )}</ol>${d.notListed ? html`<p class="dim">… and ${d.notListed} more items: narrow the window.</p>` : ''}`;
}

function itemsTable(table: string, d: TableViewData): Html {
  const names = keyNames(d.manifest);
  const at = iso(d.atMs);
  const p = d.page;
  const source = p.pack
    ? `read from pack ${p.pack}${p.packIndex && 'changedItems' in p.packIndex ? ` (${p.packIndex.changedItems} items changed since it read alone)` : ''}`
    : 'read from the versions (no pack)';
  return html`<form method="get" class="filter" aria-label="Filter">
<input type="hidden" name="at" value="${at}">
<label>Partition key starts with <input name="prefix" value="${d.keyPrefix ?? ''}"></label>
<button type="submit">Filter</button>
</form>
<p class="dim" id="page-info">${p.items.length} items on this page (${p.scanned} keys gone through), ${source}, ${p.s3Requests} S3 requests.</p>
<table class="grid" id="items">
<thead><tr><th scope="col">Key</th><th scope="col">Attributes</th></tr></thead>
<tbody>${p.items.map(
    (i) =>
      html`<tr><th scope="row"><a href="${itemLink(table, names, i.key, at)}">${plainKeyText(i.key, names)}</a></th><td class="attrs">${summary(i.image, names)}</td></tr>`,
  )}</tbody>
</table>
<nav class="pages" aria-label="Pages">${d.after ? html`<a href="${href(tablePath(table), { at, prefix: d.keyPrefix })}">First page</a> ` : ''}${
    p.next
      ? html`<a id="next-page" rel="next" href="${href(tablePath(table), { at, prefix: d.keyPrefix, after: encodeCursor(p.next) })}">Next page</a>`
      : html`<span id="end-of-table">End of the table.</span>`
  }</nav>`;
}

/** An item's non-key attributes on one line, cut short: the item page has the whole of it. */
function summary(image: WireItem, names: readonly string[]): string {
  const text = Object.entries(image)
    .filter(([n]) => !names.includes(n))
    .map(([n, v]) => `${n}: ${formatValue(v)}`)
    .join(', ');
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

function restoreForm(ctx: ViewContext, table: string, at: string): Html {
  return html`<section aria-labelledby="restore-h">
<h2 id="restore-h">Restore the whole table as of <time>${at}</time></h2>
<form method="post" action="${tablePath(table)}/restore" id="table-restore">
${csrfField(ctx)}
<input type="hidden" name="at" value="${at}">
<label>Into table <input name="target" required></label>
<label>Mode <select name="mode"><option value="upsert">upsert: write the items present then</option><option value="rewind">rewind: also delete items absent then</option></select></label>
<label><input type="checkbox" name="createTable" value="yes"> create the target from the backup's table description</label>
<button type="submit">Preview the plan</button>
</form>
<p class="dim">Nothing is written before you confirm the plan.</p>
</section>`;
}
