import type { WireItem, WireValue } from './ddb-json';
import { sameItem } from './ddb-json';
import type { ItemKey } from './object-key';

/**
 * What an undo does to one item changed in its window [T1, T2]: put it back as it was just
 * before T1 (`restore`, or `delete` when it did not exist then), leave it (`unchanged`: it already
 * is), or report it (`conflict`: it changed again after T2, so putting it back would undo a
 * later, legitimate write).
 */
export type UndoAction = 'restore' | 'delete' | 'unchanged' | 'conflict';

/** Why an item is a conflict. */
export type ConflictReason =
  /** The backup has a change of the item after T2. */
  | 'changed-after-window'
  /** In place: the table's item is not the backup's state at T2 (a write the backup has not seen yet). */
  | 'differs-from-backup'
  /** The conditional write failed: a write reached the table between the plan's read and the undo's write. */
  | 'changed-during-undo'
  /** The undo wrote the item, and a write that raced it added attributes the undo kept. */
  | 'attributes-added-during-undo'
  /** Too many attributes to pin every one in a condition expression (4 KB at most). */
  | 'too-large-to-guard';

/** The states an undo decides one item from. */
export interface UndoInputs {
  /** As of T1 - 1 ms (undefined: absent). */
  before?: WireItem | undefined;
  /** As of T2, by the backup. */
  end?: WireItem | undefined;
  /** The backup has a change of the item after T2. */
  changedAfter: boolean;
  /** The target table's item as the plan read it (consistent read). */
  current?: WireItem | undefined;
  /** The target is the backed-up table itself: its item must be the backup's state at T2. */
  inPlace: boolean;
  /** `--overwrite-later-changes`: put the item back even when it changed after T2. */
  overwrite: boolean;
}

const same = (a: WireItem | undefined, b: WireItem | undefined): boolean =>
  a === undefined || b === undefined ? a === b : sameItem(a, b);

/** The decision for one item (the write itself is guarded by `guardedWrite`). */
export function decideUndo(i: UndoInputs): { action: UndoAction; reason?: ConflictReason } {
  if (same(i.current, i.before)) return { action: 'unchanged' };
  if (!i.overwrite && i.changedAfter) return { action: 'conflict', reason: 'changed-after-window' };
  if (!i.overwrite && i.inPlace && !same(i.current, i.end))
    return { action: 'conflict', reason: 'differs-from-backup' };
  return { action: i.before ? 'restore' : 'delete' };
}

/** DynamoDB's cap on each expression string. */
export const MAX_EXPRESSION_BYTES = 4096;

/** An UpdateItem or DeleteItem input without its table name, in DynamoDB JSON (wire form). */
export interface GuardedWrite {
  kind: 'update' | 'delete';
  Key: ItemKey;
  UpdateExpression?: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, WireValue>;
}

/**
 * The write that makes the item `before`, applied only while the item is exactly `current`.
 * No condition can name an attribute it does not know, so: every attribute of `current` is
 * pinned by equality, every attribute the write sets and `current` lacks must be absent, and the
 * write is an UpdateItem (SET and REMOVE of named attributes only), so an attribute a racing
 * write adds is kept, never dropped (the caller sees it in ALL_NEW and reports it). A delete
 * cannot keep one: its caller checks ALL_OLD and puts a raced item back.
 * Returns undefined when the expressions would pass DynamoDB's 4 KB cap.
 */
export function guardedWrite(
  key: ItemKey,
  before: WireItem | undefined,
  current: WireItem | undefined,
): GuardedWrite | undefined {
  const x = new Placeholders();
  const keyNames = Object.keys(key);
  const attrs = (item: WireItem | undefined) =>
    Object.entries(item ?? {}).filter(([attr]) => !keyNames.includes(attr));
  const conditions: string[] = [];
  const set: string[] = [];
  const remove: string[] = [];
  const firstKey = x.name(keyNames[0] ?? '');
  conditions.push(current ? `attribute_exists(${firstKey})` : `attribute_not_exists(${firstKey})`);
  for (const [attr, v] of attrs(current)) conditions.push(`${x.name(attr)} = ${x.value(v)}`);
  for (const [attr, v] of attrs(before)) {
    const held = current?.[attr];
    // Set only what differs; an attribute the item lacks now must still lack it when written.
    if (current && held === undefined) conditions.push(`attribute_not_exists(${x.name(attr)})`);
    if (held === undefined || !sameItem({ v: held }, { v })) set.push(`${x.name(attr)} = ${x.value(v)}`);
  }
  for (const [attr] of attrs(current)) if (!(before && attr in before)) remove.push(x.name(attr));
  const update = [
    set.length ? `SET ${set.join(', ')}` : '',
    remove.length ? `REMOVE ${remove.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const write: GuardedWrite = {
    kind: before ? 'update' : 'delete',
    Key: key,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: x.names,
    ...(Object.keys(x.values).length ? { ExpressionAttributeValues: x.values } : {}),
    ...(before && update ? { UpdateExpression: update } : {}),
  };
  const tooLong = [write.ConditionExpression, write.UpdateExpression ?? ''].some(
    (e) => Buffer.byteLength(e) > MAX_EXPRESSION_BYTES,
  );
  return tooLong ? undefined : write;
}

/** Expression placeholders: one name per attribute, one value per use. */
class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, WireValue> = {};
  private readonly ids = new Map<string, string>();
  name(attr: string): string {
    let id = this.ids.get(attr);
    if (!id) {
      id = `#n${this.ids.size}`;
      this.ids.set(attr, id);
      this.names[id] = attr;
    }
    return id;
  }
  value(v: WireValue): string {
    const id = `:v${Object.keys(this.values).length}`;
    this.values[id] = v;
    return id;
  }
}

/** Attributes of `written` that the undo did not write: a racing write added them. */
export function addedAttributes(written: WireItem | undefined, intended: WireItem | undefined): string[] {
  return Object.keys(written ?? {}).filter((a) => !(intended && a in intended));
}
