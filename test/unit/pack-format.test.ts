import { gzipSync } from 'node:zlib';
import {
  Chunker,
  choosePack,
  compareObjectKeys,
  createdMsOfPackId,
  decodeChunk,
  encodeChunk,
  type PackEntry,
  packIdOf,
} from '../../core/pack-format';

const entry = (objectKey: string, body = '{"pk":{"S":"x"}}'): PackEntry => ({
  objectKey,
  versionId: `v-${objectKey}`,
  metadata: { 'rw-time': '1000', 'rw-event': 'INSERT' },
  body,
});

describe('pack ids', () => {
  it('round-trip an instant and sort as time does', () => {
    const ms = Date.parse('2026-11-28T01:02:03.456Z');
    expect(packIdOf(ms)).toBe('2026-11-28T01-02-03.456Z');
    expect(createdMsOfPackId(packIdOf(ms))).toBe(ms);
    expect(packIdOf(ms) < packIdOf(ms + 1)).toBe(true);
    expect(createdMsOfPackId('not-a-pack')).toBeUndefined();
  });

  it('prefer the newest pack at or before T, then the oldest after it, ignoring foreign folders', () => {
    const ids = [1000, 5000, 3000, 9000, 7000].map(packIdOf).concat(['junk']);
    expect(choosePack(ids, 6000)).toEqual([5000, 3000, 1000, 7000, 9000].map(packIdOf));
    expect(choosePack(ids, 500)).toEqual([1000, 3000, 5000, 7000, 9000].map(packIdOf));
    expect(choosePack([], 500)).toEqual([]);
  });
});

describe('pack chunks', () => {
  it('round-trip entries exactly, bodies untouched', () => {
    const entries = [entry('t/v1/00/a', '{"n":{"N":"1.50"},"s":{"S":"ü\\n"}}'), entry('t/v1/00/b')];
    expect(decodeChunk(encodeChunk(entries))).toEqual(entries);
  });

  it('refuse a damaged chunk rather than return wrong entries', () => {
    const data = encodeChunk([entry('t/v1/00/a')]);
    const damaged = Buffer.from(data);
    damaged[damaged.length - 6] = (damaged[damaged.length - 6] as number) ^ 0xff; // inside the CRC
    expect(() => decodeChunk(damaged)).toThrow();
    expect(() => decodeChunk(gzipSync('{"objectKey":"k"}\n'))).toThrow(/damaged/);
  });

  it('split in order at about the byte limit, never empty', () => {
    const line = Buffer.byteLength(JSON.stringify(entry('k0', 'x'.repeat(300)))) + 1;
    const chunker = new Chunker(Math.floor(line * 2.5));
    const full: PackEntry[][] = [];
    for (let i = 0; i < 10; i++) {
      const out = chunker.add(entry(`k${i}`, 'x'.repeat(300)));
      if (out) full.push(out);
    }
    const last = chunker.take();
    if (last) full.push(last);
    expect(full.map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
    expect(full.flat().map((e) => e.objectKey)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    expect(chunker.take()).toBeUndefined();
    // One entry larger than the limit still gets a chunk of its own.
    const big = new Chunker(10);
    expect(big.add(entry('a', 'x'.repeat(50)))).toBeUndefined();
    expect(big.add(entry('b'))?.map((e) => e.objectKey)).toEqual(['a']);
  });
});

describe('object key order', () => {
  it("is S3's UTF-8 byte order, which differs from JS string order above the BMP", () => {
    const astral = 'k\u{1F600}'; // surrogate pair: UTF-16 0xD83D < 0xFF61, UTF-8 0xF0 > 0xEF
    const halfwidth = 'k\uFF61';
    expect(astral < halfwidth).toBe(true);
    expect(compareObjectKeys(astral, halfwidth)).toBeGreaterThan(0);
    expect(compareObjectKeys('a', 'b')).toBeLessThan(0);
    expect(compareObjectKeys('same', 'same')).toBe(0);
  });
});
