import type { LifecycleRule } from '@aws-sdk/client-s3';
import { assertRetained, retentionHorizon } from '../../core/retention';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const ITEMS = 'backups/orders/v1/';
const where = { bucket: 'b', table: 'orders' };
const noncurrent = (id: string, days: number, filter: LifecycleRule['Filter'] = {}): LifecycleRule => ({
  ID: id,
  Status: 'Enabled',
  Filter: filter,
  NoncurrentVersionExpiration: { NoncurrentDays: days },
});

describe('retentionHorizon', () => {
  it('is none without rules, or with rules that delete nothing of the items', () => {
    expect(retentionHorizon([], ITEMS, NOW, 2000)).toEqual({ kind: 'none' });
    const harmless: LifecycleRule[] = [
      { ...noncurrent('off', 1), Status: 'Disabled' },
      noncurrent('packs', 1, { Prefix: 'backups/orders/_packs/' }),
      noncurrent('other table', 1, { Prefix: 'backups/users/' }),
      noncurrent('tagged', 1, { And: { Prefix: 'backups/', Tags: [{ Key: 'k', Value: 'v' }] } }),
      noncurrent('tag only', 1, { Tag: { Key: 'k', Value: 'v' } }),
      { ID: 'markers', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'expire only', Status: 'Enabled', Filter: {}, Expiration: { Days: 3 } },
      {
        ID: 'uploads',
        Status: 'Enabled',
        Filter: {},
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ];
    expect(retentionHorizon(harmless, ITEMS, NOW, 2000)).toEqual({ kind: 'none' });
  });

  it('starts NoncurrentDays before now, plus the clock skew, for a rule on any covering prefix', () => {
    for (const filter of [{}, { Prefix: '' }, { Prefix: 'backups/' }, { Prefix: 'backups/orders/v1/0' }]) {
      expect(retentionHorizon([noncurrent('r', 30, filter)], ITEMS, NOW, 2000)).toEqual({
        kind: 'since',
        fromMs: NOW - 30 * DAY + 2000,
        rule: 'r',
        noncurrentDays: 30,
      });
    }
    // Old rules put the prefix beside the filter; a size filter may match items, so it counts.
    const legacy: LifecycleRule = {
      ID: 'legacy',
      Status: 'Enabled',
      Prefix: 'backups/',
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    };
    expect(retentionHorizon([legacy], ITEMS, NOW, 0)).toMatchObject({ kind: 'since', rule: 'legacy' });
    const sized = noncurrent('sized', 5, { And: { Prefix: 'backups/', ObjectSizeGreaterThan: 100 } });
    expect(retentionHorizon([sized], ITEMS, NOW, 0)).toMatchObject({ kind: 'since', rule: 'sized' });
  });

  it('takes the strictest of several rules and names a rule without ID by its place', () => {
    const rules = [noncurrent('long', 90), { ...noncurrent('', 10), ID: undefined }, noncurrent('mid', 30)];
    expect(retentionHorizon(rules, ITEMS, NOW, 0)).toEqual({
      kind: 'since',
      fromMs: NOW - 10 * DAY,
      rule: '#2',
      noncurrentDays: 10,
    });
  });

  it('keeps nothing when current versions expire and noncurrent ones are deleted', () => {
    const both: LifecycleRule = { ...noncurrent('both', 30), Expiration: { Days: 365 } };
    expect(retentionHorizon([both], ITEMS, NOW, 0)).toMatchObject({ kind: 'nothing', rule: 'both' });
    const split: LifecycleRule[] = [
      noncurrent('nc', 30),
      { ID: 'exp', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
    ];
    const h = retentionHorizon(split, ITEMS, NOW, 0);
    expect(h).toMatchObject({ kind: 'nothing' });
    expect(h.kind === 'nothing' && h.reason).toMatch(/rules `exp` and `nc`/);
    // An expiration date still to come has expired nothing yet.
    const later: LifecycleRule[] = [
      noncurrent('nc', 30),
      { ID: 'd', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date(NOW + DAY) } },
    ];
    expect(retentionHorizon(later, ITEMS, NOW, 0)).toMatchObject({ kind: 'since' });
    const past: LifecycleRule[] = [
      noncurrent('nc', 30),
      { ID: 'd', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date(NOW - DAY) } },
    ];
    expect(retentionHorizon(past, ITEMS, NOW, 0)).toMatchObject({ kind: 'nothing' });
  });
});

describe('assertRetained', () => {
  const horizon = retentionHorizon([noncurrent('keep-30', 30)], ITEMS, NOW, 0);
  it('refuses an instant before the horizon in one line naming it and the rule', () => {
    const at = NOW - 31 * DAY;
    expect(() => assertRetained(horizon, '--at', at, where)).toThrow(
      /^Expected `--at` to be at or after the backup's retention horizon 2026-11-01T00:00:00.000Z, got 2026-10-31T00:00:00.000Z: lifecycle rule `keep-30` of bucket b deletes noncurrent versions after 30 days[^\n]*$/,
    );
  });
  it('accepts the horizon itself and later instants, and anything without a horizon', () => {
    expect(() => assertRetained(horizon, '--at', NOW - 30 * DAY, where)).not.toThrow();
    expect(() => assertRetained({ kind: 'none' }, '--at', 0, where)).not.toThrow();
  });
  it('refuses every instant when nothing is kept', () => {
    const nothing = retentionHorizon([{ ...noncurrent('x', 1), Expiration: { Days: 1 } }], ITEMS, NOW, 0);
    expect(() => assertRetained(nothing, '--at', NOW, where)).toThrow(/cannot answer any instant exactly/);
  });
});
