import { canonicalNumber } from '../../core/canonical-number';

describe('canonicalNumber', () => {
  it.each([
    ['1', '1'],
    ['1.0', '1'],
    ['1E0', '1'],
    ['+01.00', '1'],
    ['-0', '0'],
    ['0.000', '0'],
    ['-0012.3400E+2', '-1234'],
    ['1e-3', '0.001'],
    ['12.5e1', '125'],
    ['1E+2', '100'],
    ['.5', '0.5'],
    ['5.', '5'],
  ])('writes %s as %s', (input, expected) => {
    expect(canonicalNumber(input)).toBe(expected);
  });

  it('keeps all 38 significant digits', () => {
    const n = '12345678901234567890123456789012345678';
    expect(canonicalNumber(n)).toBe(n);
    expect(canonicalNumber(`0.${n}`)).toBe(`0.${n}`);
    expect(canonicalNumber(`${n}E-38`)).toBe(`0.${n}`);
  });

  it('handles the extremes of DynamoDB magnitude', () => {
    expect(canonicalNumber('1E125')).toBe(`1${'0'.repeat(125)}`);
    expect(canonicalNumber('1E-130')).toBe(`0.${'0'.repeat(129)}1`);
  });

  it.each(['', 'abc', '1..2', '--1', 'E5', '0x10'])('refuses %p with a one-line error', (bad) => {
    expect(() => canonicalNumber(bad)).toThrow(/^Expected a DynamoDB number, got `.*`$/);
  });
});
