import type { WireItem } from '../../core/ddb-json';
import { addedAttributes, decideUndo, guardedWrite, MAX_EXPRESSION_BYTES } from '../../core/undo-decision';
import { parseUndoEvent } from '../../core/undo-event';

const key = { pk: { S: 'a' }, sk: { N: '1' } };
const item = (status: string, more: WireItem = {}): WireItem => ({ ...key, status: { S: status }, ...more });

describe('decideUndo', () => {
  const base = { changedAfter: false, inPlace: true, overwrite: false };
  it.each([
    ['already as before', { before: item('ok'), end: item('bad'), current: item('ok') }, 'unchanged'],
    ['absent before and now', { end: item('bad') }, 'unchanged'],
    ['modified in the window', { before: item('ok'), end: item('bad'), current: item('bad') }, 'restore'],
    ['deleted in the window', { before: item('ok'), current: undefined }, 'restore'],
    ['inserted in the window', { end: item('bad'), current: item('bad') }, 'delete'],
  ])('%s: %s', (_name, states, action) => {
    expect(decideUndo({ ...base, ...states }).action).toBe(action);
  });

  it('an item changed after the window is a conflict, unless told to overwrite', () => {
    const states = { before: item('ok'), end: item('bad'), current: item('customer'), changedAfter: true };
    expect(decideUndo({ ...base, ...states })).toEqual({
      action: 'conflict',
      reason: 'changed-after-window',
    });
    expect(decideUndo({ ...base, ...states, overwrite: true })).toEqual({ action: 'restore' });
  });

  it('in place, a table item unlike the backup at T2 is a conflict (a write the backup has not seen)', () => {
    const states = { before: item('ok'), end: item('bad'), current: item('unseen') };
    expect(decideUndo({ ...base, ...states })).toEqual({ action: 'conflict', reason: 'differs-from-backup' });
    // Into another table, what that table holds is what the undo replaces.
    expect(decideUndo({ ...base, ...states, inPlace: false })).toEqual({ action: 'restore' });
  });

  it('compares items as DynamoDB does: numbers by value, sets and maps in any order', () => {
    const a = item('ok', {
      n: { N: '1.50' },
      s: { SS: ['x', 'y'] },
      m: { M: { b: { N: '1' }, a: { S: 'z' } } },
    });
    const b = item('ok', {
      m: { M: { a: { S: 'z' }, b: { N: '1.0' } } },
      s: { SS: ['y', 'x'] },
      n: { N: '1.5' },
    });
    expect(decideUndo({ ...base, before: a, end: item('bad'), current: b }).action).toBe('unchanged');
  });
});

