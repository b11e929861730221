import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { canonicalNumber } from './canonical-number';
import type { WireItem, WireValue } from './ddb-json';
import { InputError } from './errors';
import type { ItemKey } from './object-key';
import type { TableManifest } from './table-manifest';

const TAGS = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'BOOL', 'NULL']);

const isDynamoJson = (obj: Record<string, unknown>): boolean =>
  Object.values(obj).every(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.keys(v).length === 1 &&
      TAGS.has(Object.keys(v)[0] as string),
  );

/**
 * Reads item keys a person typed: a JSON object, an array of them, or JSON lines; each plain
 * (`{"pk":"a","sk":1}`, typed by the table description in the backup) or DynamoDB JSON
 * (`{"pk":{"S":"a"},"sk":{"N":"1"}}`). Numbers keep every digit.
 */
export function parseKeys(flag: string, text: string, manifest: TableManifest | undefined): ItemKey[] {
  const trimmed = text.trim();
  let values: unknown[];
  try {
    const parsed = parseLossless(trimmed) as unknown;
    values = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    try {
      values = trimmed
        .split(/\r?\n/)
        .filter((l) => l.trim())
        .map((l) => parseLossless(l) as unknown);
    } catch {
      throw new InputError(
        `Expected \`${flag}\` to be a JSON key object like {"pk":"a","sk":1}, an array of them, or a file of JSON lines, got \`${trimmed.slice(0, 80)}\``,
      );
    }
  }
  return values.map((v) => toKey(flag, v, manifest));
}

function toKey(flag: string, value: unknown, manifest: TableManifest | undefined): ItemKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(
      `Expected \`${flag}\` to hold JSON objects like {"pk":"a"}, got \`${String(value)}\``,
    );
  }
  const obj = value as Record<string, unknown>;
  const key: ItemKey = isDynamoJson(obj)
    ? Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, losslessToWire(v) as WireValue]))
    : plainKey(flag, obj, manifest);
  if (manifest) checkShape(flag, key, manifest);
  return key;
}

function losslessToWire(v: unknown): unknown {
  if (isLosslessNumber(v)) return v.toString();
  if (Array.isArray(v)) return v.map(losslessToWire);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, losslessToWire(x)]));
  }
  return v;
}

function plainKey(flag: string, obj: Record<string, unknown>, manifest: TableManifest | undefined): ItemKey {
  if (!manifest) {
    throw new InputError(
      `\`${flag}\` is plain JSON but the backup holds no table description to type it: give DynamoDB JSON, e.g. {"pk":{"S":"a"}}`,
    );
  }
  checkNames(flag, Object.keys(obj), manifest);
  const key: ItemKey = {};
  for (const [name, raw] of Object.entries(obj)) {
    const type = manifest.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType;
    if (type === 'S' && typeof raw === 'string') key[name] = { S: raw };
    else if (type === 'N' && (isLosslessNumber(raw) || typeof raw === 'string'))
      key[name] = { N: canonicalNumber(String(raw)) };
    else if (type === 'B' && typeof raw === 'string') key[name] = { B: raw };
    else {
      const want =
        type === 'S' ? 'a string' : type === 'N' ? 'a number' : type === 'B' ? 'base64 text' : 'not present';
      throw new InputError(
        `Expected key attribute \`${name}\` in \`${flag}\` to be ${want} (table ${manifest.tableName}), got ${JSON.stringify(losslessToWire(raw))}`,
      );
    }
  }
  return key;
}

function checkNames(flag: string, names: string[], manifest: TableManifest): void {
  const want = manifest.keySchema.map((k) => k.AttributeName ?? '').sort();
  const got = [...names].sort();
  if (want.join(',') !== got.join(',')) {
    throw new InputError(
      `Expected \`${flag}\` to name exactly the key attributes of table ${manifest.tableName} (${want.join(', ')}), got ${got.join(', ') || 'none'}`,
    );
  }
}

function checkShape(flag: string, key: ItemKey, manifest: TableManifest): void {
  checkNames(flag, Object.keys(key), manifest);
  for (const name of manifest.keySchema.map((k) => k.AttributeName ?? '')) {
    const type = manifest.attributeDefinitions.find((d) => d.AttributeName === name)?.AttributeType;
    const value = key[name] as WireValue;
    if (type && (value as Record<string, unknown>)[type] === undefined) {
      throw new InputError(
        `Expected key attribute \`${name}\` in \`${flag}\` to be of type ${type} (table ${manifest.tableName}), got ${JSON.stringify(value)}`,
      );
    }
  }
}

/**
 * A key as the plain JSON a person types and parseKeys reads back, attributes in `names` order:
 * numbers keep every digit, binary stays base64.
 *
 * @example plainKeyText({ pk: { S: 'a' }, sk: { N: '10.50' } }, ['pk', 'sk']) // '{"pk":"a","sk":10.50}'
 */
export function plainKeyText(key: ItemKey, names: readonly string[]): string {
  const parts = names.map((n) => {
    const v = key[n] as { S?: string; N?: string; B?: string };
    return `${JSON.stringify(n)}:${v.N !== undefined ? v.N : JSON.stringify(v.S ?? v.B ?? '')}`;
  });
  return `{${parts.join(',')}}`;
}

/** The key attributes of an image. */
export function keyOf(image: WireItem, names: readonly string[]): ItemKey {
  const key: ItemKey = {};
  for (const n of names) {
    const v = image[n];
    if (v) key[n] = v;
  }
  return key;
}
