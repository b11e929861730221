/**
 * A period the backup cannot vouch for: stream records trimmed before they were read, the table's
 * stream replaced by a new one, a time the writer could not cover. Kept as
 * `<prefix><table>/_meta/gaps/<fromMs>-<toMs>.json`.
 */
export interface Gap {
  fromMs: number;
  toMs: number;
  reason: string;
}

/** Gaps that an instant or a range touches (both ends included). */
export function gapsTouching(gaps: readonly Gap[], fromMs: number, toMs = fromMs): Gap[] {
  return gaps.filter((g) => g.fromMs <= toMs && g.toMs >= fromMs);
}

/** The one-line warning restore, export and verify print. */
export function gapWarning(table: string, touched: readonly Gap[]): string {
  const list = touched
    .map((g) => `${new Date(g.fromMs).toISOString()} to ${new Date(g.toMs).toISOString()} (${g.reason})`)
    .join('; ');
  return `the backup of ${table} has a gap: ${list}; items changed then may be missing or stale: run \`ddb-rewind backfill\` to back up the current state`;
}
