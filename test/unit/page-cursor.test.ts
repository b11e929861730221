import { InputError } from '../../core/errors';
import { decodeCursor, encodeCursor } from '../../core/page-cursor';
import type { Partition } from '../../core/partition';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** The error decodeCursor throws for `text`, checked to be the one-line InputError about `after`. */
function refusal(text: string): InputError {
  let caught: unknown;
  try {
    decodeCursor(text);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.message).toContain('`after`');
  expect(err.message).toMatch(/open the table page again/);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('encodeCursor / decodeCursor', () => {
  const cases: Array<[string, Partition[]]> = [
    ['the whole table', [{ from: '00', to: 'ff' }]],
    [
      'one cut prefix',
      [{ from: '3a', to: '3a', after: 'backups/orders/3a/abc', until: 'backups/orders/3a/xyz' }],
    ],
    [
      'several ranges, some cut',
      [
        { from: '00', to: '0f', after: 'p/t/00/k1' },
        { from: '10', to: '7f' },
        { from: '80', to: 'ff', until: 'p/t/ff/zz' },
      ],
    ],
    [
      'object keys with non-ASCII characters and %',
      [
        {
          from: 'a0',
          to: 'a0',
          after: 'pré/tàble/a0/Zürich 100%25 ✓ 日本語 🦆',
          until: 'pré/tàble/a0/%E2%9C%93%',
        },
        { from: 'a1', to: 'c3', after: 'x/a1/%%%/+/=/?&#', until: 'x/c3/ключ' },
      ],
    ],
  ];

  it.each(cases)('round trips %s', (_name, ranges) => {
    const text = encodeCursor(ranges);
    expect(decodeCursor(text)).toEqual(ranges);
  });

  it.each(cases)('gives URL-safe text for %s', (_name, ranges) => {
    const text = encodeCursor(ranges);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    // A URL query keeps it as is.
    const url = new URL(`http://127.0.0.1:4739/tables/t?after=${text}`);
    expect(url.searchParams.get('after')).toBe(text);
    expect(decodeCursor(url.searchParams.get('after') as string)).toEqual(ranges);
  });

  it('keeps absent after/until absent', () => {
    const [range] = decodeCursor(encodeCursor([{ from: '05', to: '09' }]));
    expect(range).toEqual({ from: '05', to: '09' });
    expect(range).not.toHaveProperty('after');
    expect(range).not.toHaveProperty('until');
  });
});

describe('decodeCursor refuses', () => {
  it.each([
    ['empty text', ''],
    ['not base64 JSON', 'hello world'],
    ['base64 of non-JSON', Buffer.from('not json{', 'utf8').toString('base64url')],
    ['plain JSON not encoded', '[{"from":"00","to":"ff"}]'],
    ['truncated cursor', encodeCursor([{ from: '00', to: 'ff', after: 'p/t/00/k' }]).slice(0, 10)],
  ])('%s', (_name, text) => {
    refusal(text);
  });

  it.each<[string, unknown]>([
    ['an empty array', []],
    ['an object instead of an array', { from: '00', to: 'ff' }],
    ['a string', 'ranges'],
    ['a number', 42],
    ['null', null],
    ['an array holding null', [null]],
    ['an array holding a string', ['00-ff']],
    ['an array holding an array', [['00', 'ff']]],
    ['a range without to', [{ from: '00' }]],
    ['a range without from', [{ to: 'ff' }]],
    ['numeric ends', [{ from: 0, to: 255 }]],
    ['after not text', [{ from: '00', to: 'ff', after: 5 }]],
    ['after null', [{ from: '00', to: 'ff', after: null }]],
    ['until not text', [{ from: '00', to: 'ff', until: { key: 'x' } }]],
    ['one good range then a bad one', [{ from: '00', to: '7f' }, { from: '80' }]],
  ])('a cursor holding %s', (_name, value) => {
    refusal(b64(value));
  });

  it.each<[string, unknown]>([
    ['uppercase hex', [{ from: '0A', to: 'FF' }]],
    ['one digit', [{ from: '0', to: 'f' }]],
    ['three digits', [{ from: '000', to: '0ff' }]],
    ['not hex', [{ from: 'zz', to: 'zz' }]],
    ['empty ends', [{ from: '', to: '' }]],
    ['from after to', [{ from: '80', to: '7f' }]],
    [
      'from after to in a later range',
      [
        { from: '00', to: '0f' },
        { from: 'f0', to: 'e0' },
      ],
    ],
  ])('bad hex prefixes: %s', (_name, value) => {
    refusal(b64(value));
  });

  it('quotes at most the first 40 characters of what it got', () => {
    const text = 'x'.repeat(500);
    const err = refusal(text);
    expect(err.message).toContain(`\`${'x'.repeat(40)}\``);
    expect(err.message).not.toContain('x'.repeat(41));
  });
});
