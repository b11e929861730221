import { gapsTouching, gapWarning } from '../../core/gaps';

describe('gaps', () => {
  const gaps = [
    { fromMs: 100, toMs: 200, reason: 'stream replaced' },
    { fromMs: 500, toMs: 600, reason: 'records trimmed' },
  ];
  it('finds the gaps an instant or a range touches, ends included', () => {
    expect(gapsTouching(gaps, 150)).toEqual([gaps[0]]);
    expect(gapsTouching(gaps, 200)).toEqual([gaps[0]]);
    expect(gapsTouching(gaps, 300)).toEqual([]);
    expect(gapsTouching(gaps, 0, 1000)).toEqual(gaps);
  });
  it('warns in one line and says to run a backfill', () => {
    const w = gapWarning('orders', [gaps[0] as (typeof gaps)[0]]);
    expect(w).not.toContain('\n');
    expect(w).toMatch(
      /the backup of orders has a gap: 1970-01-01T00:00:00.100Z to .* \(stream replaced\).*run `ddb-rewind backfill`/,
    );
  });
});
