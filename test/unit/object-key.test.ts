import {
  backupLocation,
  decodeObjectKey,
  encodeKey,
  hashPrefixOf,
  type ItemKey,
  isHashedObjectKey,
  objectKeyFor,
} from '../../core/object-key';

const loc = backupLocation('backups', 'orders', 'prod');

describe('objectKeyFor', () => {
  it('is canonical across attribute orders', () => {
    const a = objectKeyFor(loc, { pk: { S: 'user#1' }, sk: { N: '7' } });
    const b = objectKeyFor(loc, { sk: { N: '7' }, pk: { S: 'user#1' } });
    expect(a).toBe(b);
  });

  it('puts equal numbers on one key and typed values on different keys', () => {
    const one = objectKeyFor(loc, { pk: { N: '1' } });
    expect(objectKeyFor(loc, { pk: { N: '1.0' } })).toBe(one);
    expect(objectKeyFor(loc, { pk: { N: '1E0' } })).toBe(one);
    expect(objectKeyFor(loc, { pk: { S: '1' } })).not.toBe(one);
    expect(objectKeyFor(loc, { pk: { B: Buffer.from('1').toString('base64') } })).not.toBe(one);
  });

  it('lays keys out as <prefix><table>/v1/<hh>/<encoded>, readable and without extra folders', () => {
    const key = objectKeyFor(loc, { pk: { S: 'a/b c' }, sk: { N: '-1.50' } });
    expect(key).toMatch(/^prod\/orders\/v1\/[0-9a-f]{2}\/pk=S\.a%2Fb%20c,sk=N\.-1\.5$/);
    expect(key.split('/')).toHaveLength(5);
  });

  it('keeps unicode letters readable', () => {
    expect(objectKeyFor(loc, { pk: { S: 'Zürich 東京' } })).toMatch(/pk=S\.Zürich%20東京$/);
  });

  it('round-trips every key type through decodeObjectKey', () => {
    const keys: ItemKey[] = [
      { pk: { S: 'a/b,c=d%e~f' } },
      { pk: { S: 'emoji 😀' }, sk: { S: '' } },
      { id: { N: '-0.000123' } },
      {
        bin: { B: Buffer.from([0, 255, 1, 2]).toString('base64') },
        n: { N: '12345678901234567890123456789012345678' },
      },
      { 'odd name/with=chars': { S: 'x' } },
    ];
    for (const key of keys) {
      const objectKey = objectKeyFor(loc, key);
      expect(decodeObjectKey(loc, objectKey)).toEqual(key);
    }
  });

  it('stays within 1024 bytes for maximum-length keys and marks them as hashed', () => {
    const key = { pk: { S: 'é'.repeat(1024) }, sk: { S: '/'.repeat(1024) } };
    const objectKey = objectKeyFor(loc, key);
    expect(Buffer.byteLength(objectKey)).toBeLessThanOrEqual(1024);
    expect(isHashedObjectKey(objectKey)).toBe(true);
    expect(decodeObjectKey(loc, objectKey)).toBeUndefined();
    expect(objectKeyFor(loc, { sk: key.sk, pk: key.pk })).toBe(objectKey);
    expect(objectKeyFor(loc, { pk: { S: `${'é'.repeat(1023)}e` }, sk: key.sk })).not.toBe(objectKey);
  });

  it('spreads keys over the 256 hash prefixes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(hashPrefixOf(loc, objectKeyFor(loc, { pk: { N: String(i) } })));
    expect(seen.size).toBe(256);
  });

  it('refuses keys with no attribute, three attributes, or non-key types', () => {
    expect(() => encodeKey({})).toThrow(/1 or 2 attributes/);
    expect(() => encodeKey({ a: { S: 'x' }, b: { S: 'y' }, c: { S: 'z' } })).toThrow(/got 3/);
    expect(() => encodeKey({ a: { BOOL: true } })).toThrow(/Expected key attribute `a` to be a string/);
  });
});

describe('backupLocation', () => {
  it('adds the trailing slash to a prefix', () => {
    expect(backupLocation('backups', 'orders', 'prod').prefix).toBe('prod/');
    expect(backupLocation('backups', 'orders').prefix).toBe('');
  });

  it.each([
    ['Bad_Bucket', 'orders', /--bucket/],
    ['backups', 'x', /--table/],
    ['backups', 'orders', /--prefix/, '/abs'],
  ])('refuses bucket %p table %p with a one-line error', (bucket, table, pattern, prefix = '') => {
    expect(() => backupLocation(bucket, table, prefix)).toThrow(pattern);
  });
});
