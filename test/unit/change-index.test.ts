import {
  type IndexedChange,
  indexBody,
  indexedChangeId,
  indexGap,
  indexListing,
  indexObjectKey,
  indexObjectSpan,
  MAX_SPAN_MS,
  parseIndexBody,
  spanGroups,
} from '../../core/change-index';
import { backupLocation } from '../../core/object-key';

const loc = backupLocation('backups', 'orders', 'p/');
const at = Date.parse('2026-03-01T09:30:00Z');
const change = (timeMs: number, seq?: string): IndexedChange => ({
  key: 'p/orders/v1/00/pk=S.a',
  timeMs,
  event: 'MODIFY',
  cause: 'user',
  ...(seq ? { seq } : {}),
});

describe('change index objects', () => {
  it('are filed under the hour of their first change, named by their first and last', () => {
    const [group] = spanGroups([change(at + 5000), change(at)]);
    const key = indexObjectKey(loc, group ?? [], 'abc');
    expect(key).toBe(
      `p/orders/_changes/2026-03-01T09/${String(at).padStart(13, '0')}-${String(at + 5000).padStart(13, '0')}-abc.json`,
    );
    expect(indexObjectSpan(key)).toEqual({ firstMs: at, lastMs: at + 5000 });
    expect(indexObjectSpan('p/orders/_changes/2026-03-01T09/notes.txt')).toBeUndefined();
  });

  it('never span a day: a batch spanning more is cut in time order', () => {
    const groups = spanGroups([
      change(at + MAX_SPAN_MS + 1),
      change(at),
      change(at + 10),
      change(at + MAX_SPAN_MS - 1),
    ]);
    expect(groups.map((g) => g.map((c) => c.timeMs - at))).toEqual([
      [0, 10, MAX_SPAN_MS - 1],
      [MAX_SPAN_MS + 1],
    ]);
  });

  it('round-trip, and a foreign object is refused in one line', () => {
    const body = indexBody([change(at, '12')]);
    expect(parseIndexBody(body, 'k')).toEqual([change(at, '12')]);
    expect(() => parseIndexBody('{"changes":[]}', 'p/x.json')).toThrow(
      /p\/x.json is not a ddb-rewind change index object \(ddb-rewind-changes\/1\): was it written by hand\?/,
    );
  });

  it('count a redelivered change once: same item, same sequence number', () => {
    expect(indexedChangeId(change(at, '7'))).toBe(
      indexedChangeId({ ...change(at, '7'), versionId: 'other' }),
    );
    expect(indexedChangeId(change(at, '7'))).not.toBe(indexedChangeId(change(at, '8')));
  });
});

describe('a window', () => {
  it('lists from a day before it starts through the hour it ends', () => {
    expect(indexListing(loc, { sinceMs: at, untilMs: at + 2 * 3600_000 })).toEqual({
      prefix: 'p/orders/_changes/',
      startAfter: 'p/orders/_changes/2026-02-28T09',
      lastFolder: 'p/orders/_changes/2026-03-01T11/',
    });
    // The folder of the start hour itself sorts after startAfter.
    expect('p/orders/_changes/2026-02-28T09/x' > 'p/orders/_changes/2026-02-28T09').toBe(true);
  });

  it('is answered by the index only where it covers', () => {
    const marker = { format: 'ddb-rewind-changes/1' as const, fromMs: at };
    expect(indexGap(undefined, { sinceMs: at }, 0)).toMatch(/no change index/);
    expect(indexGap(marker, { sinceMs: at - 1 }, 0)).toMatch(
      /starts at 2026-03-01T09:30:00.000Z, after the window starts/,
    );
    expect(indexGap(marker, { sinceMs: at }, 1)).toMatch(/touches a recorded gap/);
    expect(indexGap(marker, { sinceMs: at }, 0)).toBeUndefined();
  });
});
