import type { ChangeMeta } from '../../core/change-record';
import { itemSpan } from '../../core/item-span';
import type { ListedVersion } from '../../core/select-version';

/** One item's listing (given oldest first, returned newest first as S3 lists it) and its metas. */
function listing(
  entries: Array<{ id: string; time?: number; event?: ChangeMeta['event']; marker?: boolean }>,
) {
  const metas = new Map<string, ChangeMeta>();
  const versions: ListedVersion[] = entries.map((e, i) => {
    if (!e.marker)
      metas.set(e.id, { timeMs: e.time ?? 0, event: e.event ?? 'MODIFY', cause: 'user', keyNames: ['pk'] });
    return { versionId: e.id, lastModifiedMs: 1000 + i, isDeleteMarker: Boolean(e.marker) };
  });
  const reads: string[] = [];
  const readMeta = async (v: ListedVersion) => {
    reads.push(v.versionId);
    return metas.get(v.versionId);
  };
  const chosen = (id: string) => ({
    version: versions.find((v) => v.versionId === id) as ListedVersion,
    meta: metas.get(id),
  });
  return { versions: versions.reverse(), readMeta, reads, chosen };
}

// insert 10, modify 20, remove 30 (tombstone + marker), insert 40, modify 50
const life = () =>
  listing([
    { id: 'a', time: 10, event: 'INSERT' },
    { id: 'b', time: 20 },
    { id: 'c', time: 30, event: 'REMOVE' },
    { id: 'm', marker: true },
    { id: 'd', time: 40, event: 'INSERT' },
    { id: 'e', time: 50 },
  ]);

describe('itemSpan', () => {
  it('present at T: the life began with the first version after the last delete marker', async () => {
    const h = life();
    expect(await itemSpan(h.versions, h.chosen('e'), 55, h.readMeta)).toEqual({ existedFromMs: 40 });
    expect(h.reads).toEqual(['d']);
  });

  it('present at T in its first life: since its first version, next change the one after T', async () => {
    const h = life();
    expect(await itemSpan(h.versions, h.chosen('b'), 25, h.readMeta)).toEqual({
      existedFromMs: 10,
      nextChangeMs: 30,
    });
  });

  it('absent at T after a delete: until the delete, and when it came back', async () => {
    const h = life();
    expect(await itemSpan(h.versions, h.chosen('c'), 35, h.readMeta)).toEqual({
      existedUntilMs: 30,
      nextChangeMs: 40,
    });
  });

  it('before its first change: only the next change', async () => {
    const h = life();
    expect(await itemSpan(h.versions, undefined, 5, h.readMeta)).toEqual({ nextChangeMs: 10 });
    expect(h.reads).toEqual(['a']);
  });

  it('skips a redelivered copy of an earlier change when looking for the next one', async () => {
    const h = listing([
      { id: 'a', time: 10, event: 'INSERT' },
      { id: 'a2', time: 10, event: 'INSERT' },
      { id: 'b', time: 20 },
    ]);
    expect(await itemSpan(h.versions, h.chosen('a'), 15, h.readMeta)).toEqual({
      existedFromMs: 10,
      nextChangeMs: 20,
    });
  });
});
