import type { PackEntry } from '../../core/pack-format';
import {
  changeMatters,
  GUIDE_SLACK_MS,
  guidedKeys,
  guideWindow,
  indexObjectMatters,
  LATE_WRITE_MS,
} from '../../core/pack-guide';

const entry = (objectKey: string): PackEntry => ({
  objectKey,
  versionId: `v-${objectKey}`,
  metadata: {},
  body: '{}',
});
async function* from(entries: PackEntry[]) {
  for (const e of entries) yield e;
}
const walk = async (entries: string[], changed: string[], until?: string) => {
  const out: string[] = [];
  for await (const k of guidedKeys(from(entries.map(entry)), changed, until))
    out.push(`${k.objectKey}:${k.packed ? 'p' : '-'}${k.listed ? 'L' : ''}`);
  return out;
};

describe('guidedKeys: the pack merged with the changed keys, in listing order', () => {
  it('interleaves, marks keys in both, and keeps keys only one side has', async () => {
    expect(await walk(['t/00/b', 't/00/d', 't/00/f'], ['t/00/a', 't/00/d', 't/00/e', 't/00/g'])).toEqual([
      't/00/a:-L',
      't/00/b:p',
      't/00/d:pL',
      't/00/e:-L',
      't/00/f:p',
      't/00/g:-L',
    ]);
  });
  it('stops after `until` on both sides', async () => {
    expect(await walk(['t/00/b', 't/00/d', 't/00/f'], ['t/00/c', 't/00/e'], 't/00/d')).toEqual([
      't/00/b:p',
      't/00/c:-L',
      't/00/d:p',
    ]);
    expect(await walk(['t/00/b'], ['t/00/a', 't/00/c'], 't/00/bb')).toEqual(['t/00/a:-L', 't/00/b:p']);
  });
  it('an empty pack prefix yields only the changed keys, and no changes only the pack', async () => {
    expect(await walk([], ['t/00/a'])).toEqual(['t/00/a:-L']);
    expect(await walk(['t/00/a'], [])).toEqual(['t/00/a:p']);
  });
  it('orders by UTF-8 bytes as S3 lists, not by UTF-16 code units', async () => {
    // U+FF5E sorts after U+1F600 in UTF-16 code units, before it in UTF-8 bytes.
    expect(await walk(['t/00/\u{1F600}'], ['t/00/\uFF5E'])).toEqual(['t/00/\uFF5E:-L', 't/00/\u{1F600}:p']);
  });
});

describe('which index objects and changes a guided read needs', () => {
  const manifest = { createdMs: 1_000_000_000, listedFromMs: 1_000_001_000 };
  const atMs = 1_000_500_000;
  it('a pack without listedFromMs, or made after T, cannot guide', () => {
    expect(guideWindow({ createdMs: 5 }, 10)).toEqual({ reason: expect.stringMatching(/predates/) });
    expect(guideWindow(manifest, manifest.createdMs - 1)).toEqual({ reason: 'the pack was made after T' });
    expect(guideWindow(manifest, atMs)).toEqual({
      sinceMs: manifest.listedFromMs - LATE_WRITE_MS,
      untilMs: atMs + GUIDE_SLACK_MS,
    });
  });
  it('takes objects written after the listings began, or holding a change after the pack, up to T', () => {
    const before = manifest.listedFromMs - 1;
    const old = { firstMs: manifest.createdMs - 3_600_000, lastMs: manifest.createdMs - 1 };
    // A late write: old change times, written after the listings began.
    expect(indexObjectMatters({ span: old, lastModifiedMs: manifest.listedFromMs }, manifest, atMs)).toBe(
      true,
    );
    // Written before, all changes at or before the pack's time: the pack weighed them.
    expect(indexObjectMatters({ span: old, lastModifiedMs: before }, manifest, atMs)).toBe(false);
    // A change after the pack's time, written before the listings began (they started after C).
    const newer = { firstMs: manifest.createdMs - 5, lastMs: manifest.createdMs + 5 };
    expect(indexObjectMatters({ span: newer, lastModifiedMs: before }, manifest, atMs)).toBe(true);
    // Every change after T: nothing to do with a read as of T.
    const later = { firstMs: atMs + GUIDE_SLACK_MS + 1, lastMs: atMs + 10_000 };
    expect(indexObjectMatters({ span: later, lastModifiedMs: atMs + 20_000 }, manifest, atMs)).toBe(false);
    expect(changeMatters(atMs, atMs)).toBe(true);
    expect(changeMatters(atMs + GUIDE_SLACK_MS + 1, atMs)).toBe(false);
  });
});
