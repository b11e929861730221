import type { RestoreJobRequest } from './aws/jobs/restore-job';
import { InputError } from './errors';
import { eventFields, eventLocation, eventString, eventWhole } from './event-fields';
import { MAX_PARTITIONS } from './job-parts';
import type { ItemKey } from './object-key';
import { parseInstant } from './time-arg';

/**
 * The restore job's plan event (the restore workflow's execution input, with `table`, `bucket`
 * and `prefix` fixed by the workflow): `table`, `bucket`, `prefix`?, `at`? (ISO-8601 with zone or
 * epoch ms; default now), `targetTable`, `mode`? (upsert | rewind), `createTable`?, `dryRun`?,
 * `inPlace`?, `concurrency`?, `maxWcu`?, `keys`? (key objects in DynamoDB JSON), `partitions`?,
 * `since`? (roll forward: the target holds the table as of then; only the items changed since
 * are written, each as of `at`).
 */
export interface RestoreEvent {
  table: string;
  bucket: string;
  prefix?: string;
  at?: string | number;
  targetTable?: string;
  mode?: 'upsert' | 'rewind';
  createTable?: boolean;
  dryRun?: boolean;
  inPlace?: boolean;
  concurrency?: number;
  maxWcu?: number;
  keys?: ItemKey[];
  partitions?: number;
  since?: string | number;
}

/** Checks a restore event as the CLI checks its flags, before anything is read or written. */
export function parseRestoreEvent(event: RestoreEvent, nowMs = Date.now()): RestoreJobRequest {
  const e = eventFields(event, 'restore');
  const targetTable = eventString(e, 'targetTable', 'restore');
  if (!targetTable) throw new InputError('Expected "targetTable" in the restore event');
  if (event.mode !== undefined && event.mode !== 'upsert' && event.mode !== 'rewind') {
    throw new InputError(`Expected "mode" to be "upsert" or "rewind", got ${JSON.stringify(event.mode)}`);
  }
  if (event.keys !== undefined && (!Array.isArray(event.keys) || event.keys.length === 0)) {
    throw new InputError('Expected "keys" in the restore event to be a non-empty array of key objects');
  }
  const concurrency = eventWhole(e, 'concurrency', 'restore', { min: 1, max: 1024 });
  const maxWcu = eventWhole(e, 'maxWcu', 'restore', { min: 1, max: 10_000_000 });
  const partitions = eventWhole(e, 'partitions', 'restore', { min: 1, max: MAX_PARTITIONS });
  return {
    source: eventLocation(e, 'restore'),
    atMs: event.at === undefined ? nowMs : parseInstant('at', String(event.at)),
    targetTable,
    mode: event.mode ?? 'upsert',
    createTable: Boolean(event.createTable),
    dryRun: Boolean(event.dryRun),
    inPlace: Boolean(event.inPlace),
    ...(concurrency ? { concurrency } : {}),
    ...(maxWcu ? { maxWcu } : {}),
    ...(partitions ? { partitions } : {}),
    ...(event.keys ? { keys: event.keys } : {}),
    ...(event.since !== undefined ? { sinceMs: parseInstant('since', String(event.since)) } : {}),
  };
}
