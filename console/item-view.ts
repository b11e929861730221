import { html } from 'hono/html';
import type { SingleItem } from '../core/aws/backup-reader';
import type { HistoryPage } from '../core/aws/history-page';
import type { HistoryEntry } from '../core/aws/item-history';
import { formatChange, formatValue } from '../core/history-format';
import { encodeHistoryCursor } from '../core/history-page';
import type { AttributeChange } from '../core/item-diff';
import type { TableManifest } from '../core/table-manifest';
import { keyNames } from '../core/table-manifest';
import { csrfField, type Html, href, iso, layout, tablePath, type ViewContext } from './html';

export interface ItemViewData {
  table: string;
  manifest: TableManifest;
  /** The key as plain JSON, as in the page's URL. */
  keyText: string;
  atMs: number;
  history: HistoryPage;
  /** This page's own cursor (an older page of the timeline). */
  before?: string;
  asOf: SingleItem;
  /** Why changes before some instant are not shown (retention), if they are not. */
  horizonNote?: string;
}

function timelineTitle(d: ItemViewData): string {
  const n = d.history.entries.length;
  const changes = `${n} change${n === 1 ? '' : 's'}`;
  if (!d.history.older && !d.before) return `${changes}, newest first`;
  return `${changes}${d.before ? ' before the ones shown' : ''}, newest first (${d.history.versionsListed} versions in all)`;
}

const CAUSE: Record<string, string> = { user: 'user write', ttl: 'TTL expiry', backfill: 'backfill' };

/** `/tables/<table>/item`: the item's timeline, the item as of `at`, where it lives in S3. */
export function itemView(ctx: ViewContext, d: ItemViewData): Html {
  const at = iso(d.atMs);
  const h = d.history;
  const body = html`
<section aria-labelledby="asof-h">
<h2 id="asof-h">As of <time>${at}</time></h2>
${asOfView(d)}
${ctx.allowRestore ? restoreItemForm(ctx, d) : ''}
</section>
<section aria-labelledby="timeline-h">
<h2 id="timeline-h">Timeline: ${timelineTitle(d)}</h2>
${d.horizonNote ? html`<p class="dim">${d.horizonNote}</p>` : ''}
${h.duplicatesSkipped ? html`<p class="dim">${h.duplicatesSkipped} redelivered copies shown once.</p>` : ''}
<ol id="timeline">${[...h.entries].reverse().map((e) => entryView(ctx, d, e))}</ol>
<nav class="pages" aria-label="Timeline pages">${d.before ? html`<a id="newest-changes" href="${href(`${tablePath(d.table)}/item`, { key: d.keyText, at })}">Newest changes</a> ` : ''}${
    h.older
      ? html`<a id="older-changes" rel="next" href="${href(`${tablePath(d.table)}/item`, { key: d.keyText, at, before: encodeHistoryCursor(h.older) })}">Older changes</a>`
      : html`<span id="first-change">The item's first change${d.horizonNote ? ' since the retention horizon' : ''}.</span>`
  }</nav>
</section>
<section aria-labelledby="s3-h">
<h2 id="s3-h">Where it lives in S3</h2>
<dl id="s3-location">
<dt>Object</dt><dd><code>s3://${ctx.bucket}/${h.objectKey}</code></dd>
<dt>Versions</dt><dd>${d.asOf.versions.length} (delete markers included); the timeline lists each change's version id</dd>
<dt>S3 console</dt><dd><a href="${s3ConsoleLink(ctx, h.objectKey)}" rel="noreferrer">open the object's versions</a></dd>
</dl>
</section>`;
  return layout(ctx, d.keyText, body, [
    html`<a href="${href(tablePath(d.table), { at })}">${d.table}</a>`,
    html`<span>${d.keyText}</span>`,
  ]);
}

function asOfView(d: ItemViewData): Html {
  const image = d.asOf.image;
  const chosen = d.asOf.chosen;
  if (!image)
    return html`<p id="as-of" data-exists="false">The item did not exist at this instant${chosen?.meta ? html` (removed at <time>${iso(chosen.meta.timeMs)}</time>)` : ''}.</p>`;
  const names = keyNames(d.manifest);
  const attrs = Object.keys(image).sort((a, b) => rank(a, names) - rank(b, names) || (a < b ? -1 : 1));
  return html`<div id="as-of" data-exists="true">
<p class="dim">From version <code>${chosen?.version.versionId ?? ''}</code>${chosen?.meta ? html`, written by the change at <time>${iso(chosen.meta.timeMs)}</time>` : ''}.</p>
<table class="grid item"><thead><tr><th scope="col">Attribute</th><th scope="col">Value</th></tr></thead>
<tbody>${attrs.map((a) => html`<tr><th scope="row">${a}</th><td>${formatValue(image[a])}</td></tr>`)}</tbody></table>
<details><summary>DynamoDB JSON</summary><pre id="ddb-json">${JSON.stringify(image, null, 2)}</pre></details>
</div>`;
}

/** Key attributes first, in key order; the rest by name. */
const rank = (name: string, keys: readonly string[]): number =>
  keys.includes(name) ? keys.indexOf(name) : keys.length;

function entryView(ctx: ViewContext, d: ItemViewData, e: HistoryEntry): Html {
  return html`<li class="change ${e.event}" data-version="${e.versionId}" data-event="${e.event}">
<div class="head"><a href="${href(`${tablePath(d.table)}/item`, { key: d.keyText, at: e.time })}"><time>${e.time}</time></a>
<span class="event">${e.event}</span> <span class="cause">${CAUSE[e.cause] ?? e.cause}</span>
<span class="dim">version <code>${e.versionId}</code></span></div>
<ul class="diff">${e.changes.map(diffLine)}</ul>
${ctx.allowRestore ? html`<button type="submit" form="restore-item" name="at" value="${e.time}" class="restore-version">Restore this version…</button>` : ''}
</li>`;
}

const diffLine = (c: AttributeChange): Html => html`<li class="${c.kind}">${formatChange(c)}</li>`;

/**
 * The item's one restore form: its own button restores as of the page's instant, and each
 * timeline entry's button (form="restore-item") submits it with that change's time instead.
 */
function restoreItemForm(ctx: ViewContext, d: ItemViewData): Html {
  return html`<form method="post" action="${tablePath(d.table)}/restore" id="restore-item">
${csrfField(ctx)}
<input type="hidden" name="key" value="${d.keyText}">
<label>into table <input name="target" value="${d.table}" required size="24"></label>
<button type="submit" name="at" value="${iso(d.atMs)}">Restore this item as of this instant…</button>
</form>`;
}

function s3ConsoleLink(ctx: ViewContext, objectKey: string): string {
  const folder = objectKey.slice(0, objectKey.lastIndexOf('/') + 1);
  return href(`https://${ctx.region}.console.aws.amazon.com/s3/buckets/${ctx.bucket}`, {
    region: ctx.region,
    prefix: folder,
    showversions: 'true',
  });
}
