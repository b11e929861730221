import { canonicalJson, type WireItem, type WireValue } from './ddb-json';

/** One attribute-level difference; `path` uses `.` for map keys and `[i]` for list positions. */
export interface AttributeChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  old?: WireValue;
  new?: WireValue;
}

const same = (a: WireValue, b: WireValue): boolean => canonicalJson(a) === canonicalJson(b);
const child = (path: string, name: string): string =>
  path === ''
    ? name
    : /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
      ? `${path}.${name}`
      : `${path}[${JSON.stringify(name)}]`;

/**
 * What changed from one image to the next, descending into maps and lists so a change deep in a
 * document shows as one path. Sets and scalars change as a whole; numbers compare by value.
 *
 * @example diffItems({a:{N:'1'}}, {a:{N:'2'}}) // [{path:'a', kind:'changed', old:{N:'1'}, new:{N:'2'}}]
 */
export function diffItems(before: WireItem | undefined, after: WireItem | undefined): AttributeChange[] {
  const out: AttributeChange[] = [];
  diffMaps('', before ?? {}, after ?? {}, out);
  return out;
}

function diffMaps(path: string, a: WireItem, b: WireItem, out: AttributeChange[]): void {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const name of names) diffValues(child(path, name), a[name], b[name], out);
}

function diffValues(
  path: string,
  a: WireValue | undefined,
  b: WireValue | undefined,
  out: AttributeChange[],
): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) out.push({ path, kind: 'added', new: b as WireValue });
  else if (b === undefined) out.push({ path, kind: 'removed', old: a });
  else if (a.M !== undefined && b.M !== undefined) diffMaps(path, a.M, b.M, out);
  else if (a.L !== undefined && b.L !== undefined) {
    for (let i = 0; i < Math.max(a.L.length, b.L.length); i++)
      diffValues(`${path}[${i}]`, a.L[i], b.L[i], out);
  } else if (!same(a, b)) out.push({ path, kind: 'changed', old: a, new: b });
}
