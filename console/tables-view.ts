import { html } from 'hono/html';
import type { TableStatus } from '../core/aws/table-catalog';
import { type Html, iso, layout, tablePath, type ViewContext } from './html';

/** `/`: every backed-up table under the bucket and prefix, with what an operator checks first. */
export function tablesView(ctx: ViewContext, tables: readonly TableStatus[]): Html {
  const body = tables.length
    ? html`<table class="grid" id="tables">
<thead><tr><th scope="col">Table</th><th scope="col">Key</th><th scope="col">Backup starts</th><th scope="col">Last change</th><th scope="col">Gaps</th><th scope="col">Retention horizon</th><th scope="col">Latest pack</th></tr></thead>
<tbody>${tables.map(row)}</tbody>
</table>`
    : html`<p class="empty">No table backups under s3://${ctx.bucket}/${ctx.prefix}: check --bucket and --prefix, or start backing a table up (ddb-rewind stream, or the CDK construct).</p>`;
  return layout(ctx, 'Backed-up tables', body);
}

function row(t: TableStatus): Html {
  const key = t.manifest.keySchema.map((k) => {
    const type = t.manifest.attributeDefinitions.find(
      (d) => d.AttributeName === k.AttributeName,
    )?.AttributeType;
    return `${k.AttributeName} (${k.KeyType === 'HASH' ? 'partition' : 'sort'}, ${type ?? '?'})`;
  });
  const horizon =
    t.horizon.kind === 'none'
      ? 'none: every version kept'
      : t.horizon.kind === 'since'
        ? html`<time>${iso(t.horizon.fromMs)}</time> (rule ${t.horizon.rule}: noncurrent versions kept ${t.horizon.noncurrentDays} days)`
        : `nothing exact: ${t.horizon.reason}`;
  return html`<tr data-table="${t.table}">
<th scope="row"><a href="${tablePath(t.table)}">${t.table}</a></th>
<td>${key.join(', ')}</td>
<td>${t.manifest.coverageFromMs !== undefined ? html`<time>${iso(t.manifest.coverageFromMs)}</time>` : 'not recorded'}</td>
<td>${t.lastChangeMs !== undefined ? html`<time>${iso(t.lastChangeMs)}</time>` : 'no change index'}</td>
<td class="gaps">${t.gaps.length ? t.gaps.map((g) => html`<div><time>${iso(g.fromMs)}</time> – <time>${iso(g.toMs)}</time>: ${g.reason}</div>`) : 'none'}</td>
<td>${horizon}</td>
<td>${t.latestPack ? html`${t.latestPack.id} (${t.latestPack.items} items)` : 'none'}</td>
</tr>`;
}
