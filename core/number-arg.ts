import { InputError } from './errors';

/**
 * The one parser for numbers that come from outside: CLI flags, environment variables, Lambda
 * events. `name` is how the user gave it (`--concurrency`, `WRITER_CONCURRENCY`, `concurrency`
 * in the restore event), so the error says exactly what to change.
 *
 * @example wholeNumber('--concurrency', '32', { min: 1, max: 1024 }) // 32
 */
export function wholeNumber(
  name: string,
  value: string | number | undefined,
  range: { min: number; max: number; fallback?: number },
): number {
  if (value === undefined || value === '') {
    if (range.fallback !== undefined) return range.fallback;
    throw new InputError(
      `Expected \`${name}\` to be set to a whole number from ${range.min} to ${range.max}`,
    );
  }
  const text = String(value).trim();
  // Number('') is 0 and Number('0x10') is 16: accept plain decimal digits only.
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new InputError(
      `Expected \`${name}\` to be a whole number from ${range.min} to ${range.max}, got \`${String(value)}\``,
    );
  }
  return n;
}
