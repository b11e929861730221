import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { canonicalItemJson, type WireItem } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { keyHash } from '../../core/transform';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';

// `--transform` on restore and export, through the CLI on the real stack: every item written goes
// through the module; a failing or key-changing transform stops before anything is written.
const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('transform', PK_ONLY);
const dir = mkdtempSync(join(tmpdir(), 'rw-transform-'));
const items: WireItem[] = Array.from({ length: 40 }, (_, i) => ({
  pk: { S: `customer-${i}` },
  email: { S: `person${i}@example.org` },
  plan: { S: i % 4 === 0 ? 'trial' : 'paid' },
  n: { N: String(i) },
}));
const objectKey = (item: WireItem) => objectKeyFor(loc, { pk: item.pk as WireItem[string] });

/** What the masking transform must make of the table: trials dropped, emails masked. */
const masked = () =>
  new Map(
    items
      .filter((i) => i.plan?.S !== 'trial')
      .map((i) => [objectKey(i), canonicalItemJson({ ...i, email: { S: 'masked@example.com' } })]),
  );

const moduleFile = (name: string, source: string) => {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
};
const mask = moduleFile(
  'mask.mjs',
  `export default (item) => item.plan.S === 'trial' ? undefined : { ...item, email: { S: 'masked@example.com' } };\n`,
);
const rekey = moduleFile(
  'rekey.mjs',
  `export default (item) => ({ ...item, pk: { S: item.pk.S + '-copy' } });\n`,
);
const plainValue = moduleFile('plain.mjs', `export default (item) => ({ ...item, email: 'hidden' });\n`);
const throwsOnce = moduleFile(
  'throws.mjs',
  `export function transform(item) { if (item.n.N === '17') throw new Error('no plan for this one'); return item; }\n`,
);

const source = ['--bucket', bucket, '--table', table];
const restoreArgs = (target: string, extra: string[]) => [
  'restore',
  ...source,
  '--target-table',
  track(target),
  '--create-table',
  ...extra,
];

/** A restore of one item into `target` without --create-table: it fails when target does not exist. */
const missingTarget = (target: string) =>
  runCli(['restore', ...source, '--target-table', target, '--keys', '[{"pk":"customer-1"}]']);

beforeAll(async () => {
  const events = new EventBuilder(table);
  const t = Math.floor(Date.now() / 1000) - 120;
  const records = items.map((item) => events.record('INSERT', { pk: item.pk as WireItem[string] }, t, item));
  const out = await writeStreamBatch(
    { s3, dynamodb, log: silentLog },
    { bucket, concurrency: 16 },
    events.event(records),
  );
  expect(out.batchItemFailures).toEqual([]);
});

describe('--transform', () => {
  it('restore writes every item as the transform makes it, and drops what it drops', async () => {
    const target = randomName('transform-masked');
    const cli = await runCli([...restoreArgs(target, ['--transform', mask, '--json'])]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ itemsPut: 30, itemsDeleted: 0 });
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(masked());
  });

  it('the dry run shows a few transformed items and writes nothing', async () => {
    const target = randomName('transform-dry');
    const cli = await runCli([...restoreArgs(target, ['--transform', mask, '--dry-run'])]);
    expect(cli.code).toBe(0);
    const shown = cli.stdout.split('\n').filter((l) => l.startsWith('  transformed: '));
    expect(shown).toHaveLength(3);
    for (const line of shown) {
      const item = JSON.parse(line.slice('  transformed: '.length)) as WireItem;
      expect(masked().get(objectKey(item))).toBe(canonicalItemJson(item));
    }
    expect(cli.stdout).toMatch(/put 30, deleted 0/);
    const listed = await missingTarget(target);
    expect(listed.stderr).toMatch(/does not exist|not found|ResourceNotFound/i);
  });

  it('a transform that changes a key, throws, or returns plain JSON stops in one line naming the key hash; nothing is written', async () => {
    for (const [file, message, hashed] of [
      [
        rekey,
        /changed key attribute `pk` of the item with key hash ([0-9a-f]{16}): keys must stay keys/,
        undefined,
      ],
      [
        throwsOnce,
        /The transform failed on the item with key hash ([0-9a-f]{16}): no plan for this one/,
        items[17],
      ],
      [
        plainValue,
        /attribute `email` of the item with key hash ([0-9a-f]{16}) is not one typed value/,
        undefined,
      ],
    ] as const) {
      const target = randomName('transform-bad');
      const cli = await runCli(restoreArgs(target, ['--transform', file]));
      expect(cli.code).toBe(2);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      const match = message.exec(cli.stderr);
      expect(match).not.toBeNull();
      if (hashed) expect(match?.[1]).toBe(keyHash(objectKey(hashed)));
      // The item is named by its key hash only: no key or value in the message.
      expect(cli.stderr).not.toMatch(/customer-|example\.org/);
      expect((await tableState(dynamodb, target, loc, ['pk'])).size).toBe(0);
    }
  });

  it('refuses a missing module or one without a function before creating anything', async () => {
    const none = moduleFile('none.mjs', 'export const answer = 42;\n');
    for (const [file, message] of [
      [
        join(dir, 'absent.mjs'),
        /Expected `--transform` to name an ES module file, got `.*absent\.mjs` \(no such file\)/,
      ],
      [none, /Expected the transform module `.*none\.mjs` to export a function/],
    ] as const) {
      const target = randomName('transform-none');
      const cli = await runCli(restoreArgs(target, ['--transform', file]));
      expect(cli.code).toBe(2);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      expect(cli.stderr).toMatch(message);
      const probe = await missingTarget(target);
      // The plan never got to create the target.
      expect(probe.code).toBe(2);
      expect(probe.stderr).toMatch(/does not exist|not found|ResourceNotFound/i);
    }
  });

  it('export writes the transformed items; a key-changing transform leaves no data file and no manifest', async () => {
    const file = join(dir, 'masked.json.gz');
    const ok = await runCli(['export', ...source, '--out', file, '--transform', mask, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ items: 30 });
    const lines = gunzipSync(readFileSync(file)).toString().trim().split('\n');
    const got = new Map(
      lines.map((l) => {
        const item = (JSON.parse(l) as { Item: WireItem }).Item;
        return [objectKey(item), canonicalItemJson(item)];
      }),
    );
    expect(got).toEqual(masked());

    const folder = join(dir, 'bad-export/');
    const bad = await runCli(['export', ...source, '--out', folder, '--transform', rekey]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/changed key attribute `pk`/);
    const root = join(folder, 'AWSDynamoDB');
    const exports = existsSync(root) ? readdirSync(root) : [];
    for (const id of exports) {
      expect(existsSync(join(root, id, 'manifest-summary.json'))).toBe(false);
      const data = join(root, id, 'data');
      expect(existsSync(data) ? readdirSync(data) : []).toEqual([]);
    }
  });
});
