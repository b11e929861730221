import {
  assertCovered,
  coveredRange,
  splitConcurrency,
  splitRange,
  uncoveredPrefixes,
} from '../../core/job-parts';
import { mergePackParts, PACK_FORMAT } from '../../core/pack-format';
import { splitPartitions, WHOLE } from '../../core/partition';

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

describe('coverage', () => {
  it('a run covers its range up to the prefix before where the deadline stopped it', () => {
    expect(coveredRange({ from: '10', to: '1f' })).toEqual({ from: '10', to: '1f' });
    expect(coveredRange({ from: '10', to: '1f' }, '14')).toEqual({ from: '10', to: '13' });
    expect(coveredRange({ from: '10', to: '1f' }, '10')).toBeUndefined();
  });

  it('finish refuses while a planned prefix has no result, naming the prefixes', () => {
    const planned = splitPartitions(2);
    const first = { from: '00', to: '7f' };
    expect(uncoveredPrefixes(planned, [first, { from: '80', to: 'fd' }])).toEqual(['fe', 'ff']);
    expect(() =>
      assertCovered({ job: 'pack', jobId: 'pack-x' }, planned, [first, { from: '80', to: 'bf' }, undefined]),
    ).toThrow(/^The pack job pack-x cannot finish: .*hash prefixes c0\.\.ff \(64\)/);
    // A continuation's result covers the rest.
    expect(() =>
      assertCovered({ job: 'pack', jobId: 'pack-x' }, planned, [
        first,
        { from: '80', to: 'bf' },
        { from: 'c0', to: 'ff' },
      ]),
    ).not.toThrow();
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
});
