import { writeStreamBatch } from '../../core/aws/stream-writer';
import type { WireItem } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { runCli, userEnv } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table } = scratchBackup('history');
const env = userEnv();
const t0 = Math.floor(Date.now() / 1000) - 3600;
const keys = { pk: { S: 'Zürich/user 1' } };
const steps: WireItem[] = [
  { ...keys, name: { S: 'Ada' }, n: { N: '1' } },
  { ...keys, name: { S: 'Ada L.' }, n: { N: '1' } },
  { ...keys, name: { S: 'Ada L.' }, n: { N: '1' }, addr: { M: { city: { S: 'Bern' } } } },
  { ...keys, name: { S: 'Ada L.' }, n: { N: '1' }, addr: { M: { city: { S: 'Basel' } } } },
  {
    ...keys,
    name: { S: 'Ada L.' },
    n: { N: '1' },
    addr: { M: { city: { S: 'Basel' } } },
    l: { L: [{ S: 'a' }] },
  },
  {
    ...keys,
    name: { S: 'Ada L.' },
    n: { N: '12345678901234567890123456789012345678' },
    addr: { M: { city: { S: 'Basel' } } },
    l: { L: [{ S: 'a' }] },
    tags: { SS: ['x'] },
  },
];
const history = (...extra: string[]) =>
  runCli(
    [
      'history',
      '--table',
      table,
      '--bucket',
      bucket,
      '--key',
      JSON.stringify({ pk: 'Zürich/user 1' }),
      ...extra,
    ],
    env,
  );
const show = (atS: number) =>
  runCli(
    [
      'show',
      '--table',
      table,
      '--bucket',
      bucket,
      '--key',
      '{"pk":{"S":"Zürich/user 1"}}',
      '--at',
      String(atS * 1000),
      '--json',
    ],
    env,
  );

beforeAll(async () => {
  const events = new EventBuilder(table);
  const records = steps.map((image, i) =>
    events.record(i === 0 ? 'INSERT' : 'MODIFY', keys, t0 + i * 10, image),
  );
  records.push(
    events.record('REMOVE', keys, t0 + 60, undefined, { ttl: true, oldImage: steps[5] as WireItem }),
  );
  records.push(events.record('INSERT', keys, t0 + 70, { ...keys, name: { S: 'Ada again' } }));
  const deps = { s3, dynamodb, log: silentLog };
  await writeStreamBatch(deps, { bucket, concurrency: 4 }, events.event(records));
  await writeStreamBatch(deps, { bucket, concurrency: 4 }, events.event(records.slice(2, 5))); // redelivered
});

