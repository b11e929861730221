import { InputError } from './errors';
import { type Partition, prefixesOf } from './partition';

/**
 * Where the next page of a table listing starts: the hash-prefix ranges still to read, as URL-safe
 * text, so a "next page" link is a plain, shareable URL and the server keeps no state per reader.
 */
export function encodeCursor(ranges: readonly Partition[]): string {
  return Buffer.from(JSON.stringify(ranges), 'utf8').toString('base64url');
}

/** Reads a cursor back; anything else is refused in one line. */
export function decodeCursor(text: string): Partition[] {
  const refuse = () =>
    new InputError(
      `Expected \`after\` to be a cursor from a table page's "next page" link, got \`${text.slice(0, 40)}\`: open the table page again`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw refuse();
  return parsed.map((r: unknown) => {
    const p = r as Partial<Record<keyof Partition, unknown>>;
    const textOrAbsent = (v: unknown) => v === undefined || typeof v === 'string';
    if (typeof p !== 'object' || p === null || typeof p.from !== 'string' || typeof p.to !== 'string')
      throw refuse();
    if (!textOrAbsent(p.after) || !textOrAbsent(p.until)) throw refuse();
    const range = p as Partition;
    try {
      prefixesOf(range);
    } catch {
      throw refuse();
    }
    return range;
  });
}
