import { BackupReader } from '../../core/aws/backup-reader';
import { historyPage } from '../../core/aws/history-page';
import { type HistoryEntry, itemHistory } from '../../core/aws/item-history';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import type { WireItem } from '../../core/ddb-json';
import type { HistoryCursor } from '../../core/history-page';
import { silentLog } from '../../core/log';
import { EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

// A timeline read a page at a time (the console's item page) must be the whole history's tail,
// page after page, whatever order the versions were written in.
const { s3, dynamodb, bucket, table, loc } = scratchBackup('history-page');
const key = { pk: { S: 'hot item' } };
const image = (n: number): WireItem => ({ ...key, n: { N: String(n) }, even: { BOOL: n % 2 === 0 } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (e: HistoryEntry) => ({
  time: e.time,
  event: e.event,
  version: e.versionId,
  changes: e.changes,
});

beforeAll(async () => {
  const ev = new EventBuilder(table);
  const deps = { s3, dynamodb, log: silentLog };
  const write = (records: ReturnType<EventBuilder['record']>[]) =>
    writeStreamBatch(deps, { bucket, concurrency: 8 }, ev.event(records));
  // Changes first in change time, written last: a replay of records three days old, more than
  // LATE_WRITE_MS after their changes, so pages of them have cursors far older than their writes.
  const late = Math.floor(Date.now() / 1000) - 3 * 86_400;
  const lateRecords = Array.from({ length: 10 }, (_, i) =>
    ev.record('MODIFY', key, late + i * 60, image(1000 + i)),
  );
  let n = 0;
  for (let batch = 0; batch < 3; batch++) {
    const now = Math.floor(Date.now() / 1000);
    const records = Array.from({ length: 12 }, () =>
      ev.record(n === 0 ? 'INSERT' : 'MODIFY', key, now, image(n++)),
    );
    await write(records);
    if (batch === 1) await write(records.slice(3, 6)); // redelivered
    await sleep(3100); // more than the clock-skew bound between batches: early pages settle
  }
  const now = Math.floor(Date.now() / 1000);
  await write([ev.record('REMOVE', key, now, undefined, { oldImage: image(n - 1) })]);
  await write([ev.record('INSERT', key, now, image(2000))]);
  await write(lateRecords);
});

describe('historyPage', () => {
  it('pages through the whole history, newest first, each page the exact tail before its cursor', async () => {
    const whole = await itemHistory(new BackupReader(s3, loc), key);
    expect(whole.entries.length).toBe(10 + 36 + 2);
    const pages: HistoryEntry[][] = [];
    let before: HistoryCursor | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await historyPage(new BackupReader(s3, loc), key, {
        limit: 7,
        ...(before ? { before } : {}),
      });
      pages.push(page.entries);
      if (!page.older) break;
      before = page.older;
    }
    expect(pages.length).toBe(Math.ceil(whole.entries.length / 7));
    expect(pages.every((p, i) => p.length === 7 || i === pages.length - 1)).toBe(true);
    expect(pages.reverse().flat().map(summary)).toEqual(whole.entries.map(summary));
  });

  it('reads fewer versions than the whole history for the newest page when the writes are spread out', async () => {
    const whole = await itemHistory(new BackupReader(s3, loc), key);
    const first = await historyPage(new BackupReader(s3, loc), key, { limit: 5 });
    expect(first.entries.map(summary)).toEqual(whole.entries.slice(-5).map(summary));
    expect(first.versionsListed).toBe(10 + 36 + 3 + 2);
    // The last batches settle once the batch written 3 s before them is next: about 2 batches read, not 4.
    expect(first.s3Requests).toBeLessThan(whole.s3Requests);
  });
});
