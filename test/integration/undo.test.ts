import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { UndoJobContext, UndoJobSummary } from '../../core/aws/jobs/undo-job';
import { undoJob } from '../../core/aws/jobs/undo-job';
import { runJob } from '../../core/aws/run-job';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import type { UndoConflict, UndoOutcome } from '../../core/aws/undo';
import { canonicalItemJson, type WireItem, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import { handler as jobsHandler } from '../../functions/jobs/handler';
import { withoutIndex } from '../support/change-index';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { runJobSteps } from '../support/job-steps';
import { randomName } from '../support/local-env';
import { PK_SK, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';
import { TableModel } from '../support/workload';

// A bad deploy and its undo, on the real servers against a model of every change:
// writes before T1; a burst in [T1, T2] that modifies, deletes and inserts items (some twice,
// some back to where they were); legitimate writes after T2 to some of the same items; a write
// the backup has not seen yet; and writes racing the undo itself. The backup holds the stream
// (synthetic records with exact change times); the table holds what those changes left.
const { s3, dynamodb, bucket, table, loc, track } = scratchBackup('undo', PK_SK);
const deps = { s3, dynamodb, log: silentLog };
const names = ['pk', 'sk'];

const events = new EventBuilder(table);
const model = new TableModel();
const records: DynamoDBRecord[] = [];
const keyOf = new Map<string, WireItem>();
const base = Math.floor(Date.now() / 1000) - 4 * 3600;
const T1 = (base + 2000) * 1000;
const T2 = (base + 2600) * 1000;
const sec = (ms: number) => ms / 1000;

const keys = (i: number): WireItem => ({ pk: { S: `order#${i}` }, sk: { N: String(i % 3) } });
const id = (i: number) => String(i);
const image = (i: number, status: string, extra: WireItem = {}): WireItem => ({
  ...keys(i),
  status: { S: status },
  total: { N: String(100 + i) },
  tags: { SS: ['a', `t${i % 4}`] },
  doc: { M: { city: { S: 'Zürich' }, lines: { L: [{ N: String(i) }, { S: 'x' }] } } },
  ...extra,
});

function change(i: number, timeS: number, next: WireItem | undefined): void {
  keyOf.set(id(i), keys(i));
  const old = model.get(id(i));
  records.push(
    next
      ? events.record(old ? 'MODIFY' : 'INSERT', keys(i), timeS, next)
      : events.record('REMOVE', keys(i), timeS, undefined, old ? { oldImage: old } : {}),
  );
  model.apply(id(i), timeS, next);
}

/** The bad deploy's damage: what it did to the good image of item i. */
const corrupt = (i: number): WireItem => {
  const good = model.get(id(i)) ?? image(i, 'ok');
  const { doc: _doc, ...rest } = good;
  return { ...rest, status: { S: 'CORRUPT' }, bad: { BOOL: true } };
};

// Items 0-199 exist before T1; 120-139 are deleted before T1 (absent, and stay so unless the deploy makes them).
const BEFORE_ONLY = { from: 150, to: 169 }; // changed before T1 only: outside the window
const AFTER_ONLY = { from: 170, to: 179 }; // changed after T2 only: outside the window
const CORRUPTED = { from: 0, to: 59 }; // modified in the window
const DELETED = { from: 60, to: 79 }; // deleted in the window
const INSERTED = { from: 200, to: 219 }; // created in the window
const BOUNCED = { from: 80, to: 84 }; // modified in the window, then back to the good image
const LATER = [0, 1, 2, 60, 61, 200, 201]; // legitimate writes after T2: conflicts
const UNSEEN = 3; // written to the table after T2, the backup has not seen it yet: a conflict
const RACED_CHANGE = 10; // a write reaches it between the undo's read and its write
const RACED_ADD = 11; // a racing write only adds an attribute: kept, reported
const RACED_RECREATE = 62; // deleted in the window; a racing write recreates it
const RACED_DELETE_ADD = 202; // inserted in the window (the undo deletes it); a racing write adds to it
const range = (r: { from: number; to: number }) =>
  Array.from({ length: r.to - r.from + 1 }, (_, k) => r.from + k);

beforeAll(async () => {
  for (let i = 0; i < 200; i++) change(i, base + (i % 50), image(i, 'ok'));
  for (let i = 120; i < 140; i++) change(i, base + 100, undefined);
  for (const i of range(BEFORE_ONLY)) change(i, base + 500, image(i, 'edited'));
  // The deploy: its first change at T1 exactly, its last at T2 exactly (both in the window).
  for (const i of range(CORRUPTED)) change(i, sec(T1) + (i % 60), corrupt(i));
  for (const i of range(DELETED)) change(i, sec(T1) + 60 + (i % 20), undefined);
  for (const i of range(INSERTED))
    change(i, sec(T1) + 100 + (i % 20), image(i, 'CORRUPT', { bad: { BOOL: true } }));
  for (const i of range(BOUNCED)) change(i, sec(T1) + 200, corrupt(i));
  for (const i of range(BOUNCED)) change(i, sec(T1) + 300, image(i, 'ok'));
  change(5, sec(T1) + 400, { ...corrupt(5), total: { N: '0' } }); // twice in the window
  change(6, sec(T2), { ...corrupt(6), total: { N: '-1' } });
  // After T2: legitimate writes to damaged items, and to items the deploy never touched.
  for (const i of LATER) change(i, sec(T2) + 60, image(i, 'customer-edit', { note: { S: 'keep me' } }));
  for (const i of range(AFTER_ONLY)) change(i, sec(T2) + 120, image(i, 'later'));
  for (let i = 0; i < records.length; i += 100)
    await writeStreamBatch(deps, { bucket, concurrency: 16 }, events.event(records.slice(i, i + 100)));
  await loadTable(table);
  // A write the backup has not seen yet (the stream is behind): the table differs from the backup.
  await putItem(table, image(UNSEEN, 'unseen-write'));
}, 300_000);

/** The table as the model's last state leaves it. */
async function loadTable(name: string): Promise<void> {
  const items = [...keyOf.keys()].flatMap((k) => {
    const item = model.get(k);
    return item ? [item] : [];
  });
  for (let i = 0; i < items.length; i += 25)
    await dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [name]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: wireItemToSdk(item) } })),
        },
      }),
    );
}

