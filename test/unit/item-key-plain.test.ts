import { parseKeys, plainKeyText } from '../../core/item-key';
import type { ItemKey } from '../../core/object-key';
import type { TableManifest } from '../../core/table-manifest';

/** A table manifest like the ones other unit tests build, with the given key attributes. */
function manifestOf(
  hash: [string, 'S' | 'N' | 'B'],
  range?: [string, 'S' | 'N' | 'B'],
  tableName = 'orders',
): TableManifest {
  return {
    format: 'ddb-rewind-table/1',
    tableName,
    keySchema: [
      { AttributeName: hash[0], KeyType: 'HASH' },
      ...(range ? [{ AttributeName: range[0], KeyType: 'RANGE' as const }] : []),
    ],
    attributeDefinitions: [
      { AttributeName: hash[0], AttributeType: hash[1] },
      ...(range ? [{ AttributeName: range[0], AttributeType: range[1] }] : []),
    ],
    billingMode: 'PAY_PER_REQUEST',
  };
}

const orders = manifestOf(['pk', 'S'], ['sk', 'N']);
const blobs = manifestOf(['id', 'B'], ['ver', 'S'], 'blobs');
const counters = manifestOf(['n', 'N'], undefined, 'counters');

/** plainKeyText then parseKeys, checking one key comes back. */
function roundTrip(key: ItemKey, names: readonly string[], manifest: TableManifest): ItemKey {
  const text = plainKeyText(key, names);
  const parsed = parseKeys('--key', text, manifest);
  expect(parsed).toHaveLength(1);
  return parsed[0] as ItemKey;
}

describe('plainKeyText', () => {
  it('writes the plain JSON a person types, numbers unquoted with every digit', () => {
    expect(plainKeyText({ pk: { S: 'a' }, sk: { N: '10.50' } }, ['pk', 'sk'])).toBe('{"pk":"a","sk":10.50}');
    expect(plainKeyText({ id: { B: 'AAEC/w==' }, ver: { S: 'v1' } }, ['id', 'ver'])).toBe(
      '{"id":"AAEC/w==","ver":"v1"}',
    );
    expect(plainKeyText({ n: { N: '12345678901234567890123456789012345678' } }, ['n'])).toBe(
      '{"n":12345678901234567890123456789012345678}',
    );
  });

  it('writes attributes in names order, whatever the order of the key object', () => {
    const key: ItemKey = { sk: { N: '7' }, pk: { S: 'a' } };
    expect(plainKeyText(key, ['pk', 'sk'])).toBe('{"pk":"a","sk":7}');
    expect(plainKeyText(key, ['sk', 'pk'])).toBe('{"sk":7,"pk":"a"}');
  });

  it('writes only the named attributes of a fuller image', () => {
    const image: ItemKey = { pk: { S: 'a' }, sk: { N: '1' }, note: { S: 'not a key' } };
    expect(plainKeyText(image, ['pk', 'sk'])).toBe('{"pk":"a","sk":1}');
  });
});

describe('plainKeyText round trips through parseKeys', () => {
  it.each([
    'a',
    'with spaces and "quotes" and \\backslashes\\',
    'line\nbreak\ttab',
    'Zürich ✓ 日本語 🦆',
    '100% {"S":"x"}',
    '123',
    '\u2028\u2029',
  ])('S key %j', (s) => {
    const key: ItemKey = { pk: { S: s }, sk: { N: '1' } };
    const back = roundTrip(key, ['pk', 'sk'], orders);
    expect(back).toEqual(key);
    expect(back.pk).toEqual({ S: s });
  });

  it.each([
    ['0', '0'],
    ['1', '1'],
    ['-17', '-17'],
    ['3.14159', '3.14159'],
    ['12345678901234567890123456789012345678', '12345678901234567890123456789012345678'],
    ['-0.00000000000000000000000000000000000001', '-0.00000000000000000000000000000000000001'],
    ['9.9999999999999999999999999999999999999', '9.9999999999999999999999999999999999999'],
    ['99999999999999999999999999999999999999000000', '99999999999999999999999999999999999999000000'],
  ])('canonical N key %s comes back as is', (n, want) => {
    const key: ItemKey = { pk: { S: 'a' }, sk: { N: n } };
    const back = roundTrip(key, ['pk', 'sk'], orders);
    expect(back.sk).toEqual({ N: want });
    expect(back.pk).toEqual({ S: 'a' });
  });

  it.each([
    ['10.50', '10.5'],
    ['10.00', '10'],
    ['-0', '0'],
    ['1E+3', '1000'],
    ['1.5e-3', '0.0015'],
    ['12345678901234567890123456789012345678.000', '12345678901234567890123456789012345678'],
  ])('N text %s comes back canonical as %s', (n, want) => {
    const back = roundTrip({ n: { N: n } }, ['n'], counters);
    expect(back).toEqual({ n: { N: want } });
    // The canonical form is a fixed point: it round trips to itself.
    expect(roundTrip(back, ['n'], counters)).toEqual(back);
  });

  it('keeps 38 digits a double would round', () => {
    const n = '98765432109876543210987654321098765432';
    expect(String(Number(n))).not.toBe(n);
    expect(roundTrip({ n: { N: n } }, ['n'], counters)).toEqual({ n: { N: n } });
  });

  it.each([
    'AA==',
    'AAEC/w==',
    '3q2+7w==',
    Buffer.from('any bytes \u00ff\u0000', 'latin1').toString('base64'),
  ])('B key %s', (b) => {
    const key: ItemKey = { id: { B: b }, ver: { S: 'v1' } };
    const back = roundTrip(key, ['id', 'ver'], blobs);
    expect(back).toEqual(key);
    expect(back.id).toEqual({ B: b });
  });

  it('parses back in names order, with either order of names', () => {
    const key: ItemKey = { pk: { S: 'a' }, sk: { N: '2.50' } };
    const forward = roundTrip(key, ['pk', 'sk'], orders);
    const reverse = roundTrip(key, ['sk', 'pk'], orders);
    expect(forward).toEqual({ pk: { S: 'a' }, sk: { N: '2.5' } });
    expect(reverse).toEqual(forward);
    expect(Object.keys(forward)).toEqual(['pk', 'sk']);
    expect(Object.keys(reverse)).toEqual(['sk', 'pk']);
  });

  it('is refused by parseKeys when names leave out a key attribute', () => {
    const text = plainKeyText({ pk: { S: 'a' }, sk: { N: '1' } }, ['pk']);
    expect(text).toBe('{"pk":"a"}');
    expect(() => parseKeys('--key', text, orders)).toThrow(
      'Expected `--key` to name exactly the key attributes of table orders (pk, sk), got pk',
    );
  });
});
