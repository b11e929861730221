import type { AttributeValue as SdkValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as WireValue } from 'aws-lambda';
import { canonicalNumber } from './canonical-number';
import { InputError } from './errors';

/**
 * DynamoDB JSON as it travels in Lambda events, DynamoDB exports and our S3 objects: binary is
 * base64 text, numbers are decimal text. The SDK wants binary as bytes instead; numbers stay text
 * on both sides, so 38-digit values are never rounded.
 */
export type WireItem = Record<string, WireValue>;
export type SdkItem = Record<string, SdkValue>;
export type { SdkValue, WireValue };

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

/** Wire (base64) value to an SDK value (bytes). */
export function wireToSdk(value: WireValue): SdkValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: bytes(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(bytes) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.L !== undefined) return { L: value.L.map(wireToSdk) };
  if (value.M !== undefined) return { M: wireItemToSdk(value.M) };
  throw new InputError(`Expected a DynamoDB JSON value such as {"S":"a"}, got ${JSON.stringify(value)}`);
}

/** SDK value (bytes) to a wire value (base64). */
export function sdkToWire(value: SdkValue): WireValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.L !== undefined) return { L: value.L.map(sdkToWire) };
  if (value.M !== undefined) return { M: sdkItemToWire(value.M) };
  throw new InputError(`Unsupported DynamoDB value ${Object.keys(value).join(',')}`);
}

export function wireItemToSdk(item: WireItem): SdkItem {
  const out: SdkItem = {};
  for (const [name, value] of Object.entries(item)) out[name] = wireToSdk(value);
  return out;
}

export function sdkItemToWire(item: SdkItem): WireItem {
  const out: WireItem = {};
  for (const [name, value] of Object.entries(item)) out[name] = sdkToWire(value);
  return out;
}

/**
 * One string per DynamoDB value, equal exactly when DynamoDB holds the two values as equal:
 * map keys sorted, set members sorted, numbers canonical. Used to compare images, never stored.
 */
export function canonicalJson(value: WireValue): string {
  if (value.N !== undefined) return `{"N":${JSON.stringify(canonicalNumber(value.N))}}`;
  if (value.NS !== undefined) return `{"NS":${JSON.stringify(value.NS.map(canonicalNumber).sort())}}`;
  if (value.SS !== undefined) return `{"SS":${JSON.stringify([...value.SS].sort())}}`;
  if (value.BS !== undefined) return `{"BS":${JSON.stringify([...value.BS].sort())}}`;
  if (value.L !== undefined) return `{"L":[${value.L.map(canonicalJson).join(',')}]}`;
  if (value.M !== undefined) return `{"M":${canonicalItemJson(value.M)}}`;
  if (value.NULL !== undefined) return '{"NULL":true}';
  return JSON.stringify(value);
}

export function canonicalItemJson(item: WireItem): string {
  const names = Object.keys(item).sort();
  return `{${names.map((n) => `${JSON.stringify(n)}:${canonicalJson(item[n] as WireValue)}`).join(',')}}`;
}

/** True when the two items are the same DynamoDB item value (attribute order, set order ignored). */
export function sameItem(a: WireItem, b: WireItem): boolean {
  return canonicalItemJson(a) === canonicalItemJson(b);
}
