import type { RestoreSummary } from './aws/restore';

export interface RestoreProgress {
  put: number;
  deleted: number;
  unchanged: number;
}

/**
 * A restore's progress over all its partitions: each reports its own running summary (the same
 * object, updated), so the progress is the sum over the summaries seen. The CLI's bar and the
 * console's run page both show it.
 */
export function progressTracker(): (s: Readonly<RestoreSummary>) => RestoreProgress {
  const running = new Set<Readonly<RestoreSummary>>();
  return (s) => {
    running.add(s);
    const total: RestoreProgress = { put: 0, deleted: 0, unchanged: 0 };
    for (const r of running) {
      total.put += r.itemsPut;
      total.deleted += r.itemsDeleted;
      total.unchanged += r.itemsUnchanged;
    }
    return total;
  };
}
