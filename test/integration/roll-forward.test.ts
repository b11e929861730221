import { writeStreamBatch } from '../../core/aws/stream-writer';
import { silentLog } from '../../core/log';
import { withoutIndex } from '../support/change-index';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { expectedAsOf, randomWorkload, type Workload } from '../support/workload';

// Roll forward (restore --since T1 --at T2): a copy restored as of T1, brought to T2 by writing
// only the items changed in between, equals a full restore as of T2 and the model; found through
// the change index, or by listing where the index does not cover.
const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('rollfwd', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
let work: Workload;
let t1 = 0;
let t2 = 0;

const source = () => ['--table', table, '--bucket', bucket];
const restoreCli = (target: string, extra: string[]) =>
  runCli(['restore', ...source(), '--target-table', target, '--json', ...extra]);
const state = (t: string) => tableState(dynamodb, t, loc, ['pk', 'sk']);

/** Items whose state changed in (from, to], by the model. */
const changedBetween = (from: number, to: number) => {
  const a = expectedAsOf(work, loc, from);
  const b = expectedAsOf(work, loc, to);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).length;
};

beforeAll(async () => {
  const events = new EventBuilder(table);
  work = randomWorkload(events, 1703, 120, 700, Math.floor(Date.now() / 1000) - 3600);
  for (let i = 0; i < work.records.length; i += 100)
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(work.records.slice(i, i + 100)));
  const span = work.lastS - work.firstS;
  t1 = (work.firstS + Math.floor(span / 2)) * 1000 + 500;
  t2 = (work.firstS + Math.floor((span * 4) / 5)) * 1000 + 500;
}, 300_000);

describe('restore --since (roll forward)', () => {
  it('brings a copy as of T1 to T2 writing only what changed: equal to a full restore as of T2', async () => {
    const copy = track(randomName('rollfwd-copy'));
    const first = await restoreCli(copy, ['--at', String(t1), '--create-table', '--mode', 'rewind']);
    expect(first.code).toBe(0);
    expect(await state(copy)).toEqual(expectedAsOf(work, loc, t1));

    const rolled = await restoreCli(copy, ['--since', String(t1), '--at', String(t2)]);
    expect(rolled.stderr).toBe('');
    expect(rolled.code).toBe(0);
    const summary = JSON.parse(rolled.stdout);
    const changed = changedBetween(t1, t2);
    expect(changed).toBeGreaterThan(10);
    expect(summary.rolledForward).toEqual({
      sinceMs: t1,
      changedItems: expect.any(Number),
      changesFrom: 'index',
    });
    // Every item the model says changed was written (put or deleted); others were not even read.
    expect(summary.itemsPut + summary.itemsDeleted).toBe(changed);
    // Items the window touched but left as they were (inserted then deleted) count in none.
    expect(summary.rolledForward.changedItems).toBeGreaterThanOrEqual(changed);
    expect(summary.itemsUnchanged).toBe(0);
    expect(summary.targetItemsRead).toBe(0);
    expect(await state(copy)).toEqual(expectedAsOf(work, loc, t2));

    const full = track(randomName('rollfwd-full'));
    expect((await restoreCli(full, ['--at', String(t2), '--create-table'])).code).toBe(0);
    expect(await state(copy)).toEqual(await state(full));
  });

  it('lists every version where the index does not cover, and says so: the same copy', async () => {
    const copy = track(randomName('rollfwd-nodx'));
    expect((await restoreCli(copy, ['--at', String(t1), '--create-table'])).code).toBe(0);
    await withoutIndex(s3, loc, async () => {
      const rolled = await runCli([
        'restore',
        ...source(),
        '--target-table',
        copy,
        '--since',
        String(t1),
        '--at',
        String(t2),
      ]);
      expect(rolled.code).toBe(0);
      expect(rolled.stdout).toMatch(
        /rolled forward from \S+: \d+ items changed since, found by listing every version \(this backup has no change index/,
      );
      expect(await state(copy)).toEqual(expectedAsOf(work, loc, t2));
    });
  });

  it('refuses --since after --at, with --keys, or with --create-table, in one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['--since', String(t2), '--at', String(t1)],
        /Expected `--since` \(\S+\) to be before `--at` \(\S+\): the window runs from --since to --at/,
      ],
      [['--since', String(t1), '--keys', '[{"pk":"a","sk":1}]'], /Expected --since or --keys, not both/],
      [['--since', String(t1), '--create-table'], /Expected an existing target with --since/],
    ];
    for (const [extra, message] of cases) {
      const out = await runCli(['restore', ...source(), '--target-table', `${table}-none`, ...extra]);
      expect(out.code).toBe(2);
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(message);
    }
  });
});
