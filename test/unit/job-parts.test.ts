import {
  assertCovered,
  splitByKeys,
  splitConcurrency,
  splitRange,
  uncoveredRanges,
} from '../../core/job-parts';
import { mergePackParts, PACK_FORMAT } from '../../core/pack-format';
import { compactRanges, inKeyRange, prefixRanges, splitPartitions, WHOLE } from '../../core/partition';

describe('splitRange', () => {
  it('splits the whole table exactly as splitPartitions does', () => {
    for (const n of [1, 3, 16, 256]) expect(splitRange(WHOLE, n)).toEqual(splitPartitions(n));
  });

  it('splits a sampled range, never into empty ranges', () => {
    expect(splitRange({ from: '00', to: '02' }, 16)).toEqual([
      { from: '00', to: '00' },
      { from: '01', to: '01' },
      { from: '02', to: '02' },
    ]);
    expect(splitRange({ from: '00', to: '19' }, 2)).toEqual([
      { from: '00', to: '0c' },
      { from: '0d', to: '19' },
    ]);
    expect(() => splitRange(WHOLE, 0)).toThrow(/whole number from 1 to 256/);
  });
});

describe('splitByKeys', () => {
  const chunks = (hh: string) => Array.from({ length: 8 }, (_, i) => `t/v1/${hh}/k${i}`);

  it('is splitRange up to one partition per prefix, and needs a pack beyond', () => {
    expect(splitByKeys(WHOLE, 16)).toEqual(splitRange(WHOLE, 16));
    expect(() => splitByKeys(WHOLE, 512)).toThrow(
      /^Expected at most 256 partitions without a pack: .*ddb-rewind pack/,
    );
    expect(() => splitByKeys(WHOLE, 10_001, chunks)).toThrow(/whole number from 1 to 10000/);
  });

  it('cuts each prefix at its chunk boundaries into tasks that cover it end to end', () => {
    const parts = splitByKeys(WHOLE, 1000, chunks);
    expect(parts.length).toBe(1000);
    // 1000 = 256 x 3 + 232: the first 232 prefixes in 4 pieces, the others in 3.
    expect(parts.slice(0, 4)).toEqual([
      { from: '00', to: '00', until: 't/v1/00/k1' },
      { from: '00', to: '00', after: 't/v1/00/k1', until: 't/v1/00/k3' },
      { from: '00', to: '00', after: 't/v1/00/k3', until: 't/v1/00/k5' },
      { from: '00', to: '00', after: 't/v1/00/k5' },
    ]);
    expect(uncoveredRanges([WHOLE], [parts])).toEqual([]);
    expect(uncoveredRanges([WHOLE], [parts.filter((_, i) => i !== 500)]).map((u) => u.hh)).toHaveLength(1);
  });

  it('gives a prefix with fewer chunks fewer pieces, and one with none a single piece', () => {
    const few = (hh: string) => (hh === '00' ? ['t/v1/00/a'] : []);
    const parts = splitByKeys({ from: '00', to: '01' }, 8, few);
    expect(parts).toEqual([
      { from: '00', to: '00' },
      { from: '01', to: '01' },
    ]);
  });
});

describe('coverage', () => {
  const hhs = (
    planned: Parameters<typeof uncoveredRanges>[0],
    covered: Parameters<typeof uncoveredRanges>[1],
  ) => uncoveredRanges(planned, covered).map((u) => u.hh);

  it('finish refuses while a planned prefix has no result, naming the prefixes', () => {
    const planned = splitPartitions(2);
    const first = [{ from: '00', to: '7f' }];
    expect(hhs(planned, [first, [{ from: '80', to: 'fd' }]])).toEqual(['fe', 'ff']);
    expect(() =>
      assertCovered({ job: 'pack', jobId: 'pack-x' }, planned, [
        first,
        [{ from: '80', to: 'bf' }],
        undefined,
      ]),
    ).toThrow(/^The pack job pack-x cannot finish: .*hash prefixes c0\.\.ff \(64\)/);
    // A continuation's result covers the rest.
    expect(() =>
      assertCovered({ job: 'pack', jobId: 'pack-x' }, planned, [
        first,
        [{ from: '80', to: 'bf' }],
        [{ from: 'c0', to: 'ff' }],
      ]),
    ).not.toThrow();
  });

  it('a prefix cut by a deadline is covered only when its cuts follow on to its end', () => {
    const planned = [{ from: '10', to: '11' }];
    const head = { from: '10', to: '10', until: 'k5' };
    expect(hhs(planned, [[head], [{ from: '11', to: '11' }]])).toEqual(['10']);
    // The continuation starts after the last key handled: covered end to end.
    expect(hhs(planned, [[head], [{ from: '10', to: '11', after: 'k5' }]])).toEqual([]);
    // A continuation that starts later leaves a hole; one that starts earlier overlaps, which is fine.
    expect(hhs(planned, [[head], [{ from: '10', to: '11', after: 'k7' }]])).toEqual(['10']);
    expect(hhs(planned, [[head], [{ from: '10', to: '11', after: 'k3' }]])).toEqual([]);
    // Three runs, out of order.
    expect(
      hhs(planned, [
        [{ from: '10', to: '11', after: 'k8' }],
        [head],
        [{ from: '10', to: '10', after: 'k5', until: 'k8' }],
      ]),
    ).toEqual([]);
  });

  it('a planned cut of a prefix (one of several tasks sharing it) needs only its own keys', () => {
    const planned = [{ from: '10', to: '10', after: 'a', until: 'm' }];
    expect(hhs(planned, [[{ from: '10', to: '10', after: 'a', until: 'm' }]])).toEqual([]);
    expect(
      hhs(planned, [
        [{ from: '10', to: '10', after: 'a', until: 'f' }],
        [{ from: '10', to: '10', after: 'f', until: 'm' }],
      ]),
    ).toEqual([]);
    expect(hhs(planned, [[{ from: '10', to: '10', after: 'b', until: 'm' }]])).toEqual(['10']);
    expect(hhs(planned, [[{ from: '10', to: '10', after: 'a', until: 'k' }]])).toEqual(['10']);
    expect(hhs(planned, [[{ from: '10', to: '10' }]])).toEqual([]);
  });
});

