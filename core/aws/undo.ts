import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire, type WireItem, wireItemToSdk } from '../ddb-json';
import { InputError } from '../errors';
import type { Deadline } from '../job-model';
import type { Log } from '../log';
import { type BackupLocation, type ItemKey, objectKeyFor } from '../object-key';
import type { TableManifest } from '../table-manifest';
import { TaskPool } from '../task-pool';
import { assertNotFuture } from '../time-arg';
import {
  addedAttributes,
  type ConflictReason,
  decideUndo,
  type GuardedWrite,
  guardedWrite,
  type UndoAction,
} from '../undo-decision';
import { assertAnswerable } from './backup-check';
import { BackupReader } from './backup-reader';
import { requireManifest } from './manifest-store';
import { counted, type RequestSummary, requestSummary } from './request-tally';

export interface UndoRequest {
  source: BackupLocation;
  /** T1: items changed at or after it are put back as they were just before it (epoch ms). */
  sinceMs: number;
  /** T2: the window's end, inclusive (epoch ms). */
  untilMs: number;
  /** @default the source table (then `inPlace` is required) */
  targetTable: string;
  /** Required to write into the source table itself. */
  inPlace?: boolean;
  dryRun?: boolean;
  /** Put items back even when they changed after T2 (still never over a write racing the undo). */
  overwriteLaterChanges?: boolean;
  /** Items read and written at once. @default 16 */
  concurrency?: number;
  clockSkewMs?: number;
}

/** An item the undo left alone, with the states an operator needs to decide by hand. */
export interface UndoConflict {
  key: ItemKey;
  reason: ConflictReason;
  /** What the undo would have written (absent: the item did not exist before T1). */
  before?: WireItem;
  /** The backup's latest state of the item (absent: deleted, or never written). */
  later?: WireItem;
  /** The target's item as the undo last read it (absent: no such item). */
  now?: WireItem;
  /** Attributes a racing write added (reason attributes-added-during-undo). */
  added?: string[];
}

/** An item to undo: its key, and its object key when known (the long form needs no rehash). */
export interface UndoItem {
  key: ItemKey;
  objectKey?: string;
}

/** One item's outcome, as the undo decided it (and wrote it, unless a dry run). */
export interface UndoOutcome {
  key: ItemKey;
  objectKey: string;
  action: UndoAction;
  conflict?: UndoConflict;
}

export interface UndoCounts extends RequestSummary {
  restored: number;
  deleted: number;
  unchanged: number;
  conflicts: number;
}

export interface UndoDeps {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  now?: () => number;
  /** Each item as it is decided, before its write (a test's racing write). */
  onDecided?: (outcome: UndoOutcome) => Promise<void> | void;
  /** Each item once done: written, left, or a conflict (the CLI lists every conflict). */
  onOutcome?: (outcome: UndoOutcome) => Promise<void> | void;
  /** Once true, no new item starts: the rest is returned (a job task's continuation). */
  deadline?: Deadline;
}

/** Checks what must hold before an undo reads the table, and returns the backup's manifest. */
export async function checkUndo(deps: UndoDeps, req: UndoRequest): Promise<TableManifest> {
  const now = deps.now?.() ?? Date.now();
  assertNotFuture('--since', req.sinceMs, now);
  assertNotFuture('--until', req.untilMs, now);
  if (!(req.sinceMs <= req.untilMs))
    throw new InputError(
      `Expected \`--since\` (${new Date(req.sinceMs).toISOString()}) to be at or before \`--until\` (${new Date(req.untilMs).toISOString()}): the window runs from --since to --until`,
    );
  if (req.targetTable === req.source.table && !req.inPlace)
    throw new InputError(
      `Target table ${req.targetTable} is the source table: pass --in-place to undo in it, or pick another --target-table`,
    );
  const manifest = await requireManifest(deps.s3, req.source);
  const instants = [
    { flag: '--since', atMs: req.sinceMs - 1 },
    { flag: '--until', atMs: req.untilMs },
  ];
  await assertAnswerable(deps.s3, req.source, manifest, instants, now);
  return manifest;
}

/** The three states the backup holds of one item: just before T1, at T2, and its latest. */
async function backupStates(reader: BackupReader, objectKey: string, req: UndoRequest) {
  const [before, end, latest] = await reader.itemAtInstants(objectKey, [
    req.sinceMs - 1,
    req.untilMs,
    Number.MAX_SAFE_INTEGER,
  ]);
  // A latest change after T2, or (no change time to compare) a latest state unlike T2's.
  const changedAfter =
    latest?.changeMs !== undefined
      ? latest.changeMs > req.untilMs
      : latest?.known !== end?.known || JSON.stringify(latest?.image) !== JSON.stringify(end?.image);
  return { before: before?.image, end: end?.image, latest: latest?.image, changedAfter };
}

async function currentItem(dynamodb: DynamoDBClient, table: string, key: ItemKey) {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: wireItemToSdk(key), ConsistentRead: true }),
  );
  return out.Item ? sdkItemToWire(out.Item as SdkItem) : undefined;
}

/**
 * Undoes the given items (changed in the window; see undoJob for how they are found): each is
 * read from the backup and the target, decided (decideUndo), and unless a dry run written by one
 * conditional request on the state read, so a write that reaches the table meanwhile is never
 * overwritten: it makes the item a conflict instead.
 */
