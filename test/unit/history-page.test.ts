import type { ChangeMeta } from '../../core/change-record';
import { InputError } from '../../core/errors';
import {
  candidateVersions,
  decodeHistoryCursor,
  encodeHistoryCursor,
  olderThan,
  type ReadVersion,
  settledChanges,
} from '../../core/history-page';
import { LATE_WRITE_MS } from '../../core/pack-guide';

const meta = (timeMs: number, seq?: string) => ({ timeMs, ...(seq ? { seq } : {}) }) as ChangeMeta;
const read = (versionId: string, timeMs: number, seq?: string): ReadVersion => ({
  versionId,
  meta: meta(timeMs, seq),
});
const version = (versionId: string, lastModifiedMs: number, isDeleteMarker = false) => ({
  versionId,
  lastModifiedMs,
  isDeleteMarker,
});

describe('history pages', () => {
  it('orders by change time, then sequence number, then version id, strictly before the cursor', () => {
    const cursor = { timeMs: 100, seq: '20', versionId: 'm' };
    expect(olderThan(read('a', 99, '99'), cursor)).toBe(true);
    expect(olderThan(read('a', 100, '19'), cursor)).toBe(true);
    expect(olderThan(read('a', 100, '20'), cursor)).toBe(true); // same change, smaller version id
    expect(olderThan(read('m', 100, '20'), cursor)).toBe(false); // the cursor itself
    expect(olderThan(read('z', 100, '20'), cursor)).toBe(false);
    expect(olderThan(read('a', 101, '1'), cursor)).toBe(false);
    expect(olderThan(read('a', 1e15), undefined)).toBe(true);
  });

  it('reads newest-written first, delete markers aside, whatever the cursor', () => {
    const versions = [
      version('old', 1_000),
      version('dm', 5_000, true),
      version('new', 3_000),
      version('far', 10_000 + LATE_WRITE_MS),
    ];
    expect(candidateVersions(versions).map((v) => v.versionId)).toEqual(['far', 'new', 'old']);
  });

  it('counts a change final once it is newer than the next unread write plus the skew, each change once', () => {
    const changes = [
      read('a', 10_000, '1'),
      read('b', 10_000, '1'),
      read('c', 12_500, '2'),
      read('d', 13_000, '3'),
    ];
    expect(settledChanges(changes, undefined, 10_000, 2_000)).toBe(2); // c and d
    expect(settledChanges(changes, undefined, 11_000, 2_000)).toBe(0);
    expect(settledChanges(changes, undefined, undefined, 2_000)).toBe(3); // nothing unread: all, a/b once
    expect(settledChanges(changes, { timeMs: 13_000, seq: '3', versionId: 'd' }, 10_000, 2_000)).toBe(1);
  });

  it('round-trips cursors and refuses anything else in one line naming `before`', () => {
    const c = { timeMs: 1_764_000_000_000, seq: '49612345678901234567890', versionId: 'Zx.9-_a' };
    expect(decodeHistoryCursor(encodeHistoryCursor(c))).toEqual(c);
    expect(decodeHistoryCursor(encodeHistoryCursor({ timeMs: 5, versionId: 'v' }))).toEqual({
      timeMs: 5,
      versionId: 'v',
    });
    for (const bad of [
      'nope',
      encodeHistoryCursor({ timeMs: 'x', versionId: 'v' } as never),
      Buffer.from('{"timeMs":1,"versionId":"v","seq":"1e5"}').toString('base64url'),
    ]) {
      expect(() => decodeHistoryCursor(bad)).toThrow(InputError);
      expect(() => decodeHistoryCursor(bad)).toThrow(
        /^Expected `before` to be a cursor .*: open the item page again$/,
      );
    }
  });
});