describe('prefix ranges', () => {
  it('spreads the cut ends of a range over its first and last prefix only', () => {
    expect(prefixRanges([{ from: '0e', to: '10', after: 'x', until: 'y' }])).toEqual([
      { hh: '0e', after: 'x' },
      { hh: '0f' },
      { hh: '10', until: 'y' },
    ]);
    expect(prefixRanges([{ from: '0e', to: '0e', after: 'x', until: 'y' }])).toEqual([
      { hh: '0e', after: 'x', until: 'y' },
    ]);
  });

  it('compacts consecutive prefixes with no cut between them, and back again', () => {
    const units = [
      { hh: '0e', after: 'x' },
      { hh: '0f' },
      { hh: '10', until: 'y' },
      { hh: '12' },
      { hh: '13' },
    ];
    const compact = compactRanges(units);
    expect(compact).toEqual([
      { from: '0e', to: '10', after: 'x', until: 'y' },
      { from: '12', to: '13' },
    ]);
    expect(prefixRanges(compact)).toEqual(units);
    expect(compactRanges([{ hh: '0e', until: 'k' }, { hh: '0f' }])).toEqual([
      { from: '0e', to: '0e', until: 'k' },
      { from: '0f', to: '0f' },
    ]);
  });

  it('bounds keys in S3 listing order (UTF-8 bytes), after exclusive and until inclusive', () => {
    expect(inKeyRange('k5', { after: 'k5' })).toBe(false);
    expect(inKeyRange('k5', { until: 'k5' })).toBe(true);
    expect(inKeyRange('k6', { after: 'k5', until: 'k7' })).toBe(true);
    // U+FF61 sorts before U+1F600 in UTF-8, after it in UTF-16.
    expect(inKeyRange('\u{1F600}', { after: '\uFF61' })).toBe(true);
  });
});

describe('splitConcurrency', () => {
  it('keeps the total of requests in flight at --concurrency', () => {
    expect(splitConcurrency(32, 1)).toEqual({ tasksAtOnce: 1, perTask: 32 });
    expect(splitConcurrency(32, 16)).toEqual({ tasksAtOnce: 4, perTask: 8 });
    expect(splitConcurrency(2, 16)).toEqual({ tasksAtOnce: 2, perTask: 1 });
    expect(splitConcurrency(1, 3)).toEqual({ tasksAtOnce: 1, perTask: 1 });
  });
});

describe('mergePackParts', () => {
  it('joins the partitions shares of pack.json, counts added', () => {
    const manifest = mergePackParts('orders', 1234, [
      { prefixes: { '90': { lastKeys: ['c'] }, '80': { lastKeys: ['a', 'b'] } }, items: 3, reused: 1 },
      { prefixes: { '00': { lastKeys: ['z'] } }, items: 1, reused: 0 },
    ]);
    expect(manifest).toEqual({
      format: PACK_FORMAT,
      table: 'orders',
      createdMs: 1234,
      prefixes: { '00': { lastKeys: ['z'] }, '80': { lastKeys: ['a', 'b'] }, '90': { lastKeys: ['c'] } },
      items: 4,
      reused: 1,
    });
  });

  it('joins the pieces of a prefix written by a task and its continuations, in chunk order', () => {
    const manifest = mergePackParts('orders', 1234, [
      { prefixes: { '80': { lastKeys: ['c'], firstChunk: 2 } }, items: 1, reused: 0 },
      { prefixes: { '80': { lastKeys: ['a', 'b'] } }, items: 2, reused: 0 },
    ]);
    expect(manifest.prefixes).toEqual({ '80': { lastKeys: ['a', 'b', 'c'] } });
    expect(() =>
      mergePackParts('orders', 1234, [
        { prefixes: { '80': { lastKeys: ['c'], firstChunk: 3 } }, items: 1, reused: 0 },
        { prefixes: { '80': { lastKeys: ['a', 'b'] } }, items: 2, reused: 0 },
      ]),
    ).toThrow(/do not follow on: chunk 3 after 2/);
  });
});
