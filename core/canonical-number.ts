import { InputError } from './errors';

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * DynamoDB's canonical text of a number: `1`, `1.0`, `1E0` and `+01.00` are one value and one
 * item key, so they must give one string. Works on the decimal text only: a JS double never
 * touches it (38 significant digits do not fit in one).
 *
 * @example canonicalNumber('-0012.3400E+2') // '-1234'
 */
export function canonicalNumber(text: string): string {
  const match = NUMBER.exec(text.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new InputError(`Expected a DynamoDB number, got \`${text}\``);
  }
  const sign = match[1] === '-' ? '-' : '';
  const intPart = match[2] ?? '';
  const fracPart = match[3] ?? '';
  const exponent = Number.parseInt(match[4] ?? '0', 10);
  // value = 0.<digits> is avoided: treat as integer digits with the point `pointAt` from the left.
  let digits = intPart + fracPart;
  let pointAt = intPart.length + exponent;
  const lead = digits.search(/[1-9]/);
  if (lead === -1) return '0';
  digits = digits.slice(lead);
  pointAt -= lead;
  digits = digits.replace(/0+$/, '');
  let body: string;
  if (pointAt <= 0) body = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) body = digits + '0'.repeat(pointAt - digits.length);
  else body = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return sign + body;
}
