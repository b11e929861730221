import { nextReadyAt, paceWaitMs, waitTurn } from '../../core/aws/backfill';
import { parseBackfillEvent, rcuFromPercent, segmentRcu } from '../../core/aws/jobs/backfill-job';

describe('the backfill rate is shared by its segments', () => {
  it('gives each of 4 segments a quarter of --max-rcu, fractions kept, summing to the total', () => {
    expect(segmentRcu(100, 4)).toBe(25);
    // Rounding down would give 0 and stop the scan; rounding up would read 4 RCU/s, not 1.
    expect(segmentRcu(1, 4)).toBe(0.25);
    expect(segmentRcu(10, 3) * 3).toBeCloseTo(10, 9);
    expect(segmentRcu(7, 1)).toBe(7);
  });

  it('turns --read-percent of the provisioned capacity into a total before it is split', () => {
    expect(rcuFromPercent(400, 25)).toBe(100);
    expect(segmentRcu(rcuFromPercent(400, 25), 4)).toBe(25);
    expect(rcuFromPercent(3, 50)).toBe(1.5);
  });
});

describe("a segment's pace", () => {
  it('never reads faster than its share in the long run, with one second of burst', () => {
    // 7 units a page at 0.25 units/s: each page waits out the last one's cost.
    const rate = 0.25;
    let readyAt: number | undefined;
    let now = 1_000_000;
    const sent: number[] = [];
    for (let page = 0; page < 20; page++) {
      now += paceWaitMs(readyAt, now);
      sent.push(now);
      readyAt = nextReadyAt(readyAt, now, 7, rate);
    }
    const elapsedS = (sent.at(-1) as number) - (sent[0] as number);
    // 19 pages paid for by the time the 20th is sent, less one second of burst.
    expect(19 * 7).toBeLessThanOrEqual(rate * (elapsedS / 1000 + 1) + 1e-9);
    expect(sent[1] as number).toBe(1_000_000 + 28_000 - 1000);
  });

  it('sends at once when idle, and carries a debt across a pause no further than now', () => {
    expect(paceWaitMs(undefined, 5)).toBe(0);
    expect(paceWaitMs(10_000, 20_000)).toBe(0);
    // Idle since 10 s: the next page is charged from when it is sent, not from the old schedule.
    expect(nextReadyAt(10_000, 20_000, 2, 1)).toBe(22_000);
    expect(nextReadyAt(30_000, 20_000, 2, 1)).toBe(32_000);
  });

  it('stops waiting at the deadline, so a small share never runs a task past its time', async () => {
    const far = Date.now() + 3_600_000;
    expect(await waitTurn(far, () => true)).toBe(false);
    expect(await waitTurn(undefined, () => true)).toBe(true);
  });
});

describe('the backfill Lambda event', () => {
  const base = { table: 'orders', bucket: 'backups' };

  it('reads the fields, with the defaults the CLI has', () => {
    expect(parseBackfillEvent(base)).toEqual({
      source: { bucket: 'backups', table: 'orders', prefix: '' },
      segments: 4,
      timePrecisionMs: 1000,
    });
    expect(
      parseBackfillEvent({
        ...base,
        prefix: 'prod',
        segments: 16,
        maxRcu: '400',
        timePrecisionMs: 60000,
        resumeJobId: 'backfill-20261202T101500Z-0a1b2c3d',
        job: 'backfill',
      }),
    ).toEqual({
      source: { bucket: 'backups', table: 'orders', prefix: 'prod/' },
      segments: 16,
      maxRcu: 400,
      timePrecisionMs: 60000,
      resumeJobId: 'backfill-20261202T101500Z-0a1b2c3d',
    });
    expect(parseBackfillEvent({ ...base, readPercent: 50 }).readPercent).toBe(50);
  });

  it.each([
    [null, 'Expected the backfill event to be a JSON object, got null'],
    [{ bucket: 'backups' }, 'Expected "table" in the backfill event'],
    [{ ...base, table: 7 }, 'Expected "table" in the backfill event to be a string, got 7'],
    [
      { ...base, segments: 0 },
      'Expected `"segments" in the backfill event` to be a whole number from 1 to 1000000, got `0`',
    ],
    [
      { ...base, segments: 2.5 },
      'Expected `"segments" in the backfill event` to be a whole number from 1 to 1000000, got `2.5`',
    ],
    [{ ...base, maxRcu: true }, 'Expected "maxRcu" in the backfill event to be a number, got true'],
    [
      { ...base, readPercent: 101 },
      'Expected `"readPercent" in the backfill event` to be a whole number from 1 to 100, got `101`',
    ],
    [
      { ...base, maxRcu: 10, readPercent: 10 },
      'Give either "maxRcu" or "readPercent" in the backfill event, not both',
    ],
    [{ ...base, maxRCU: 10 }, 'Unknown field "maxRCU" in the backfill event'],
    [
      { ...base, resumeJobId: 'restore-20261202T101500Z-0a1b2c3d' },
      'Expected "resumeJobId" to be the id of a backfill run',
    ],
    [{ ...base, resumeJobId: '../other' }, 'Expected "resumeJobId" to be the id of a backfill run'],
  ])('refuses %j in one line', (event, message) => {
    expect(() => parseBackfillEvent(event)).toThrow(message);
    try {
      parseBackfillEvent(event);
    } catch (err) {
      expect((err as Error).name).toBe('InputError');
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
