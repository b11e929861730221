import { formatChange, formatValue } from '../../core/history-format';

describe('formatValue', () => {
  it('prints every type exactly and compactly', () => {
    expect(formatValue({ S: 'Zürich "x"' })).toBe('"Zürich \\"x\\""');
    expect(formatValue({ N: '12345678901234567890123456789012345678' })).toBe(
      '12345678901234567890123456789012345678',
    );
    expect(formatValue({ B: 'AAE=' })).toBe('b64:AAE=');
    expect(formatValue({ SS: ['a', 'b'] })).toBe('<<"a", "b">>');
    expect(formatValue({ NS: ['1', '2.5'] })).toBe('<<1, 2.5>>');
    expect(formatValue({ L: [{ NULL: true }, { BOOL: false }] })).toBe('[null, false]');
    expect(formatValue({ M: { a: { M: { b: { N: '1' } } } } })).toBe('{a: {b: 1}}');
  });
});

describe('formatChange', () => {
  it('marks added, removed and changed attributes', () => {
    expect(formatChange({ path: 'a.b', kind: 'added', new: { N: '1' } })).toBe('+ a.b = 1');
    expect(formatChange({ path: 'l[0]', kind: 'removed', old: { S: 'x' } })).toBe('- l[0] (was "x")');
    expect(formatChange({ path: 's', kind: 'changed', old: { S: 'x' }, new: { S: 'y' } })).toBe(
      '~ s: "x" -> "y"',
    );
  });
});
