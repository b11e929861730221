import type { ChangeMeta } from '../../core/change-record';
import { compareChanges, type ListedVersion, outrankingVersion, selectAsOf } from '../../core/select-version';

/** A version history for one item: oldest first here, reversed into S3's newest-first order. */
function history(
  entries: Array<{
    id: string;
    lm: number;
    time?: number;
    seq?: string;
    etag?: string;
    dm?: boolean;
    event?: ChangeMeta['event'];
    moved?: boolean;
    scan?: number;
  }>,
) {
  const metas = new Map<string, ChangeMeta>();
  const versions: ListedVersion[] = entries.map((e) => {
    if (!e.dm) {
      metas.set(e.id, {
        timeMs: e.time ?? e.lm,
        event: e.event ?? 'MODIFY',
        cause: 'user',
        keyNames: ['pk'],
        ...(e.seq ? { seq: e.seq } : {}),
        ...(e.moved ? { moved: true } : {}),
        ...(e.scan !== undefined ? { scanMs: e.scan } : {}),
      });
    }
    return {
      versionId: e.id,
      lastModifiedMs: e.lm,
      isDeleteMarker: Boolean(e.dm),
      ...(e.dm ? {} : { etag: e.etag ?? `"${e.id}"` }),
    };
  });
  const reads: string[] = [];
  const readMeta = async (v: ListedVersion) => {
    reads.push(v.versionId);
    return metas.get(v.versionId);
  };
  return { versions: versions.reverse(), readMeta, reads };
}

const opts = { clockSkewMs: 0 };

describe('selectAsOf', () => {
  it('takes versions written at or before T without reading them', async () => {
    const h = history([
      { id: 'a', lm: 100, time: 90, seq: '1' },
      { id: 'b', lm: 200, time: 190, seq: '2' },
      { id: 'c', lm: 300, time: 290, seq: '3' },
    ]);
    const s = await selectAsOf(h.versions, 250, opts, h.readMeta);
    expect(s?.version.versionId).toBe('b');
    expect(h.reads).toEqual(['c']);
  });

  it('is exact when the writer lagged: LastModified far after the change times', async () => {
    const h = history([
      { id: 'a', lm: 10_000, time: 100, seq: '1' },
      { id: 'b', lm: 10_001, time: 200, seq: '2' },
      { id: 'c', lm: 10_002, time: 300, seq: '3' },
    ]);
    expect((await selectAsOf(h.versions, 250, opts, h.readMeta))?.version.versionId).toBe('b');
    expect((await selectAsOf(h.versions, 50, opts, h.readMeta))?.version.versionId).toBeUndefined();
    expect((await selectAsOf(h.versions, 300, opts, h.readMeta))?.version.versionId).toBe('c');
  });

  it('includes every change of the second that holds T (times are whole seconds)', async () => {
    const h = history([
      { id: 'a', lm: 5000, time: 1000, seq: '1' },
      { id: 'b', lm: 5001, time: 2000, seq: '2' },
      { id: 'c', lm: 5002, time: 2000, seq: '3' },
    ]);
    expect((await selectAsOf(h.versions, 2000, opts, h.readMeta))?.version.versionId).toBe('c');
    expect((await selectAsOf(h.versions, 1999, opts, h.readMeta))?.version.versionId).toBe('a');
  });

  it('counts a redelivered change once, even when its copy is the newest version before T', async () => {
    // Writer crashed after b; the retry wrote a and b again: a' lands before T, b' after it.
    const h = history([
      { id: 'a', lm: 100, time: 90, seq: '1', etag: '"A"' },
      { id: 'b', lm: 110, time: 105, seq: '2', etag: '"B"' },
      { id: 'a2', lm: 120, time: 90, seq: '1', etag: '"A"' },
      { id: 'b2', lm: 400, time: 105, seq: '2', etag: '"B"' },
    ]);
    expect((await selectAsOf(h.versions, 130, opts, h.readMeta))?.version.versionId).toBe('b');
  });

  it('ignores delete markers and returns the tombstone for a delete', async () => {
    const h = history([
      { id: 'a', lm: 100, seq: '1' },
      { id: 't', lm: 200, seq: '2', event: 'REMOVE' },
      { id: 'dm', lm: 200, dm: true },
    ]);
    expect((await selectAsOf(h.versions, 250, opts, h.readMeta))?.version.versionId).toBe('t');
  });

  it('treats versions within the clock skew bound as unknown and reads them', async () => {
    const h = history([
      { id: 'a', lm: 100, time: 100, seq: '1' },
      { id: 'b', lm: 240, time: 260, seq: '2' },
    ]);
    const s = await selectAsOf(h.versions, 250, { clockSkewMs: 30 }, h.readMeta);
    expect(s?.version.versionId).toBe('a');
    expect(h.reads).toEqual(['b']);
  });
});

