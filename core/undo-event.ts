import type { UndoJobRequest } from './aws/jobs/undo-job';
import { InputError } from './errors';
import { eventBoolean, eventFields, eventLocation, eventString, eventWhole } from './event-fields';
import type { ItemKey } from './object-key';
import { parseInstant } from './time-arg';

/**
 * The undo job's plan event (the undo workflow's execution input, with `table`, `bucket` and
 * `prefix` fixed by the workflow): `since` (ISO-8601 with zone or epoch ms), `until`? (default
 * now), `targetTable`? (default the source table, which needs `inPlace: true`), `inPlace`?,
 * `dryRun`?, `overwriteLaterChanges`?, `keys`? (key objects in DynamoDB JSON), `partitions`?
 * (1-256), `concurrency`?.
 */
export function parseUndoEvent(event: Record<string, unknown>, nowMs = Date.now()): UndoJobRequest {
  const e = eventFields(event, 'undo');
  const source = eventLocation(e, 'undo');
  const since = e.since;
  if (typeof since !== 'string' && typeof since !== 'number')
    throw new InputError(
      'Expected "since" in the undo event: the start of the window to undo (ISO-8601 or epoch ms)',
    );
  const until = e.until;
  if (until !== undefined && typeof until !== 'string' && typeof until !== 'number')
    throw new InputError(`Expected "until" to be ISO-8601 or epoch ms, got ${JSON.stringify(until)}`);
  const keys = e.keys;
  if (keys !== undefined && (!Array.isArray(keys) || keys.length === 0))
    throw new InputError('Expected "keys" in the undo event to be a non-empty array of key objects');
  const partitions = eventWhole(e, 'partitions', 'undo', { min: 1, max: 256 });
  const concurrency = eventWhole(e, 'concurrency', 'undo', { min: 1, max: 1024 });
  return {
    source,
    sinceMs: parseInstant('since', String(since)),
    untilMs: until === undefined ? nowMs : parseInstant('until', String(until)),
    targetTable: eventString(e, 'targetTable', 'undo') ?? source.table,
    inPlace: Boolean(eventBoolean(e, 'inPlace', 'undo')),
    dryRun: Boolean(eventBoolean(e, 'dryRun', 'undo')),
    overwriteLaterChanges: Boolean(eventBoolean(e, 'overwriteLaterChanges', 'undo')),
    ...(keys ? { keys: keys as ItemKey[] } : {}),
    ...(partitions ? { partitions } : {}),
    ...(concurrency ? { concurrency } : {}),
  };
}
