/**
 * Counts the core publishes, each for one table. Powertools' Metrics satisfies it: every count is
 * one EMF line with its `service` dimension and `table`, the set the alarms name (infra/defaults.ts).
 */
export interface MetricSink {
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: 'Count', value: number): unknown;
  };
}

/** Publishes `value` as metric `name` of `table`; nothing for zero, so alarms see no data, not 0s. */
export function countForTable(
  metrics: MetricSink | undefined,
  table: string,
  name: string,
  value: number,
): void {
  if (!metrics || value <= 0) return;
  const metric = metrics.singleMetric();
  metric.addDimension('table', table);
  metric.addMetric(name, 'Count', value);
}
