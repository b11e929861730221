import { createHash } from 'node:crypto';
import type { AttributeValue as WireValue } from 'aws-lambda';
import { canonicalNumber } from './canonical-number';
import { InputError } from './errors';

/**
 * THE codec between an item's key and its S3 object key. Writer, restore, history, backfill and
 * the CLI all call this module; nothing else builds item object keys.
 *
 * Layout: `<prefix><table>/v1/<hh>/<encoded key>`
 * - `v1` is the scheme version: a future scheme lives beside it, never mixed with it.
 * - `<hh>` is two hex digits of SHA-256(encoded key): 256 prefixes spread S3 load, and restore
 *   lists them in parallel as independent partitions.
 * - `<encoded key>` is `name=T.value` per key attribute, sorted by name, joined by `,`:
 *   T is S, N or B; numbers are canonical (`1.0` and `1E0` are `1`); binary is base64url;
 *   names and strings keep letters, digits and `-_.!*'()` and percent-encode the rest
 *   (so `/` never splits the key into folders). A person can read it in the S3 console.
 * - Keys whose encoding exceeds {@link MAX_ENCODED_BYTES} end in `~<sha256 base64url>` after a
 *   readable stem, to stay within S3's 1024-byte limit; their key is read back from the version's
 *   body and metadata instead of the object key.
 */
export const SCHEME = 'v1';
export const MAX_ENCODED_BYTES = 512;
const STEM_BYTES = 160;
/** Room left for `<prefix><table>/v1/hh/` within S3's 1024-byte object keys. */
const MAX_LOCATION_BYTES = 1024 - MAX_ENCODED_BYTES - `/${SCHEME}/00/`.length;

export type KeyType = 'S' | 'N' | 'B';
export type ItemKey = Record<string, WireValue>;

/** Where one table's backup lives: the bucket and the `<prefix><table>/` folder. */
export interface BackupLocation {
  bucket: string;
  /** '' or a folder ending in '/'. */
  prefix: string;
  table: string;
}

/** Checks and normalizes a backup location; a prefix gets its trailing '/'. */
export function backupLocation(bucket: string, table: string, prefix = ''): BackupLocation {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InputError(
      `Expected \`--bucket\` to be an S3 bucket name (3-63 lowercase letters, digits, '.', '-'), got \`${bucket}\``,
    );
  }
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(table)) {
    throw new InputError(
      `Expected \`--table\` to be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -), got \`${table}\``,
    );
  }
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (folder.startsWith('/'))
    throw new InputError(`Expected \`--prefix\` not to start with '/', got \`${prefix}\``);
  if (Buffer.byteLength(folder + table) > MAX_LOCATION_BYTES) {
    throw new InputError(
      `Expected \`--prefix\` and table name together to be at most ${MAX_LOCATION_BYTES} bytes, got ${Buffer.byteLength(folder + table)}: use a shorter prefix`,
    );
  }
  return { bucket, prefix: folder, table };
}

/** `<prefix><table>/`: everything of one table. */
export const tableRoot = (loc: BackupLocation): string => `${loc.prefix}${loc.table}/`;
/** `<prefix><table>/v1/`: every item object of one table. */
export const itemsRoot = (loc: BackupLocation): string => `${tableRoot(loc)}${SCHEME}/`;
/** `<prefix><table>/_meta/`: the table description and other backup-wide records. */
export const metaRoot = (loc: BackupLocation): string => `${tableRoot(loc)}_meta/`;

/** Two hex digits of a partition: '00' to 'ff'. */
export const HASH_PREFIXES: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

