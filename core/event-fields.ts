import { InputError } from './errors';
import { wholeNumber } from './number-arg';
import { type BackupLocation, backupLocation } from './object-key';

/**
 * Reading a job's plan event (a Step Functions execution input, so anything JSON): each field
 * checked as the CLI checks the flag it stands for, with a one-line message naming the field.
 */
export type EventFields = Record<string, unknown>;

export function eventFields(event: unknown, job: string): EventFields {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InputError(`Expected the ${job} event to be a JSON object, got ${JSON.stringify(event)}`);
  }
  return event as EventFields;
}

export function eventString(e: EventFields, name: string, job: string): string | undefined {
  const v = e[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new InputError(`Expected "${name}" in the ${job} event to be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** `table`, `bucket` (required) and `prefix` (optional), as backupLocation checks them. */
export function eventLocation(e: EventFields, job: string): BackupLocation {
  const table = eventString(e, 'table', job);
  const bucket = eventString(e, 'bucket', job);
  if (!table) throw new InputError(`Expected "table" in the ${job} event`);
  if (!bucket) throw new InputError(`Expected "bucket" in the ${job} event`);
  return backupLocation(bucket, table, eventString(e, 'prefix', job) ?? '');
}

export function eventWhole(
  e: EventFields,
  name: string,
  job: string,
  range: { min: number; max: number },
): number | undefined {
  const v = e[name];
  if (v === undefined) return undefined;
  const given = typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
  return wholeNumber(`"${name}" in the ${job} event`, given, range);
}

export function eventBoolean(e: EventFields, name: string, job: string): boolean | undefined {
  const v = e[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean')
    throw new InputError(
      `Expected "${name}" in the ${job} event to be true or false, got ${JSON.stringify(v)}`,
    );
  return v;
}
