import { parseKeys } from '../../core/item-key';
import { prefixesOf, splitPartitions } from '../../core/partition';
import type { TableManifest } from '../../core/table-manifest';
import { assertNotFuture, parseInstant } from '../../core/time-arg';

const manifest: TableManifest = {
  format: 'ddb-rewind-table/1',
  tableName: 'orders',
  keySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  attributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
  ],
  billingMode: 'PAY_PER_REQUEST',
};

describe('parseInstant', () => {
  it('takes ISO-8601 with a zone and epoch milliseconds', () => {
    expect(parseInstant('--at', '2026-03-01T09:00:00Z')).toBe(Date.UTC(2026, 2, 1, 9));
    expect(parseInstant('--at', '2026-03-01T10:00:00.5+01:00')).toBe(Date.UTC(2026, 2, 1, 9, 0, 0, 500));
    expect(parseInstant('--at', '1772355600000')).toBe(1772355600000);
  });
  it.each(['yesterday', '2026-03-01', '2026-03-01T09:00:00', '1772355600', ''])(
    'refuses %p in one line',
    (bad) => {
      expect(() => parseInstant('--at', bad)).toThrow(/^Expected `--at` to be an ISO-8601 time with a zone/);
    },
  );
  it('refuses the future', () => {
    expect(() => assertNotFuture('--at', 10_000, 5_000)).toThrow(/not to be in the future/);
    expect(() => assertNotFuture('--at', 5_500, 5_000)).not.toThrow();
  });
});

describe('partitions', () => {
  it('split the 256 prefixes into contiguous ranges that cover each prefix once', () => {
    for (const n of [1, 3, 16, 256]) {
      const all = splitPartitions(n).flatMap(prefixesOf);
      expect(all).toHaveLength(256);
      expect(new Set(all).size).toBe(256);
    }
    expect(() => splitPartitions(0)).toThrow(/from 1 to 256/);
    expect(() => prefixesOf({ from: 'zz', to: '00' })).toThrow(/two-digit lowercase hex/);
  });
});

describe('parseKeys', () => {
  it('types plain JSON by the table description and keeps every digit', () => {
    expect(parseKeys('--key', '{"pk":"a","sk":12345678901234567890123456789012345678}', manifest)).toEqual([
      { pk: { S: 'a' }, sk: { N: '12345678901234567890123456789012345678' } },
    ]);
  });
  it('takes DynamoDB JSON, arrays and JSON lines', () => {
    expect(parseKeys('--keys', '[{"pk":{"S":"a"},"sk":{"N":"1"}}]', manifest)).toHaveLength(1);
    expect(parseKeys('--keys', '{"pk":"a","sk":1}\n{"pk":"b","sk":2}\n', manifest)).toHaveLength(2);
  });
  it.each([
    ['{"pk":"a"}', /name exactly the key attributes of table orders \(pk, sk\), got pk/],
    ['{"pk":1,"sk":1}', /`pk` in `--key` to be a string/],
    ['{"pk":{"N":"1"},"sk":{"N":"1"}}', /`pk` in `--key` to be of type S/],
    ['not json', /Expected `--key` to be a JSON key object/],
  ])('refuses %s in one line', (text, message) => {
    expect(() => parseKeys('--key', text, manifest)).toThrow(message);
  });
});