describe('item history', () => {
  it('lists every change once, oldest first, with cause and attribute-level diffs', async () => {
    const out = await history('--json');
    expect(out.code).toBe(0);
    const doc = JSON.parse(out.stdout) as {
      objectKey: string;
      duplicatesSkipped: number;
      entries: Array<{
        time: string;
        event: string;
        cause: string;
        versionId: string;
        changes: Array<{ path: string; kind: string }>;
      }>;
    };
    // The documented shape (docs/history.md): every entry has these fields and types.
    for (const e of doc.entries) {
      expect(typeof e.time).toBe('string');
      expect(typeof e.versionId).toBe('string');
      expect(['insert', 'modify', 'remove', 'backfill']).toContain(e.event);
      expect(['user', 'ttl', 'backfill']).toContain(e.cause);
      expect(Array.isArray(e.changes)).toBe(true);
    }
    expect(doc.duplicatesSkipped).toBe(3);
    expect(doc.entries.map((e) => `${e.event}/${e.cause}`)).toEqual([
      'insert/user',
      'modify/user',
      'modify/user',
      'modify/user',
      'modify/user',
      'modify/user',
      'remove/ttl',
      'insert/user',
    ]);
    expect(doc.entries.map((e) => e.changes.map((c) => `${c.kind} ${c.path}`).join('; '))).toEqual([
      'added n; added name; added pk',
      'changed name',
      'added addr',
      'changed addr.city',
      'added l',
      'changed n; added tags',
      'removed addr; removed l; removed n; removed name; removed pk; removed tags',
      'added name; added pk',
    ]);
  });

  it('prints a readable table with exact values, and honours --since/--until', async () => {
    const out = await history();
    expect(out.stdout).toContain('~ addr.city: "Bern" -> "Basel"');
    expect(out.stdout).toContain('~ n: 1 -> 12345678901234567890123456789012345678');
    expect(out.stdout).toContain('TTL expiry');
    const windowed = await history(
      '--since',
      String((t0 + 15) * 1000),
      '--until',
      String((t0 + 45) * 1000),
      '--json',
    );
    expect(JSON.parse(windowed.stdout).entries).toHaveLength(3);
  });

  it('shows the item at each step, and says when it did not exist', async () => {
    for (let i = 0; i < steps.length; i++) {
      const doc = JSON.parse((await show(t0 + i * 10 + 5)).stdout);
      expect(doc).toMatchObject({ exists: true, item: steps[i] });
    }
    const gone = JSON.parse((await show(t0 + 65)).stdout);
    expect(gone).toMatchObject({
      exists: false,
      existedUntil: new Date((t0 + 60) * 1000).toISOString(),
      nextChange: new Date((t0 + 70) * 1000).toISOString(),
    });
    // Before the backup's coverage the item's state is unknown: refused, not "absent".
    const before = await show(t0 - 100);
    expect(before.code).toBe(2);
    expect(before.stdout).toBe('');
    expect(before.stderr.trim()).toMatch(
      /^ddb-rewind: The backup of \S+ starts at \S+; --at \S+ is before it: pick a later --at/,
    );
  });

  it('locates the item in S3 and the console', async () => {
    const out = await runCli(
      ['locate', '--table', table, '--bucket', bucket, '--key', '{"pk":"Zürich/user 1"}', '--json'],
      env,
    );
    const doc = JSON.parse(out.stdout);
    expect(doc.objectKey).toMatch(new RegExp(`^${table}/v1/[0-9a-f]{2}/pk=S\\.Zürich%2Fuser%201$`));
    expect(doc.versions).toBe(11);
    expect(doc.console).toContain(encodeURIComponent(doc.objectKey));
  });

  it('counts the items and changes of a window by event and cause', async () => {
    const out = await runCli(
      [
        'changes',
        '--table',
        table,
        '--bucket',
        bucket,
        '--since',
        String((t0 + 15) * 1000),
        '--until',
        String((t0 + 65) * 1000),
        '--json',
      ],
      env,
    );
    expect(out.code).toBe(0);
    const doc = JSON.parse(out.stdout);
    expect(doc).toMatchObject({
      items: 1,
      changes: 5,
      byEvent: { MODIFY: 4, REMOVE: 1 },
      byCause: { user: 4, ttl: 1 },
      notListed: 0,
    });
    expect(doc.changedItems).toEqual([
      {
        objectKey: expect.stringContaining('pk=S.Zürich%2Fuser%201'),
        key: keys,
        changes: 5,
        // its removal, the window's last change of it
        lastMs: (t0 + 60) * 1000,
      },
    ]);
    const none = await runCli(
      ['changes', '--table', table, '--bucket', bucket, '--since', String((t0 + 200) * 1000), '--json'],
      env,
    );
    expect(JSON.parse(none.stdout)).toMatchObject({ items: 0, changes: 0 });
  });

  it('refuses a key of the wrong shape in one line', async () => {
    const out = await runCli(['history', '--table', table, '--bucket', bucket, '--key', '{"id":"x"}'], env);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toMatch(
      /^ddb-rewind: Expected `--key` to name exactly the key attributes of table .* \(pk\), got id$/,
    );
  });
});
