import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalItemJson, type WireItem } from './ddb-json';
import { InputError } from './errors';

/**
 * `--transform FILE`: an ES module whose default export (or `transform` export) takes an item in
 * DynamoDB JSON, as the backup holds it, and returns the item to write, or nothing to drop it. It
 * runs on every item a restore or export writes, e.g. to mask personal data when production is
 * restored into a test account. The item's key attributes must come back unchanged: the item is
 * written where it was, never moved.
 *
 * @example
 * // mask.mjs
 * export default (item) => (item.email ? { ...item, email: { S: 'masked@example.com' } } : item);
 */
export type ItemTransform = (
  item: WireItem,
) => WireItem | undefined | null | Promise<WireItem | undefined | null>;

/** A loaded transform, bound to the table's key attribute names. */
export type Transformer = (objectKey: string, image: WireItem) => Promise<WireItem | undefined>;

/** Loads FILE and checks it exports a function; one line naming the file when it does not. */
export async function loadTransform(file: string, keyNames: readonly string[]): Promise<Transformer> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new InputError(
      `Expected \`--transform\` to name an ES module file, got \`${file}\` (no such file)`,
    );
  }
  let mod: { default?: unknown; transform?: unknown };
  try {
    mod = (await importModule(pathToFileURL(path).href)) as typeof mod;
  } catch (err) {
    throw new InputError(`The transform module \`${file}\` could not be loaded: ${oneLine(err)}`);
  }
  // A CommonJS or transpiled module puts the ES default one level down.
  const nested = (mod.default as { default?: unknown } | undefined)?.default;
  const fn = [mod.default, mod.transform, nested].find((f) => typeof f === 'function') as
    | ItemTransform
    | undefined;
  if (!fn) {
    throw new InputError(
      `Expected the transform module \`${file}\` to export a function (export default (item) => item), found none`,
    );
  }
  return (objectKey, image) => runTransform(fn, keyNames, objectKey, image);
}

/**
 * Node's own dynamic import: this package compiles to CommonJS, where TypeScript turns `import()`
 * into `require()`, which cannot load an ES module.
 */
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

/** The item's key hash: names the item in errors without writing its key (or any value) out. */
export const keyHash = (objectKey: string): string =>
  createHash('sha256').update(objectKey).digest('hex').slice(0, 16);

async function runTransform(
  fn: ItemTransform,
  keyNames: readonly string[],
  objectKey: string,
  image: WireItem,
): Promise<WireItem | undefined> {
  let out: WireItem | undefined | null;
  try {
    // A copy: a transform that edits its argument in place cannot change what the caller holds.
    out = await fn(structuredClone(image));
  } catch (err) {
    throw new InputError(
      `The transform failed on the item with key hash ${keyHash(objectKey)}: ${oneLine(err)}; nothing was written for its partition`,
    );
  }
  if (out === undefined || out === null) return undefined;
  if (typeof out !== 'object' || Array.isArray(out)) {
    throw new InputError(
      `Expected the transform to return an item in DynamoDB JSON or nothing for the item with key hash ${keyHash(objectKey)}, got ${Array.isArray(out) ? 'an array' : typeof out}; nothing was written for its partition`,
    );
  }
  // `phone: undefined` removes the attribute, as it would vanish from JSON.
  const item = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as WireItem;
  for (const [name, value] of Object.entries(item)) {
    const types = value && typeof value === 'object' ? Object.keys(value) : [];
    if (types.length !== 1 || !TYPES.has(types[0] as string)) {
      throw new InputError(
        `Expected the transform to return DynamoDB JSON: attribute \`${name}\` of the item with key hash ${keyHash(objectKey)} is not one typed value like {"S":"..."}; nothing was written for its partition`,
      );
    }
  }
  for (const name of keyNames) {
    const before = image[name];
    const after = item[name];
    if (!after || !before || canonicalItemJson({ k: after }) !== canonicalItemJson({ k: before })) {
      throw new InputError(
        `The transform changed key attribute \`${name}\` of the item with key hash ${keyHash(objectKey)}: keys must stay keys (return the item under its own key, or nothing to drop it); nothing was written for its partition`,
      );
    }
  }
  return item;
}

const TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']);

const oneLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
