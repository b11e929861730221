import type { LifecycleRule } from '@aws-sdk/client-s3';
import { BackupStateError } from './errors';

const DAY_MS = 86_400_000;

/**
 * How far back the backup can answer exactly, given the bucket's lifecycle rules.
 * - `none`: no rule deletes versions of the table's items; every instant since coverage is kept.
 * - `since`: versions that were current at any instant from `fromMs` on are still there.
 * - `nothing`: a rule expires current versions and another deletes noncurrent ones, so an item
 *   that stays unchanged long enough leaves the backup altogether: no instant is exact.
 */
export type RetentionHorizon =
  | { kind: 'none' }
  | { kind: 'since'; fromMs: number; rule: string; noncurrentDays: number }
  | { kind: 'nothing'; rule: string; reason: string };

/** What a rule does to the objects it covers, read from S3's several spellings of a filter. */
interface RuleEffect {
  id: string;
  noncurrentDays?: number;
  /** Current versions get a delete marker (and so become noncurrent) from this age on. */
  expiresCurrent?: string;
}

/**
 * The horizon the lifecycle rules give the items under `itemsPrefix` (`<prefix><table>/v1/`).
 *
 * The version holding an item as of T became noncurrent when the next change was written, which
 * is after T minus the clock skew (a change is written after it happens), and a noncurrent
 * version lives at least NoncurrentDays after that. So T >= now - NoncurrentDays + skew is safe,
 * and every version written since is still there too. NewerNoncurrentVersions and S3's rounding
 * to midnight only keep versions longer. An Expiration on a versioned bucket only adds a delete
 * marker, which readers ignore (deletes are read from tombstones), unless noncurrent versions are
 * deleted as well.
 *
 * @example
 * retentionHorizon([{ ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }], 'orders/v1/', now, 2000)
 * // { kind: 'since', fromMs: now - 30 days + 2 s, rule: 'r', noncurrentDays: 30 }
 */
export function retentionHorizon(
  rules: readonly LifecycleRule[],
  itemsPrefix: string,
  nowMs: number,
  clockSkewMs: number,
): RetentionHorizon {
  const effects = rules.flatMap((r, i) => effectOn(r, i, itemsPrefix, nowMs));
  const deleting = effects.filter((e) => e.noncurrentDays !== undefined);
  const expiring = effects.find((e) => e.expiresCurrent !== undefined);
  const strictest = deleting.sort((a, b) => (a.noncurrentDays ?? 0) - (b.noncurrentDays ?? 0))[0];
  if (!strictest || strictest.noncurrentDays === undefined) return { kind: 'none' };
  if (expiring) {
    const rules =
      expiring.id === strictest.id
        ? `rule \`${expiring.id}\``
        : `rules \`${expiring.id}\` and \`${strictest.id}\``;
    return {
      kind: 'nothing',
      rule: expiring.id,
      reason: `lifecycle ${rules} expire current versions (${expiring.expiresCurrent}) and delete noncurrent ones after ${strictest.noncurrentDays} days, so items left unchanged that long are gone from the backup`,
    };
  }
  return {
    kind: 'since',
    fromMs: nowMs - strictest.noncurrentDays * DAY_MS + clockSkewMs,
    rule: strictest.id,
    noncurrentDays: strictest.noncurrentDays,
  };
}

function effectOn(rule: LifecycleRule, index: number, itemsPrefix: string, nowMs: number): RuleEffect[] {
  if (rule.Status !== 'Enabled' || !covers(rule, itemsPrefix)) return [];
  const effect: RuleEffect = { id: rule.ID || `#${index + 1}` };
  const days = rule.NoncurrentVersionExpiration?.NoncurrentDays;
  if (days !== undefined) effect.noncurrentDays = days;
  const exp = rule.Expiration;
  if (exp?.Days !== undefined) effect.expiresCurrent = `after ${exp.Days} days`;
  else if (exp?.Date !== undefined && exp.Date.getTime() <= nowMs)
    effect.expiresCurrent = `since ${exp.Date.toISOString()}`;
  return effect.noncurrentDays === undefined && effect.expiresCurrent === undefined ? [] : [effect];
}

/**
 * Whether a rule can touch objects under `itemsPrefix`. A rule on a wider prefix, or on part of
 * it, does; a tag filter does not (ddb-rewind tags no object); a size filter may, so it counts.
 */
function covers(rule: LifecycleRule, itemsPrefix: string): boolean {
  const f = rule.Filter;
  // Ceph returns a tag beside the prefix where AWS nests both under And.
  const tagged = Boolean(f?.Tag || f?.And?.Tags?.length);
  if (tagged) return false;
  // The SDK types mark the top-level Prefix deprecated, but S3 still returns it for old rules.
  const prefix = f?.Prefix ?? f?.And?.Prefix ?? rule.Prefix ?? '';
  return itemsPrefix.startsWith(prefix) || prefix.startsWith(itemsPrefix);
}

/**
 * Refuses an instant the backup may no longer hold exactly, in one line that names the horizon
 * and the rule.
 */
export function assertRetained(
  horizon: RetentionHorizon,
  flag: string,
  atMs: number,
  where: { bucket: string; table: string },
): void {
  if (horizon.kind === 'none') return;
  if (horizon.kind === 'nothing') {
    throw new BackupStateError(
      `The backup of ${where.table} in bucket ${where.bucket} cannot answer any instant exactly: ${horizon.reason}; remove the Expiration action from rules that cover the table's items (ddb-rewind needs current versions kept)`,
    );
  }
  if (atMs < horizon.fromMs) {
    throw new BackupStateError(
      `Expected \`${flag}\` to be at or after the backup's retention horizon ${new Date(horizon.fromMs).toISOString()}, got ${new Date(atMs).toISOString()}: lifecycle rule \`${horizon.rule}\` of bucket ${where.bucket} deletes noncurrent versions after ${horizon.noncurrentDays} days, so versions from before then may be gone`,
    );
  }
}

/** What a history starting at the horizon says about the changes it leaves out. */
export const horizonNote = (horizon: { fromMs: number; rule: string; noncurrentDays: number }): string =>
  `(changes before ${new Date(horizon.fromMs).toISOString()} are not listed: lifecycle rule \`${horizon.rule}\` deletes noncurrent versions after ${horizon.noncurrentDays} days)`;
