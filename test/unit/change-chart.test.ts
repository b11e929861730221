import {
  CHART_SERIES,
  type ChangeChart,
  type ChartSeries,
  chartStep,
  countChange,
  emptyChart,
  seriesOf,
} from '../../core/change-chart';
import type { ChangeCause, ChangeEvent } from '../../core/change-record';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 9, 17, 23, 456);

const total = (chart: ChangeChart, series: ChartSeries): number =>
  chart.counts[series].reduce((a, b) => a + b, 0);
const allTotal = (chart: ChangeChart): number => CHART_SERIES.reduce((a, s) => a + total(chart, s), 0);
/** Where each series has a non-zero count, as `series@barIndex=count`. */
const nonZero = (chart: ChangeChart): string[] =>
  CHART_SERIES.flatMap((s) => chart.counts[s].flatMap((n, i) => (n ? [`${s}@${i}=${n}`] : [])));
const change = (timeMs: number, event: ChangeEvent = 'INSERT', cause: ChangeCause = 'user') => ({
  timeMs,
  event,
  cause,
});

describe('chartStep', () => {
  it('uses minutes up to and including 6 hours', () => {
    expect(chartStep(T0, T0)).toBe('minute');
    expect(chartStep(T0, T0 + MINUTE)).toBe('minute');
    expect(chartStep(T0, T0 + 6 * HOUR)).toBe('minute');
  });
  it('uses hours past 6 hours up to and including 14 days', () => {
    expect(chartStep(T0, T0 + 6 * HOUR + 1)).toBe('hour');
    expect(chartStep(T0, T0 + 7 * DAY)).toBe('hour');
    expect(chartStep(T0, T0 + 14 * DAY)).toBe('hour');
  });
  it('uses days past 14 days', () => {
    expect(chartStep(T0, T0 + 14 * DAY + 1)).toBe('day');
    expect(chartStep(T0, T0 + 400 * DAY)).toBe('day');
  });
});

describe('emptyChart', () => {
  const cases: Array<[string, number, number, number]> = [
    ['minute', T0, T0 + 2 * HOUR + 5 * MINUTE + 7_000, MINUTE],
    ['minute', T0, T0 + 6 * HOUR, MINUTE],
    ['hour', T0, T0 + 3 * DAY + 123_456, HOUR],
    ['hour', T0, T0 + 14 * DAY, HOUR],
    ['day', T0, T0 + 90 * DAY + 5 * HOUR, DAY],
    ['day', T0, T0 + 14 * DAY + 1, DAY],
  ];
  it.each(cases)('aligns %s bars and covers [from, to] (%#)', (step, fromMs, toMs, stepMs) => {
    const chart = emptyChart(fromMs, toMs);
    expect(chart.step).toBe(step);
    expect(chart.stepMs).toBe(stepMs);
    expect(chart.fromMs).toBe(fromMs);
    expect(chart.toMs).toBe(toMs);
    const first = chart.starts[0] as number;
    const last = chart.starts.at(-1) as number;
    // First bar at or before fromMs, and fromMs inside it.
    expect(first).toBeLessThanOrEqual(fromMs);
    expect(first + stepMs).toBeGreaterThan(fromMs);
    // Last bar covers toMs.
    expect(last).toBeLessThanOrEqual(toMs);
    expect(last + stepMs).toBeGreaterThan(toMs);
    // Every bar starts on a whole UTC minute, hour or day, one step apart.
    for (const [i, s] of chart.starts.entries()) {
      const d = new Date(s);
      expect(d.getUTCMilliseconds()).toBe(0);
      expect(d.getUTCSeconds()).toBe(0);
      if (step !== 'minute') expect(d.getUTCMinutes()).toBe(0);
      if (step === 'day') expect(d.getUTCHours()).toBe(0);
      if (i > 0) expect(s - (chart.starts[i - 1] as number)).toBe(stepMs);
    }
    for (const s of CHART_SERIES) expect(chart.counts[s]).toEqual(chart.starts.map(() => 0));
  });

  it('gives the exact bars of a known minute range', () => {
    const from = Date.UTC(2026, 0, 1, 10, 0, 30);
    const to = Date.UTC(2026, 0, 1, 10, 3, 0);
    expect(emptyChart(from, to).starts).toEqual([
      Date.UTC(2026, 0, 1, 10, 0),
      Date.UTC(2026, 0, 1, 10, 1),
      Date.UTC(2026, 0, 1, 10, 2),
      Date.UTC(2026, 0, 1, 10, 3),
    ]);
  });

  it('starts day bars at UTC midnight', () => {
    const from = Date.UTC(2026, 0, 1, 23, 59, 59, 999);
    const to = Date.UTC(2026, 0, 20, 0, 0, 0, 1);
    const chart = emptyChart(from, to);
    expect(chart.step).toBe('day');
    expect(chart.starts[0]).toBe(Date.UTC(2026, 0, 1));
    expect(chart.starts.at(-1)).toBe(Date.UTC(2026, 0, 20));
    expect(chart.starts).toHaveLength(20);
  });

  it('keeps to a few hundred bars at the step boundaries', () => {
    expect(emptyChart(T0, T0 + 6 * HOUR).starts.length).toBeLessThanOrEqual(361);
    expect(emptyChart(T0, T0 + 14 * DAY).starts.length).toBeLessThanOrEqual(337);
  });

  it('has one bar when from and to are the same instant', () => {
    const chart = emptyChart(T0, T0);
    expect(chart.starts).toEqual([Math.floor(T0 / MINUTE) * MINUTE]);
  });
});

