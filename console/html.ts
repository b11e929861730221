import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** A rendered fragment: hono's `html` escapes every interpolated value unless it is a fragment too. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page needs to know about the console it is served by. */
export interface ViewContext {
  bucket: string;
  prefix: string;
  region: string;
  allowRestore: boolean;
  csrf: string;
}

export const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());

/** A page: plain HTML that reads without script; script only draws the chart and follows progress. */
export function layout(
  ctx: ViewContext,
  title: string,
  body: Html,
  crumbs: Html[] = [],
  opts: { refreshSeconds?: number } = {},
): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ddb-rewind</title>
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/chart.umd.js" defer></script>
<script src="/assets/console.js" defer></script>
</head>
<body>
<header>
<nav aria-label="Breadcrumb"><a href="/">ddb-rewind</a> <span class="where">s3://${ctx.bucket}/${ctx.prefix}</span>${crumbs.map((c) => html` › ${c}`)}</nav>
<span class="mode">${ctx.allowRestore ? 'restore allowed' : 'read-only'}</span>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** The form field every POST carries. */
export const csrfField = (ctx: ViewContext): Html =>
  html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;

/** A link to another console page; `params` become its query. */
export function href(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const tablePath = (table: string): string => `/tables/${encodeURIComponent(table)}`;

/** Data for the page's script, in a non-executed block (the content security policy allows no inline script). */
export const jsonBlock = (id: string, value: unknown): Html =>
  // Script text is not HTML: entities would not be decoded, so the JSON goes in raw, `<` escaped.
  html`<script type="application/json" id="${id}">${raw(JSON.stringify(value).replaceAll('<', '\\u003c'))}</script>`;
