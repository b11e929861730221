import { html } from 'hono/html';
import { formatChange } from '../core/history-format';
import { csrfField, type Html, href, iso, layout, tablePath, type ViewContext } from './html';
import type { PlannedRestore, RestoreRun } from './restore-runs';

const what = (p: { ask: PlannedRestore['ask'] }): string =>
  p.ask.keyText ? `item ${p.ask.keyText} of ${p.ask.source.table}` : `table ${p.ask.source.table}`;

/** The dry run's plan, and the confirmation that starts the restore (again, after a mistyped one). */
export function planView(ctx: ViewContext, p: PlannedRestore, refused?: string): Html {
  const s = p.plan;
  const inPlace = p.ask.target === p.ask.source.table;
  const body = html`
${refused ? html`<p class="warning" role="alert" id="error">${refused}</p>` : ''}
${s.warnings.map((w) => html`<p class="warning" role="alert">${w}</p>`)}
<p>Restore ${what(p)} as of <time>${iso(p.ask.atMs)}</time> into <strong>${p.ask.target}</strong> (${p.ask.mode}${p.ask.createTable ? ', creating the table' : ''}). Nothing has been written yet.</p>
${inPlace ? html`<p class="warning" role="alert">The target is the source table itself: the restore writes over live data.</p>` : ''}
<dl id="plan" class="counts">
<dt>Puts</dt><dd id="plan-puts">${s.itemsPut}</dd>
<dt>Deletes</dt><dd id="plan-deletes">${s.itemsDeleted}</dd>
<dt>Unchanged</dt><dd id="plan-unchanged">${s.itemsUnchanged}</dd>
</dl>
${
  p.itemDiff
    ? html`<h2>What changes in ${p.ask.target}</h2>
${p.itemDiff.exists ? '' : html`<p class="dim">The item does not exist in ${p.ask.target} now.</p>`}
${p.itemDiff.changes.length ? html`<ul class="diff" id="plan-diff">${p.itemDiff.changes.map((c) => html`<li class="${c.kind}">${formatChange(c)}</li>`)}</ul>` : html`<p id="plan-diff">No difference: the item is already as it was then.</p>`}`
    : ''
}
${s.samples?.put.length ? html`<p class="dim">e.g. put: ${s.samples.put.join(' ')}</p>` : ''}
${s.samples?.delete.length ? html`<p class="dim">e.g. delete: ${s.samples.delete.join(' ')}</p>` : ''}
<form method="post" action="/runs" id="confirm-restore">
${csrfField(ctx)}
<input type="hidden" name="plan" value="${p.id}">
<label>Type <strong>${p.ask.target}</strong> to confirm <input name="confirm" required autocomplete="off"></label>
<button type="submit">Restore</button>
</form>
<p><a href="${href(tablePath(p.ask.source.table), { at: iso(p.ask.atMs) })}">Cancel</a></p>`;
  return layout(ctx, 'Restore plan', body, [
    html`<a href="${tablePath(p.ask.source.table)}">${p.ask.source.table}</a>`,
  ]);
}

/** A restore running or ended: its progress, then its summary. */
export function runView(ctx: ViewContext, r: RestoreRun): Html {
  const s = r.summary;
  const body = html`
<p>Restore of ${r.ask.key ? 'one item of ' : ''}${r.ask.source.table} as of <time>${iso(r.ask.atMs)}</time> into <strong>${r.ask.target}</strong>: <span id="run-state" data-state="${r.state}">${r.state}</span>.</p>
<dl id="run-progress" class="counts">
<dt>Put</dt><dd id="run-puts">${s?.itemsPut ?? r.progress.put}</dd>
<dt>Deleted</dt><dd id="run-deletes">${s?.itemsDeleted ?? r.progress.deleted}</dd>
<dt>Unchanged</dt><dd id="run-unchanged">${s?.itemsUnchanged ?? r.progress.unchanged}</dd>
</dl>
${r.error ? html`<p class="warning" role="alert" id="run-error">${r.error}</p>` : ''}
${s ? html`<p id="run-summary">${s.versionsScanned} versions scanned${s.pack ? `, ${s.itemsFromPack} items read from pack ${s.pack}` : ''}, ${s.s3Requests} S3 and ${s.dynamodbRequests} DynamoDB requests, ${(s.durationMs / 1000).toFixed(1)} s.</p>` : html`<p class="dim">This page refreshes every second until the restore ends.</p>`}
<p><a href="${href(tablePath(r.ask.source.table), { at: iso(r.ask.atMs) })}">Back to ${r.ask.source.table}</a></p>`;
  return layout(
    ctx,
    'Restore',
    body,
    [html`<a href="${tablePath(r.ask.source.table)}">${r.ask.source.table}</a>`],
    r.state === 'running' ? { refreshSeconds: 1 } : {},
  );
}
