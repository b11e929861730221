import type { DynamoDBRecord } from 'aws-lambda';
import type { WireItem } from './ddb-json';
import { ConfigurationError, InputError } from './errors';
import { type BackupLocation, type ItemKey, objectKeyFor } from './object-key';

export type ChangeEvent = 'INSERT' | 'MODIFY' | 'REMOVE' | 'BACKFILL';
export type ChangeCause = 'user' | 'ttl' | 'backfill';

/** What every backup version records besides the image: S3 user metadata, `x-amz-meta-rw-*`. */
export interface ChangeMeta {
  /** DynamoDB's change time (ApproximateCreationDateTime), epoch ms. Backfill: the scan's time. */
  timeMs: number;
  /** Stream sequence number (decimal text, compare as BigInt); absent for backfill versions. */
  seq?: string;
  event: ChangeEvent;
  /** Stream eventID; absent for backfill versions. */
  eventId?: string;
  cause: ChangeCause;
  /** Names of the key attributes, so the key is recoverable from the body without the schema. */
  keyNames: string[];
  /**
   * A copy a backfill put back on top of its own version (see backfill.ts): it is not where the
   * stream put it, so a reader checks the versions written around it before trusting S3's order.
   */
  moved?: boolean;
  /** Backfill only: when the scan that read the image was sent, exact (timeMs is rounded down). */
  scanMs?: number;
}

/** One version to write: a PUT of the new image, or a tombstone PUT followed by a delete marker. */
export interface BackupWrite {
  objectKey: string;
  key: ItemKey;
  /** 'put': body is the new image. 'remove': body is a tombstone, then a delete marker. */
  kind: 'put' | 'remove';
  body: string;
  meta: ChangeMeta;
}

/** Body of the version written just under a delete marker: markers carry no metadata. */
export interface Tombstone {
  ddbRewindTombstone: 1;
  Keys: ItemKey;
  SequenceNumber?: string;
}

const SERVICE_PRINCIPAL = 'dynamodb.amazonaws.com';

/** A stream record's table: `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`. */
export function tableFromStreamArn(arn: string | undefined): string {
  const match = /:table\/([^/]+)\/stream\//.exec(arn ?? '');
  if (!match?.[1]) {
    throw new InputError(`Expected eventSourceARN to be a DynamoDB stream ARN, got \`${arn ?? '(none)'}\``);
  }
  return match[1];
}

/** TTL deletes are REMOVEs made by the DynamoDB service principal. */
export function causeOf(record: DynamoDBRecord): ChangeCause {
  const who = record.userIdentity as { type?: string; principalId?: string } | undefined;
  return who?.type === 'Service' && who.principalId === SERVICE_PRINCIPAL ? 'ttl' : 'user';
}

/** Turns one stream record into the backup version that records it. */
export function changeFromRecord(loc: BackupLocation, record: DynamoDBRecord): BackupWrite {
  const ddb = record.dynamodb;
  const view = ddb?.StreamViewType;
  if (view === 'KEYS_ONLY' || view === 'OLD_IMAGE') {
    throw new ConfigurationError(
      `Table ${loc.table} has a ${view} stream, which carries no new image: set its StreamViewType to NEW_AND_OLD_IMAGES (or NEW_IMAGE)`,
    );
  }
  const keys = ddb?.Keys as ItemKey | undefined;
  const seq = ddb?.SequenceNumber;
  const seconds = ddb?.ApproximateCreationDateTime;
  if (!keys || !seq || seconds === undefined || !record.eventName) {
    throw new InputError(
      `Stream record ${record.eventID ?? '?'} lacks Keys, SequenceNumber, ApproximateCreationDateTime or eventName`,
    );
  }
  const meta: ChangeMeta = {
    timeMs: Math.round(seconds * 1000),
    seq,
    event: record.eventName,
    cause: record.eventName === 'REMOVE' ? causeOf(record) : 'user',
    keyNames: Object.keys(keys),
    ...(record.eventID ? { eventId: record.eventID } : {}),
  };
  const objectKey = objectKeyFor(loc, keys);
  if (record.eventName === 'REMOVE') {
    const tombstone: Tombstone = { ddbRewindTombstone: 1, Keys: keys, SequenceNumber: seq };
    return { objectKey, key: keys, kind: 'remove', body: JSON.stringify(tombstone), meta };
  }
  const image = ddb.NewImage as WireItem | undefined;
  if (!image) {
    throw new ConfigurationError(
      `Stream record ${record.eventID ?? seq} of table ${loc.table} has no NewImage: set the stream's view type to NEW_AND_OLD_IMAGES (or NEW_IMAGE)`,
    );
  }
  return { objectKey, key: keys, kind: 'put', body: JSON.stringify(image), meta };
}

const PREFIX = 'rw-';

/** ChangeMeta as S3 user metadata (the SDK adds `x-amz-meta-`; S3 lowercases names). */
export function metaToS3(meta: ChangeMeta): Record<string, string> {
  const out: Record<string, string> = {
    [`${PREFIX}time`]: String(meta.timeMs),
    [`${PREFIX}event`]: meta.event,
    [`${PREFIX}cause`]: meta.cause,
    [`${PREFIX}key-names`]: meta.keyNames.map(encodeURIComponent).join(','),
  };
  if (meta.seq !== undefined) out[`${PREFIX}seq`] = meta.seq;
  if (meta.eventId !== undefined) out[`${PREFIX}event-id`] = meta.eventId;
  if (meta.moved) out[`${PREFIX}moved`] = '1';
  if (meta.scanMs !== undefined) out[`${PREFIX}scan-time`] = String(meta.scanMs);
  return out;
}

/** Reads ChangeMeta back; undefined when the version was not written by ddb-rewind. */
export function metaFromS3(metadata: Record<string, string> | undefined): ChangeMeta | undefined {
  const time = metadata?.[`${PREFIX}time`];
  const event = metadata?.[`${PREFIX}event`];
  if (!metadata || time === undefined || !isEvent(event)) return undefined;
  const cause = metadata[`${PREFIX}cause`];
  const seq = metadata[`${PREFIX}seq`];
  const eventId = metadata[`${PREFIX}event-id`];
  return {
    timeMs: Number(time),
    event,
    cause: cause === 'ttl' || cause === 'backfill' ? cause : 'user',
    keyNames: (metadata[`${PREFIX}key-names`] ?? '').split(',').filter(Boolean).map(decodeURIComponent),
    ...(seq ? { seq } : {}),
    ...(eventId ? { eventId } : {}),
    ...(metadata[`${PREFIX}moved`] === '1' ? { moved: true } : {}),
    ...(metadata[`${PREFIX}scan-time`] ? { scanMs: Number(metadata[`${PREFIX}scan-time`]) } : {}),
  };
}

const isEvent = (e: string | undefined): e is ChangeEvent =>
  e === 'INSERT' || e === 'MODIFY' || e === 'REMOVE' || e === 'BACKFILL';
