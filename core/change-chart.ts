import type { ChangeCause, ChangeEvent } from './change-record';

/** How wide one bar of the change chart is: the range decides, so a chart has at most a few hundred. */
export type ChartStep = 'minute' | 'hour' | 'day';

/** The chart's series: user writes by event, TTL expiries and backfill apart (an operator reads them apart). */
export const CHART_SERIES = ['insert', 'modify', 'remove', 'ttl', 'backfill'] as const;
export type ChartSeries = (typeof CHART_SERIES)[number];

export interface ChangeChart {
  fromMs: number;
  toMs: number;
  step: ChartStep;
  stepMs: number;
  /** Bar start times, epoch ms, aligned to the step in UTC. */
  starts: number[];
  /** Per series, one count per bar. */
  counts: Record<ChartSeries, number[]>;
}

const STEP_MS: Record<ChartStep, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Minutes up to 6 hours (360 bars), hours up to 14 days (336 bars), days beyond. */
export function chartStep(fromMs: number, toMs: number): ChartStep {
  const span = toMs - fromMs;
  if (span <= 6 * STEP_MS.hour) return 'minute';
  if (span <= 14 * STEP_MS.day) return 'hour';
  return 'day';
}

/** An empty chart for [fromMs, toMs], its bars aligned to whole minutes, hours or UTC days. */
export function emptyChart(fromMs: number, toMs: number): ChangeChart {
  const step = chartStep(fromMs, toMs);
  const stepMs = STEP_MS[step];
  const starts: number[] = [];
  for (let t = Math.floor(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) starts.push(t);
  const counts = Object.fromEntries(
    CHART_SERIES.map((s) => [s, starts.map(() => 0)]),
  ) as ChangeChart['counts'];
  return { fromMs, toMs, step, stepMs, starts, counts };
}

/** The series a change is drawn in. */
export function seriesOf(change: { event: ChangeEvent; cause: ChangeCause }): ChartSeries {
  if (change.cause === 'ttl') return 'ttl';
  if (change.event === 'BACKFILL' || change.cause === 'backfill') return 'backfill';
  return change.event.toLowerCase() as ChartSeries;
}

/** Counts one change into its bar; changes outside the chart's range are not drawn. */
export function countChange(
  chart: ChangeChart,
  change: { timeMs: number; event: ChangeEvent; cause: ChangeCause },
): void {
  if (change.timeMs < chart.fromMs || change.timeMs > chart.toMs) return;
  const bar = Math.floor((change.timeMs - (chart.starts[0] ?? 0)) / chart.stepMs);
  const series = chart.counts[seriesOf(change)];
  series[bar] = (series[bar] ?? 0) + 1;
}
