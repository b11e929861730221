import type { WireValue } from './ddb-json';
import type { AttributeChange } from './item-diff';

/**
 * One DynamoDB value as compact, exact text for a terminal: strings quoted, numbers as their
 * decimal text (all 38 digits), binary as `b64:...`, sets and lists bracketed, maps braced.
 *
 * @example formatValue({ NS: ['1', '2.5'] }) // '<<1, 2.5>>'
 */
export function formatValue(value: WireValue | undefined): string {
  if (value === undefined) return '(none)';
  if (value.S !== undefined) return JSON.stringify(value.S);
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return `b64:${value.B}`;
  if (value.BOOL !== undefined) return String(value.BOOL);
  if (value.NULL !== undefined) return 'null';
  if (value.SS !== undefined) return `<<${value.SS.map((s) => JSON.stringify(s)).join(', ')}>>`;
  if (value.NS !== undefined) return `<<${value.NS.join(', ')}>>`;
  if (value.BS !== undefined) return `<<${value.BS.map((b) => `b64:${b}`).join(', ')}>>`;
  if (value.L !== undefined) return `[${value.L.map(formatValue).join(', ')}]`;
  if (value.M !== undefined) {
    return `{${Object.entries(value.M)
      .map(([k, v]) => `${k}: ${formatValue(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** One attribute change as `+ path = new`, `- path (was old)` or `~ path: old -> new`. */
export function formatChange(change: AttributeChange): string {
  if (change.kind === 'added') return `+ ${change.path} = ${formatValue(change.new)}`;
  if (change.kind === 'removed') return `- ${change.path} (was ${formatValue(change.old)})`;
  return `~ ${change.path}: ${formatValue(change.old)} -> ${formatValue(change.new)}`;
}