// Kept as is: unambiguous, safe in S3 keys and URLs, and readable. Everything else is %XX (UTF-8).
const KEEP = /^[A-Za-z0-9\-_.!*'()\p{L}\p{N}]$/u;

function escapeText(text: string): string {
  let out = '';
  // encodeURIComponent leaves `~` alone; it marks hashed keys here, so it is escaped too.
  for (const ch of text) out += KEEP.test(ch) ? ch : encodeURIComponent(ch).replace('~', hexByte);
  return out;
}
const hexByte = (ch: string): string => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

function keyValue(name: string, value: WireValue): [KeyType, string] {
  if (value.S !== undefined) return ['S', escapeText(value.S)];
  if (value.N !== undefined) return ['N', canonicalNumber(value.N)];
  if (value.B !== undefined) return ['B', Buffer.from(value.B, 'base64').toString('base64url')];
  throw new InputError(
    `Expected key attribute \`${name}\` to be a string (S), number (N) or binary (B), got ${JSON.stringify(value)}`,
  );
}

// Sorting by UTF-8 bytes rather than UTF-16 code units: the order is the same in any language.
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The full, canonical encoding of an item key (before any length fallback). */
export function encodeKey(key: ItemKey): string {
  const names = Object.keys(key).sort(byUtf8);
  if (names.length === 0 || names.length > 2) {
    throw new InputError(
      `Expected an item key of 1 or 2 attributes (partition key and optional sort key), got ${names.length}`,
    );
  }
  return names
    .map((name) => {
      const [type, value] = keyValue(name, key[name] as WireValue);
      return `${escapeText(name)}=${type}.${value}`;
    })
    .join(',');
}

/** `<hh>` for an encoded key. */
export const hashPrefix = (encoded: string): string =>
  createHash('sha256').update(encoded).digest('hex').slice(0, 2);

/** The object key of one item's backup. Canonical: any attribute order gives the same result. */
export function objectKeyFor(loc: BackupLocation, key: ItemKey): string {
  const encoded = encodeKey(key);
  return `${itemsRoot(loc)}${hashPrefix(encoded)}/${shorten(encoded)}`;
}

function shorten(encoded: string): string {
  if (Buffer.byteLength(encoded) <= MAX_ENCODED_BYTES) return encoded;
  let stem = '';
  for (const ch of encoded) {
    if (Buffer.byteLength(stem + ch) > STEM_BYTES) break;
    stem += ch;
  }
  // Never cut a %XX escape in half: the stem stays decodable text.
  stem = stem.replace(/%[0-9A-F]?$/, '');
  return `${stem}~${createHash('sha256').update(encoded).digest('base64url')}`;
}

/** True for object keys of the long form, whose item key lives in the version body instead. */
export const isHashedObjectKey = (objectKey: string): boolean =>
  (objectKey.split('/').pop() ?? '').includes('~');

/**
 * Reads the item key back from an object key, without the table schema. Returns undefined for
 * the long (hashed) form: read `rw-key-names` metadata and the body then.
 */
export function decodeObjectKey(loc: BackupLocation, objectKey: string): ItemKey | undefined {
  const root = itemsRoot(loc);
  if (!objectKey.startsWith(root)) {
    throw new InputError(`Object key \`${objectKey}\` is not under this backup's folder \`${root}\``);
  }
  const encoded = objectKey.slice(root.length + 3);
  if (isHashedObjectKey(encoded)) return undefined;
  const key: ItemKey = {};
  for (const part of encoded.split(',')) {
    const eq = part.indexOf('=');
    const name = decodeURIComponent(part.slice(0, eq));
    const type = part.charAt(eq + 1);
    const value = part.slice(eq + 3);
    if (type === 'S') key[name] = { S: decodeURIComponent(value) };
    else if (type === 'N') key[name] = { N: value };
    else if (type === 'B') key[name] = { B: Buffer.from(value, 'base64url').toString('base64') };
    else throw new InputError(`Object key \`${objectKey}\` is not a ddb-rewind ${SCHEME} item key`);
  }
  return key;
}

/** Which hash prefix an object key is in ('00'..'ff'). */
export function hashPrefixOf(loc: BackupLocation, objectKey: string): string {
  return objectKey.slice(itemsRoot(loc).length, itemsRoot(loc).length + 2);
}