describe('seriesOf', () => {
  it.each<[ChangeEvent, ChangeCause, ChartSeries]>([
    ['INSERT', 'user', 'insert'],
    ['MODIFY', 'user', 'modify'],
    ['REMOVE', 'user', 'remove'],
    ['REMOVE', 'ttl', 'ttl'],
    ['BACKFILL', 'backfill', 'backfill'],
    ['BACKFILL', 'user', 'backfill'],
    ['INSERT', 'backfill', 'backfill'],
  ])('%s caused by %s is drawn in %s', (event, cause, series) => {
    expect(seriesOf({ event, cause })).toBe(series);
  });
});

describe('countChange', () => {
  it('puts each change in its bar and series', () => {
    const from = Date.UTC(2026, 0, 1, 10, 0, 30);
    const to = Date.UTC(2026, 0, 1, 10, 3, 0);
    const chart = emptyChart(from, to);
    countChange(chart, change(from, 'INSERT')); // bar 0, its first instant in range
    countChange(chart, change(Date.UTC(2026, 0, 1, 10, 0, 59, 999), 'MODIFY')); // bar 0
    countChange(chart, change(Date.UTC(2026, 0, 1, 10, 1), 'MODIFY')); // bar 1, on its start
    countChange(chart, change(Date.UTC(2026, 0, 1, 10, 2, 30), 'REMOVE', 'ttl')); // bar 2
    countChange(chart, change(Date.UTC(2026, 0, 1, 10, 2, 31), 'REMOVE')); // bar 2
    countChange(chart, change(to, 'BACKFILL', 'backfill')); // bar 3, toMs itself
    countChange(chart, change(to, 'INSERT', 'backfill')); // bar 3
    expect(nonZero(chart)).toEqual([
      'insert@0=1',
      'modify@0=1',
      'modify@1=1',
      'remove@2=1',
      'ttl@2=1',
      'backfill@3=2',
    ]);
    // No series grew past the bars.
    for (const s of CHART_SERIES) expect(chart.counts[s]).toHaveLength(chart.starts.length);
  });

  it('ignores changes before fromMs or after toMs, even inside the first or last bar', () => {
    const from = Date.UTC(2026, 0, 1, 10, 0, 30);
    const to = Date.UTC(2026, 0, 1, 10, 3, 0);
    const chart = emptyChart(from, to);
    countChange(chart, change(from - 1)); // inside bar 0 but before the range
    countChange(chart, change(to + 1)); // inside bar 3 but after the range
    countChange(chart, change(from - DAY));
    countChange(chart, change(to + DAY, 'REMOVE', 'ttl'));
    expect(allTotal(chart)).toBe(0);
    for (const s of CHART_SERIES) expect(chart.counts[s]).toHaveLength(chart.starts.length);
  });

  it.each([
    ['minute', 5 * HOUR + 59 * MINUTE],
    ['hour', 13 * DAY + 7 * HOUR],
    ['day', 200 * DAY + 3 * HOUR],
  ])('counts every in-range change once with %s bars, in the bar that holds it', (step, span) => {
    const from = T0;
    const to = T0 + span;
    const chart = emptyChart(from, to);
    expect(chart.step).toBe(step);
    const kinds: Array<[ChangeEvent, ChangeCause, ChartSeries]> = [
      ['INSERT', 'user', 'insert'],
      ['MODIFY', 'user', 'modify'],
      ['REMOVE', 'user', 'remove'],
      ['REMOVE', 'ttl', 'ttl'],
      ['BACKFILL', 'backfill', 'backfill'],
    ];
    const expected = Object.fromEntries(CHART_SERIES.map((s) => [s, chart.starts.map(() => 0)])) as Record<
      ChartSeries,
      number[]
    >;
    let inRange = 0;
    // A deterministic spread of times, some outside the range.
    for (let i = 0; i < 1_000; i++) {
      const timeMs = from - span / 10 + Math.floor(((i * 7919) % 1_000) * (span / 800));
      const [event, cause, series] = kinds[i % kinds.length] as [ChangeEvent, ChangeCause, ChartSeries];
      countChange(chart, { timeMs, event, cause });
      if (timeMs >= from && timeMs <= to) {
        inRange++;
        const bar = chart.starts.findIndex((s) => s <= timeMs && timeMs < s + chart.stepMs);
        expect(bar).toBeGreaterThanOrEqual(0);
        (expected[series][bar] as number)++;
      }
    }
    expect(inRange).toBeGreaterThan(0);
    expect(inRange).toBeLessThan(1_000);
    expect(allTotal(chart)).toBe(inRange);
    expect(chart.counts).toEqual(expected);
  });
});
