import { tableFromStreamArn } from './change-record';
import { InputError } from './errors';
import type { Gap } from './gaps';
import { wholeNumber } from './number-arg';
import { parseInstant } from './time-arg';

/**
 * A stream batch Lambda's event source mapping gave up on (retries exhausted or records too old),
 * read from the record it sends the on-failure destination. The record names positions only
 * (shard, sequence numbers, arrival times): the changes themselves are not in it.
 */
export interface LostBatch {
  table: string;
  streamArn: string;
  shardId: string;
  /** Decimal text, as in the stream; compare as BigInt. */
  startSequenceNumber: string;
  endSequenceNumber: string;
  /** Epoch ms of the first and last record's approximate arrival (whole seconds for DynamoDB). */
  firstArrivalMs: number;
  lastArrivalMs: number;
  batchSize: number;
  /** Why Lambda gave up (`RetryAttemptsExhausted`, `RecordAgeExceeded`, ...), when the record says. */
  condition?: string;
  /** When Lambda gave up (ISO), when the record says. */
  timestamp?: string;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shown = (value: unknown): string => {
  const json = value === undefined ? '(none)' : JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
};

const field = (name: string) => `\`DDBStreamBatchInfo.${name}\` of the on-failure record`;

function text(info: Fields, name: string, pattern?: RegExp): string {
  const value = info[name];
  if (typeof value !== 'string' || value === '' || (pattern && !pattern.test(value))) {
    throw new InputError(
      `Expected ${field(name)} to be ${pattern ? 'a decimal sequence number' : 'a non-empty string'}, got ${shown(value)}`,
    );
  }
  return value;
}

const DIGITS = /^\d+$/;

/** What wholeNumber can judge: a number or text as given, anything else as its JSON. */
const numberLike = (value: unknown): string | number | undefined =>
  value === undefined || typeof value === 'number' || typeof value === 'string'
    ? value
    : JSON.stringify(value);

/**
 * Parses the body of an on-failure message (Lambda's invocation record for a DynamoDB stream
 * batch: `requestContext`, `responseContext`, `version`, `timestamp`, `DDBStreamBatchInfo`).
 * Throws an InputError naming the first missing or invalid field.
 *
 * @example parseFailureRecord(message.body).table // 'orders'
 */
export function parseFailureRecord(body: string): LostBatch {
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    throw new InputError(`Expected the on-failure record to be JSON, got ${shown(body)}`);
  }
  const info = isObject(record) ? record.DDBStreamBatchInfo : undefined;
  if (!isObject(info)) {
    throw new InputError(
      `Expected the on-failure record to have a DDBStreamBatchInfo object (a DynamoDB stream batch), got ${shown(record)}`,
    );
  }
  const streamArn = text(info, 'streamArn');
  let table: string;
  try {
    table = tableFromStreamArn(streamArn);
  } catch {
    throw new InputError(
      `Expected ${field('streamArn')} to be a DynamoDB stream ARN, got ${shown(streamArn)}`,
    );
  }
  const arrival = (name: string) => parseInstant(`DDBStreamBatchInfo.${name}`, text(info, name));
  const firstArrivalMs = arrival('approximateArrivalOfFirstRecord');
  const lastArrivalMs = arrival('approximateArrivalOfLastRecord');
  if (lastArrivalMs < firstArrivalMs) {
    throw new InputError(
      `Expected ${field('approximateArrivalOfLastRecord')} not to be before approximateArrivalOfFirstRecord, got ${shown(info.approximateArrivalOfLastRecord)}`,
    );
  }
  const context = isObject(record) && isObject(record.requestContext) ? record.requestContext : {};
  const condition = typeof context.condition === 'string' ? context.condition : undefined;
  const timestamp = isObject(record) && typeof record.timestamp === 'string' ? record.timestamp : undefined;
  return {
    table,
    streamArn,
    shardId: text(info, 'shardId'),
    startSequenceNumber: text(info, 'startSequenceNumber', DIGITS),
    endSequenceNumber: text(info, 'endSequenceNumber', DIGITS),
    firstArrivalMs,
    lastArrivalMs,
    // 10,000 is the event source mapping's largest batch.
    batchSize: wholeNumber('DDBStreamBatchInfo.batchSize', numberLike(info.batchSize), {
      min: 1,
      max: 10_000,
    }),
    ...(condition ? { condition } : {}),
    ...(timestamp ? { timestamp } : {}),
  };
}

// The gap store keeps a reason as a slug of at most 60 characters ([a-z0-9-]); these widths keep
// the whole reason in it, so the listed reason is the recorded one.
const SHARD_CHARS = 8;
const SEQ_DIGITS = 13;

/** A sequence number's low digits, which tell apart the batches of one shard and second. */
const lowDigits = (seq: string): string => seq.slice(-SEQ_DIGITS).replace(/^0+(?=.)/, '');

/**
 * The gap a lost batch leaves: its records' change times, widened to whole seconds (DynamoDB
 * stamps changes to the second, rounded down), with a reason naming the shard and sequence range,
 * so two lost batches of the same seconds (a bisected batch) are two markers, and a batch the
 * queue delivers twice is the same one.
 *
 * @example gapOfLostBatch(batch).reason // 'lost batch shard 864758bb seq 3126276362 to 3126276399'
 */
export function gapOfLostBatch(batch: LostBatch): Gap {
  // A DynamoDB shard id ends in a random hex tag (shardId-00000001573689847184-864758bb).
  const shard =
    batch.shardId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(-SHARD_CHARS) || 'unknown';
  return {
    fromMs: Math.floor(batch.firstArrivalMs / 1000) * 1000,
    toMs: Math.floor(batch.lastArrivalMs / 1000) * 1000 + 999,
    reason: `lost batch shard ${shard} seq ${lowDigits(batch.startSequenceNumber)} to ${lowDigits(batch.endSequenceNumber)}`,
  };
}
