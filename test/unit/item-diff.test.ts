import { diffItems } from '../../core/item-diff';

describe('diffItems', () => {
  it('lists added, removed and changed attributes with old and new values', () => {
    expect(diffItems({ a: { S: 'x' }, b: { N: '1' } }, { b: { N: '2' }, c: { BOOL: true } })).toEqual([
      { path: 'a', kind: 'removed', old: { S: 'x' } },
      { path: 'b', kind: 'changed', old: { N: '1' }, new: { N: '2' } },
      { path: 'c', kind: 'added', new: { BOOL: true } },
    ]);
  });

  it('descends into maps and lists with nested paths', () => {
    const before = {
      m: { M: { city: { S: 'Bern' }, 'odd key': { N: '1' } } },
      l: { L: [{ S: 'a' }, { S: 'b' }] },
    };
    const after = {
      m: { M: { city: { S: 'Basel' }, 'odd key': { N: '1' } } },
      l: { L: [{ S: 'a' }, { S: 'c' }, { S: 'd' }] },
    };
    expect(diffItems(before, after).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'changed l[1]',
      'added l[2]',
      'changed m.city',
    ]);
  });

  it('sees no change where DynamoDB holds equal values: number forms and set order', () => {
    expect(
      diffItems({ n: { N: '1.0' }, s: { SS: ['b', 'a'] } }, { n: { N: '1' }, s: { SS: ['a', 'b'] } }),
    ).toEqual([]);
    expect(diffItems({ s: { SS: ['a'] } }, { s: { SS: ['a', 'b'] } })).toEqual([
      { path: 's', kind: 'changed', old: { SS: ['a'] }, new: { SS: ['a', 'b'] } },
    ]);
  });

  it('treats a missing image as empty: an insert adds every attribute, a delete removes them', () => {
    expect(diffItems(undefined, { a: { S: 'x' } })).toEqual([{ path: 'a', kind: 'added', new: { S: 'x' } }]);
    expect(diffItems({ a: { S: 'x' } }, undefined)).toEqual([
      { path: 'a', kind: 'removed', old: { S: 'x' } },
    ]);
  });
});
