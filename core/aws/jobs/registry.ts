import type { JobKind } from '../../job-model';
import { parseRestoreEvent, type RestoreEvent } from '../../restore-event';
import { parseUndoEvent } from '../../undo-event';
import type { JobDefinition } from '../run-job';
import { backfillJob, parseBackfillEvent } from './backfill-job';
import { exportJob, parseExportEvent } from './export-job';
import { packJob, parsePackEvent } from './pack-job';
import { restoreJob } from './restore-job';
import { undoJob } from './undo-job';
import { parseVerifyEvent, verifyJob } from './verify-job';

/** A job and the parser of its plan event, with the request type erased for dispatch. */
export interface RegisteredJob {
  // biome-ignore lint/suspicious/noExplicitAny: each job's request type differs; parse and plan agree per entry (see entry()).
  job: JobDefinition<any>;
  parse(event: Record<string, unknown>): unknown;
}

const entry = <R, P, T, S>(
  job: JobDefinition<R, P, T, S>,
  parse: (event: Record<string, unknown>) => R,
): RegisteredJob => ({ job: job as JobDefinition<R>, parse });

/** Every job the Lambda handler can run (see functions/jobs/handler.ts). */
export const JOBS: Record<JobKind, RegisteredJob> = {
  restore: entry(restoreJob, (e) => parseRestoreEvent(e as unknown as RestoreEvent)),
  pack: entry(packJob, parsePackEvent),
  export: entry(exportJob, (e) => parseExportEvent(e)),
  verify: entry(verifyJob, parseVerifyEvent),
  backfill: entry(backfillJob, parseBackfillEvent),
  undo: entry(undoJob, (e) => parseUndoEvent(e)),
};