const putItem = (name: string, item: WireItem) =>
  dynamodb.send(new PutItemCommand({ TableName: name, Item: wireItemToSdk(item) }));
const ok = (i: number) => objectKeyFor(loc, keys(i));
const asJson = (item: WireItem) => canonicalItemJson(item);
const state = (name: string) => tableState(dynamodb, name, loc, names);
const expectedBefore = (i: number) => {
  const snap = model.asOf(T1 - 1);
  return snap.get(id(i));
};
const window = ['--since', String(T1), '--until', String(T2)];
const source = ['--table', table, '--bucket', bucket];

/** Items the deploy damaged and the undo must put back: changed in the window, not after it. */
const damaged = () =>
  [...range(CORRUPTED), ...range(DELETED), ...range(INSERTED)].filter(
    (i) => !LATER.includes(i) && i !== UNSEEN,
  );

describe('undo: a bad deploy put back, later writes left alone', () => {
  it('--dry-run prints the plan and writes nothing (exit 3: it has conflicts)', async () => {
    const stateBefore = await state(table);
    const run = await runCli(['undo', ...source, ...window, '--dry-run', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    const plan = JSON.parse(run.stdout) as UndoJobSummary;
    expect(plan.dryRun).toBe(true);
    expect(plan.changesFrom).toBe('index');
    // Changed in the window: corrupted, deleted, inserted, bounced.
    expect(plan.changedItems).toBe(60 + 20 + 20 + 5);
    expect(plan.conflicts).toBe(LATER.length + 1);
    expect(plan.unchanged).toBe(5);
    expect(plan.restored).toBe(60 + 20 - 5 - 1); // minus 0,1,2,60,61 (later) and 3 (unseen)
    expect(plan.deleted).toBe(20 - 2); // minus 200, 201 (later)
    const reasons = Object.fromEntries(plan.conflictItems.map((c) => [String(c.key.pk?.S), c.reason]));
    expect(reasons).toEqual({
      ...Object.fromEntries(LATER.map((i) => [`order#${i}`, 'changed-after-window'])),
      [`order#${UNSEEN}`]: 'differs-from-backup',
    });
    // Both states of a conflict: the one before the window, and the later one.
    const zero = plan.conflictItems.find((c) => c.key.pk?.S === 'order#0') as UndoConflict;
    expect(zero.before && asJson(zero.before)).toBe(expectedBefore(0));
    expect(zero.now?.status).toEqual({ S: 'customer-edit' });
    expect(zero.later?.status).toEqual({ S: 'customer-edit' });
    expect(await state(table)).toEqual(stateBefore);
  });

  it('without the change index it lists every version, says so, and plans the same', async () => {
    const run = await withoutIndex(s3, loc, () =>
      runCli(['undo', ...source, ...window, '--dry-run', '--json']),
    );
    expect(run.code).toBe(3);
    const plan = JSON.parse(run.stdout) as UndoJobSummary;
    expect(plan.changesFrom).toBe('listing');
    expect(plan.note).toMatch(/index/);
    expect([plan.changedItems, plan.restored, plan.deleted, plan.unchanged, plan.conflicts]).toEqual([
      105,
      60 + 20 - 5 - 1,
      18,
      5,
      LATER.length + 1,
    ]);
  });

  it('in place without --yes and without a terminal: shows the plan, writes nothing, exit 2', async () => {
    const stateBefore = await state(table);
    const run = await runCli(['undo', ...source, ...window]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/undo plan for .* \(nothing written\)/);
    expect(run.stderr).toMatch(/run again with --yes/);
    expect(await state(table)).toEqual(stateBefore);
  });

  it('refuses bad input in one line with exit 2', async () => {
    const bad = [
      [['--since', String(T2), '--until', String(T1)], /--since.*at or before.*--until/],
      [['--since', 'yesterday'], /--since/],
      [
        ['--since', String(T1), '--target-table', randomName('undo-missing')],
        /does not exist: an undo writes into an existing table/,
      ],
    ] as const;
    for (const [args, message] of bad) {
      const run = await runCli(['undo', ...source, ...args, '--dry-run']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
  });

  it('into a copy: puts back what the deploy damaged, reports later changes, touches nothing else', async () => {
    const copy = track(randomName('undo-copy'));
    const made = await runCli(['restore', ...source, '--target-table', copy, '--create-table']);
    expect(made.code).toBe(0);
    const run = await runCli(['undo', ...source, ...window, '--target-table', copy, '--json']);
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout) as UndoJobSummary;
    // The copy holds the backup's latest state: only the backup's later changes conflict.
    expect(summary.conflicts).toBe(LATER.length);
    const after = await state(copy);
    const want = expectedCopy();
    expect(after).toEqual(want);

    // --overwrite-later-changes: the later writes are undone too.
    const over = await runCli([
      'undo',
      ...source,
      ...window,
      '--target-table',
      copy,
      '--overwrite-later-changes',
      '--json',
    ]);
    expect(over.code).toBe(0);
    expect(JSON.parse(over.stdout).restored).toBe(5);
    for (const i of LATER) expect((await state(copy)).get(ok(i))).toBe(expectedBefore(i));
  });

  it('as the restore function runs it (Lambda handler, step by step, tasks continued at the deadline): the same undo into a copy', async () => {
    const copy = track(randomName('undo-lambda'));
    expect((await runCli(['restore', ...source, '--target-table', copy, '--create-table'])).code).toBe(0);
    const saved = process.env.DDB_REWIND_JOBS;
    process.env.DDB_REWIND_JOBS = 'restore,undo';
    try {
      // Lambda's clock runs out every eighth look: tasks stop between items and continue.
      let looks = 0;
      const context = { getRemainingTimeInMillis: () => (++looks % 8 === 0 ? 0 : 900_000) };
      const send = (event: unknown) => jobsHandler(event, context);
      const { summary, tasks, outcomes } = await runJobSteps<UndoJobSummary>(send, {
        job: 'undo',
        table,
        bucket,
        since: new Date(T1).toISOString(),
        until: T2,
        targetTable: copy,
        partitions: 4,
      });
      expect(tasks.partitions.length).toBe(4);
      expect(outcomes.filter((o) => !o.done).length).toBeGreaterThan(4);
      // Every part of every task counted once: the copy is damaged like the table, item 3 included.
      expect(summary).toMatchObject({ restored: 75, deleted: 18, unchanged: 5, conflicts: LATER.length });
      expect(await state(copy)).toEqual(expectedCopy());
    } finally {
      if (saved === undefined) delete process.env.DDB_REWIND_JOBS;
      else process.env.DDB_REWIND_JOBS = saved;
    }
  });

  it('in place with writes racing it: never overwrites one, reports each; the rest equals the state before T1', async () => {
    const before = await state(table);
    const seen: UndoOutcome[] = [];
    const ctx: UndoJobContext = {
      ...deps,
      // Between the undo's read of an item and its write, a client writes it.
      onDecided: async (out) => {
        const i = Number(out.key.pk?.S?.split('#')[1]);
        if (i === RACED_CHANGE) await putItem(table, image(i, 'raced'));
        if (i === RACED_ADD)
          await putItem(table, { ...(model.get(id(i)) as WireItem), added: { S: 'racer' } });
        if (i === RACED_RECREATE) await putItem(table, image(i, 'recreated'));
        if (i === RACED_DELETE_ADD)
          await putItem(table, { ...(model.get(id(i)) as WireItem), added: { S: 'racer' } });
      },
      onOutcome: (out) => void seen.push(out),
    };
    const summary = await runJob(ctx, undoJob, {
      source: loc,
      sinceMs: T1,
      untilMs: T2,
      targetTable: table,
      inPlace: true,
      partitions: 3,
    });
    const reasonOf = (i: number) => seen.find((o) => o.key.pk?.S === `order#${i}`)?.conflict?.reason;
    expect(reasonOf(RACED_CHANGE)).toBe('changed-during-undo');
    expect(reasonOf(RACED_RECREATE)).toBe('changed-during-undo');
    expect(reasonOf(RACED_ADD)).toBe('attributes-added-during-undo');
    expect(reasonOf(RACED_DELETE_ADD)).toBe('attributes-added-during-undo');
    for (const i of LATER) expect(reasonOf(i)).toBe('changed-after-window');
    expect(reasonOf(UNSEEN)).toBe('differs-from-backup');
    expect(summary.conflicts).toBe(LATER.length + 1 + 4);

    const after = await state(table);
    // Raced items hold the racing write (an added attribute kept on the item put back).
    expect(after.get(ok(RACED_CHANGE))).toBe(asJson(image(RACED_CHANGE, 'raced')));
    expect(after.get(ok(RACED_RECREATE))).toBe(asJson(image(RACED_RECREATE, 'recreated')));
    expect(after.get(ok(RACED_ADD))).toBe(
      asJson({ ...JSON.parse(expectedBefore(RACED_ADD) as string), added: { S: 'racer' } }),
    );
    expect(after.get(ok(RACED_DELETE_ADD))).toBe(
      asJson({ ...(model.get(id(RACED_DELETE_ADD)) as WireItem), added: { S: 'racer' } }),
    );
    // Every other damaged item is as it was before T1; conflicts and the rest are untouched.
    const raced = [RACED_CHANGE, RACED_ADD, RACED_RECREATE, RACED_DELETE_ADD];
    const want = new Map(before);
    for (const i of damaged().filter((i) => !raced.includes(i))) {
      const b = expectedBefore(i);
      if (b === undefined) want.delete(ok(i));
      else want.set(ok(i), b);
    }
    for (const i of raced) want.set(ok(i), after.get(ok(i)) as string);
    expect(after).toEqual(want);
    expect(after.get(ok(UNSEEN))).toBe(asJson(image(UNSEEN, 'unseen-write')));
    for (const i of [...range(BEFORE_ONLY), ...range(AFTER_ONLY), ...range(BOUNCED)])
      expect(after.get(ok(i))).toBe(before.get(ok(i)));

    // Undone, the only items left to undo are the conflicts: a second undo writes nothing new.
    const again = await runCli([
      'undo',
      ...source,
      ...window,
      '--keys',
      JSON.stringify(
        damaged()
          .filter((i) => !raced.includes(i))
          .slice(0, 5)
          .map(keys),
      ),
      '--yes',
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ restored: 0, deleted: 0, unchanged: 5, conflicts: 0 });
  });
});

/** A copy of the backup's latest state, undone: damaged items and bounced ones as before T1. */
function expectedCopy(): Map<string, string> {
  const latest = model.asOf(Number.MAX_SAFE_INTEGER);
  const out = new Map<string, string>();
  for (const [k, v] of latest) out.set(objectKeyFor(loc, keyOf.get(k) ?? {}), v);
  // In a copy, item 3's unseen write is not there: it is damaged like the others.
  for (const i of [...damaged(), UNSEEN]) {
    const b = expectedBefore(i);
    if (b === undefined) out.delete(ok(i));
    else out.set(ok(i), b);
  }
  return out;
}