describe('outrankingVersion', () => {
  const check = async (h: ReturnType<typeof history>, atMs: number) => {
    const top = h.versions.find((v) => !v.isDeleteMarker) as ListedVersion;
    const meta = (await h.readMeta(top)) as ChangeMeta;
    h.reads.length = 0;
    return outrankingVersion(h.versions, { version: top, meta }, { ...opts, atMs }, h.readMeta);
  };

  it('finds the delete a backfill version landed on top of, reading only versions written after the scan', async () => {
    const h = history([
      { id: 'old', lm: 1_000, time: 900, seq: '1' },
      { id: 'del', lm: 60_500, time: 60_400, seq: '2', event: 'REMOVE' },
      { id: 'dm', lm: 60_501, dm: true },
      { id: 'bf', lm: 60_600, time: 60_000, event: 'BACKFILL' },
    ]);
    const better = await check(h, 70_000);
    expect(better?.version.versionId).toBe('del');
    expect(better?.meta.event).toBe('REMOVE');
    expect(h.reads).toEqual(['del']);
  });

  it('picks the latest of several outranking changes, and none after T', async () => {
    const h = history([
      { id: 'x', lm: 60_100, time: 60_050, seq: '5' },
      { id: 'y', lm: 60_200, time: 60_150, seq: '6' },
      { id: 'z', lm: 60_300, time: 61_000, seq: '7' },
      { id: 'moved', lm: 60_400, time: 60_000, seq: '4', moved: true },
    ]);
    expect((await check(h, 70_000))?.version.versionId).toBe('z');
    expect((await check(h, 60_500))?.version.versionId).toBe('y');
  });

  it('leaves out changes written before the scan, though they rank above it in the same rounded minute', async () => {
    const h = history([
      { id: 'seen', lm: 30_000, time: 0, seq: '3' },
      { id: 'late', lm: 52_500, time: 0, seq: '4', event: 'REMOVE' },
      { id: 'bf', lm: 52_000, time: 0, scan: 50_000, event: 'BACKFILL' },
    ]);
    const better = await check(h, 70_000);
    expect(better?.version.versionId).toBe('late');
    expect(h.reads).toEqual(['late']);
  });

  it('keeps a backfill version that no later change outranks', async () => {
    const h = history([
      { id: 'before', lm: 59_000, time: 59_000, seq: '3' },
      { id: 'bf', lm: 60_600, time: 60_000, event: 'BACKFILL' },
    ]);
    expect(await check(h, 70_000)).toBeUndefined();
    expect(h.reads).toEqual(['before']);
  });
});

describe('compareChanges', () => {
  const m = (timeMs: number, seq?: string): ChangeMeta => ({
    timeMs,
    event: seq ? 'MODIFY' : 'BACKFILL',
    cause: seq ? 'user' : 'backfill',
    keyNames: [],
    ...(seq ? { seq } : {}),
  });
  it('orders by time, then backfill before stream, then sequence number as an integer', () => {
    expect(compareChanges(m(1), m(2))).toBeLessThan(0);
    expect(compareChanges(m(5), m(5, '1'))).toBeLessThan(0);
    expect(compareChanges(m(5, '99'), m(5, '100'))).toBeLessThan(0);
    expect(
      compareChanges(m(5, '100000000000000000000000001'), m(5, '100000000000000000000000000')),
    ).toBeGreaterThan(0);
  });
});