export async function undoItems<I extends UndoItem>(
  deps: UndoDeps,
  req: UndoRequest,
  items: readonly I[],
): Promise<{ counts: UndoCounts; conflicts: UndoConflict[]; remaining: I[] }> {
  const reader = new BackupReader(deps.s3, req.source, {
    ...(req.clockSkewMs !== undefined ? { clockSkewMs: req.clockSkewMs } : {}),
  });
  // The target's requests are counted with the reader's.
  const dynamodb = counted(deps.dynamodb, reader.tally);
  const counts = { restored: 0, deleted: 0, unchanged: 0, conflicts: 0 };
  const conflicts: UndoConflict[] = [];
  const pool = new TaskPool(req.concurrency ?? 16);
  let started = 0;
  for (const item of items) {
    // At least one item per run, so a continuation always makes progress.
    if (started > 0 && deps.deadline?.()) break;
    started++;
    await pool.submit(async () => {
      const outcome = await undoOne(reader, dynamodb, deps, req, item);
      if (outcome.conflict) conflicts.push(outcome.conflict);
      counts[COUNTED[outcome.action]]++;
      await deps.onOutcome?.(outcome);
    });
  }
  await pool.drain();
  return {
    counts: { ...counts, ...requestSummary(reader.tally) },
    conflicts,
    remaining: items.slice(started),
  };
}

const COUNTED = {
  restore: 'restored',
  delete: 'deleted',
  unchanged: 'unchanged',
  conflict: 'conflicts',
} as const;

async function undoOne(
  reader: BackupReader,
  dynamodb: DynamoDBClient,
  deps: UndoDeps,
  req: UndoRequest,
  item: UndoItem,
): Promise<UndoOutcome> {
  const { key } = item;
  const objectKey = item.objectKey ?? objectKeyFor(req.source, key);
  const states = await backupStates(reader, objectKey, req);
  const current = await currentItem(dynamodb, req.targetTable, key);
  const inPlace = req.targetTable === req.source.table;
  const decision = decideUndo({ ...states, current, inPlace, overwrite: Boolean(req.overwriteLaterChanges) });
  const conflictOf = (reason: ConflictReason, now: WireItem | undefined, added?: string[]): UndoOutcome => ({
    key,
    objectKey,
    action: 'conflict',
    conflict: {
      key,
      reason,
      ...(states.before ? { before: states.before } : {}),
      ...(states.latest ? { later: states.latest } : {}),
      ...(now ? { now } : {}),
      ...(added ? { added } : {}),
    },
  });
  let outcome: UndoOutcome =
    decision.action === 'conflict'
      ? conflictOf(decision.reason ?? 'changed-after-window', current)
      : { key, objectKey, action: decision.action };
  const write =
    outcome.action === 'restore' || outcome.action === 'delete'
      ? guardedWrite(key, states.before, current)
      : undefined;
  if ((outcome.action === 'restore' || outcome.action === 'delete') && !write)
    outcome = conflictOf('too-large-to-guard', current);
  await deps.onDecided?.(outcome);
  if (!write || req.dryRun || outcome.action === 'conflict') return outcome;
  const failed = await applyGuarded(dynamodb, req.targetTable, write, states.before, current);
  return failed ? conflictOf(failed.reason, failed.now, failed.added) : outcome;
}

type WriteConflict = { reason: ConflictReason; now: WireItem | undefined; added?: string[] };

/**
 * Sends one guarded write. A failed condition is a conflict (the item as it is now comes back
 * with the failure). A write that succeeded over a raced item that gained attributes: an
 * update kept them (reported); a delete dropped them, so the deleted item is put back unless
 * something newer is already there.
 */
async function applyGuarded(
  dynamodb: DynamoDBClient,
  table: string,
  w: GuardedWrite,
  before: WireItem | undefined,
  current: WireItem | undefined,
): Promise<WriteConflict | undefined> {
  const common = {
    TableName: table,
    Key: wireItemToSdk(w.Key),
    ConditionExpression: w.ConditionExpression,
    ExpressionAttributeNames: w.ExpressionAttributeNames,
    ...(w.ExpressionAttributeValues
      ? { ExpressionAttributeValues: wireItemToSdk(w.ExpressionAttributeValues) }
      : {}),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
  try {
    if (w.kind === 'update') {
      const out = await dynamodb.send(
        new UpdateItemCommand({
          ...common,
          ...(w.UpdateExpression ? { UpdateExpression: w.UpdateExpression } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const written = out.Attributes ? sdkItemToWire(out.Attributes as SdkItem) : undefined;
      const added = addedAttributes(written, before);
      return added.length ? { reason: 'attributes-added-during-undo', now: written, added } : undefined;
    }
    const out = await dynamodb.send(new DeleteItemCommand({ ...common, ReturnValues: 'ALL_OLD' }));
    const deleted = out.Attributes ? sdkItemToWire(out.Attributes as SdkItem) : undefined;
    const added = addedAttributes(deleted, current);
    if (!deleted || !added.length) return undefined;
    await putBack(dynamodb, table, w, deleted);
    return { reason: 'attributes-added-during-undo', now: deleted, added };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const now = err.Item ? sdkItemToWire(err.Item as SdkItem) : await currentItem(dynamodb, table, w.Key);
    return { reason: 'changed-during-undo', now };
  }
}

/** A raced item the delete took: back as it was, unless a newer write already recreated it. */
async function putBack(dynamodb: DynamoDBClient, table: string, w: GuardedWrite, item: WireItem) {
  const firstKey = Object.keys(w.Key)[0] ?? '';
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: wireItemToSdk(item),
        ConditionExpression: 'attribute_not_exists(#k)',
        ExpressionAttributeNames: { '#k': firstKey },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