describe('guardedWrite', () => {
  /** Every placeholder defined is used, and every one used is defined (DynamoDB refuses both). */
  const placeholdersMatch = (w: NonNullable<ReturnType<typeof guardedWrite>>) => {
    const text = `${w.ConditionExpression} ${w.UpdateExpression ?? ''}`;
    const used = new Set(text.match(/[#:][nv]\d+/g));
    const defined = new Set([
      ...Object.keys(w.ExpressionAttributeNames),
      ...Object.keys(w.ExpressionAttributeValues ?? {}),
    ]);
    expect(used).toEqual(defined);
  };

  it('puts an item back by SET and REMOVE, pinning every attribute of the current item', () => {
    const before = item('ok', { doc: { M: { a: { N: '1' } } }, same: { N: '7' } });
    const current = item('bad', { bad: { BOOL: true }, same: { N: '7' } });
    const w = guardedWrite(key, before, current);
    expect(w).toBeDefined();
    if (!w) return;
    placeholdersMatch(w);
    expect(w.kind).toBe('update');
    const n = (attr: string) =>
      Object.keys(w.ExpressionAttributeNames).find((k) => w.ExpressionAttributeNames[k] === attr);
    const cond = w.ConditionExpression;
    expect(cond).toContain(`attribute_exists(${n('pk')})`);
    for (const attr of ['status', 'bad', 'same']) expect(cond).toMatch(new RegExp(`${n(attr)} = :v\\d+`));
    // An attribute the write adds must still be absent: a racing write may have added it.
    expect(cond).toContain(`attribute_not_exists(${n('doc')})`);
    expect(w.UpdateExpression).toMatch(
      new RegExp(`^SET ${n('status')} = :v\\d+, ${n('doc')} = :v\\d+ REMOVE ${n('bad')}$`),
    );
    // Keys are never set (UpdateItem refuses it); an unchanged attribute is not rewritten.
    expect(w.UpdateExpression).not.toContain(`${n('same')} =`);
    expect(Object.values(w.ExpressionAttributeNames)).not.toContain('sk');
  });

  it('recreates a deleted item only while it is still absent', () => {
    const w = guardedWrite(key, item('ok'), undefined);
    expect(w?.ConditionExpression).toBe('attribute_not_exists(#n0)');
    expect(w?.ExpressionAttributeNames['#n0']).toBe('pk');
    expect(w?.UpdateExpression).toBe('SET #n1 = :v0');
    if (w) placeholdersMatch(w);
  });

  it('deletes an item created in the window only while it is exactly as read', () => {
    const w = guardedWrite(key, undefined, item('bad', { x: { L: [{ S: 'q' }] } }));
    expect(w?.kind).toBe('delete');
    expect(w?.UpdateExpression).toBeUndefined();
    expect(w?.ConditionExpression).toBe('attribute_exists(#n0) AND #n1 = :v0 AND #n2 = :v1');
    if (w) placeholdersMatch(w);
  });

  it('refuses (undefined) when the expressions would pass 4 KB', () => {
    const wide: WireItem = { ...key };
    for (let i = 0; i < 400; i++) wide[`attribute_${i}`] = { N: String(i) };
    expect(guardedWrite(key, item('ok'), wide)).toBeUndefined();
    expect(MAX_EXPRESSION_BYTES).toBe(4096);
  });

  it('names attributes a racing write added (kept by the update)', () => {
    expect(addedAttributes(item('ok', { racer: { S: 'r' } }), item('ok'))).toEqual(['racer']);
    expect(addedAttributes(item('ok'), item('ok'))).toEqual([]);
    expect(addedAttributes(undefined, item('ok'))).toEqual([]);
  });
});

describe('parseUndoEvent', () => {
  const loc = { table: 'orders', bucket: 'backups' };
  it('reads the window, the target (the source by default) and the options', () => {
    expect(
      parseUndoEvent(
        { ...loc, since: '2026-12-01T10:00:00Z', until: 1_796_000_000_000, inPlace: true, partitions: 8 },
        5,
      ),
    ).toMatchObject({
      sinceMs: Date.parse('2026-12-01T10:00:00Z'),
      untilMs: 1_796_000_000_000,
      targetTable: 'orders',
      inPlace: true,
      partitions: 8,
      dryRun: false,
      overwriteLaterChanges: false,
    });
    expect(parseUndoEvent({ ...loc, since: 1_700_000_000_000 }, 99).untilMs).toBe(99);
  });

  it.each([
    [{ ...loc }, /Expected "since"/],
    [{ ...loc, since: 1_700_000_000_000, until: true }, /"until"/],
    [{ ...loc, since: 1_700_000_000_000, keys: [] }, /"keys"/],
    [{ ...loc, since: 1_700_000_000_000, partitions: 300 }, /partitions/],
    [{ ...loc, since: 1_700_000_000_000, dryRun: 'yes' }, /"dryRun".*true or false/],
    [{ table: 'orders', since: 1_700_000_000_000 }, /"bucket"/],
  ])('refuses %j in one line', (event, message) => {
    expect(() => parseUndoEvent(event as Record<string, unknown>)).toThrow(message);
  });
});
