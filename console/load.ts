import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { askedInstants, assertAnswerable } from '../core/aws/backup-check';
import { BackupReader } from '../core/aws/backup-reader';
import { type ChangedItem, type ChangesReport, changesIn, IndexUncoveredError } from '../core/aws/changes';
import { gapWarnings } from '../core/aws/gap-store';
import { historyPage } from '../core/aws/history-page';
import { requireManifest } from '../core/aws/manifest-store';
import { backedUpTables, type TableStatus, tableStatus } from '../core/aws/table-catalog';
import { itemsPage } from '../core/aws/table-page';
import { countChange, emptyChart } from '../core/change-chart';
import { InputError } from '../core/errors';
import { decodeHistoryCursor } from '../core/history-page';
import { parseKeys, plainKeyText } from '../core/item-key';
import { NewestItems } from '../core/newest-items';
import { type BackupLocation, backupLocation, objectKeyFor } from '../core/object-key';
import { decodeCursor } from '../core/page-cursor';
import { horizonNote } from '../core/retention';
import { keyNames } from '../core/table-manifest';
import { assertNotFuture, parseInstant } from '../core/time-arg';
import type { ItemViewData } from './item-view';
import type { RestoreAsk } from './restore-runs';
import type { ChangesViewData, TableViewData } from './table-view';

/** What the pages read with: the clients and where the backups are. */
export interface ConsoleSource {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  bucket: string;
  prefix: string;
  now: () => number;
}

type Query = Record<string, string | undefined>;

/** Items per table page, and how long a filtered page may scan before it returns what it found. */
export const PAGE_ITEMS = 100;
const PAGE_BUDGET_MS = 2_000;
/** Changes per timeline page: the newest first, older ones a link away. */
export const TIMELINE_CHANGES = 100;
/** Changed items listed under the chart (the counts cover them all). */
const CHANGED_LISTED = 200;
/** The chart's longest window: three years of daily bars. */
const MAX_WINDOW_MS = 3 * 366 * 86_400_000;

export async function loadTables(src: ConsoleSource): Promise<TableStatus[]> {
  const tables = await backedUpTables(src.s3, src.bucket, src.prefix);
  const statuses = await Promise.all(tables.map((t) => tableStatus(src.s3, locate(src, t), src.now())));
  return statuses.filter((s): s is TableStatus => s !== undefined);
}

export const locate = (src: ConsoleSource, table: string): BackupLocation =>
  backupLocation(src.bucket, table, src.prefix);

/** The instant a page is about: `at`, or now; never in the future. */
export function instantOf(
  src: ConsoleSource,
  name: string,
  text: string | undefined,
  fallback?: number,
): number {
  const ms = text ? parseInstant(name, text) : (fallback ?? src.now());
  assertNotFuture(name, ms, src.now());
  return ms;
}

/** The chart's window: `from`..`to`, by default the day before `at`. */
function windowOf(src: ConsoleSource, q: Query, atMs: number): { fromMs: number; toMs: number } {
  const toMs = instantOf(src, 'to', q.to, atMs);
  const fromMs = q.from ? parseInstant('from', q.from) : toMs - 86_400_000;
  if (fromMs >= toMs || toMs - fromMs > MAX_WINDOW_MS)
    throw new InputError('Expected `from` to be before `to`, at most three years apart: pick another window');
  return { fromMs, toMs };
}

export async function loadTable(src: ConsoleSource, table: string, q: Query): Promise<TableViewData> {
  const loc = locate(src, table);
  const manifest = await requireManifest(src.s3, loc);
  const atMs = instantOf(src, 'at', q.at);
  const window = windowOf(src, q, atMs);
  await assertAnswerable(src.s3, loc, manifest, [{ flag: 'at', atMs }], src.now());
  const [page, warnings] = await Promise.all([
    itemsPage(new BackupReader(src.s3, loc), {
      atMs,
      limit: PAGE_ITEMS,
      budgetMs: PAGE_BUDGET_MS,
      keyNames: keyNames(manifest),
      ...(q.after ? { ranges: decodeCursor(q.after) } : {}),
      ...(q.prefix ? { keyPrefix: q.prefix } : {}),
      now: src.now,
    }),
    gapWarnings(src.s3, loc, atMs),
  ]);
  return {
    table,
    manifest,
    atMs,
    window,
    page,
    warnings,
    ...(q.prefix ? { keyPrefix: q.prefix } : {}),
    ...(q.after ? { after: q.after } : {}),
  };
}

/**
 * The changes of a window, counted into the chart as `changes` counts them. Where the change index
 * does not cover the window, nothing is listed unless `listing=yes` asks for it.
 */
export async function loadChanges(src: ConsoleSource, table: string, q: Query): Promise<ChangesViewData> {
  const loc = locate(src, table);
  const manifest = await requireManifest(src.s3, loc);
  const atMs = instantOf(src, 'at', q.at);
  const window = windowOf(src, q, atMs);
  const span = { sinceMs: window.fromMs, untilMs: window.toMs };
  const now = src.now();
  await assertAnswerable(src.s3, loc, undefined, askedInstants(span, now), now);
  const base = { table, manifest, atMs, window };
  const chart = emptyChart(window.fromMs, window.toMs);
  const newest = new NewestItems<ChangedItem>(CHANGED_LISTED);
  const onItem = (i: ChangedItem) => newest.offer(i);
  let changes: ChangesReport;
  try {
    changes = await changesIn(src.s3, loc, span, onItem, {
      onChange: (c) => countChange(chart, c),
      ...(q.listing === 'yes' ? {} : { only: 'index' }),
    });
  } catch (err) {
    if (err instanceof IndexUncoveredError) return { ...base, needsListing: err.reason };
    throw err;
  }
  const { items: changed, notListed } = newest.result();
  return { ...base, chart, changes, changed, notListed };
}

export async function loadItem(src: ConsoleSource, table: string, q: Query): Promise<ItemViewData> {
  const loc = locate(src, table);
  const manifest = await requireManifest(src.s3, loc);
  if (!q.key)
    throw new InputError('Expected `key` in the URL, the item key as plain JSON: {"pk":"a","sk":1}');
  const [key, more] = parseKeys('key', q.key, manifest);
  if (!key || more) throw new InputError('Expected `key` to be one item key, like {"pk":"a","sk":1}');
  const atMs = instantOf(src, 'at', q.at);
  const horizon = await assertAnswerable(src.s3, loc, manifest, [{ flag: 'at', atMs }], src.now());
  const reader = new BackupReader(src.s3, loc, { concurrency: 64 });
  // One listing for both: a long-lived item's listing is most of the page's cost.
  const versions = await reader.versionsOf(objectKeyFor(loc, key));
  const [history, asOf] = await Promise.all([
    historyPage(reader, key, {
      limit: TIMELINE_CHANGES,
      versions,
      ...(q.before ? { before: decodeHistoryCursor(q.before) } : {}),
      ...(horizon.kind === 'since' ? { horizonMs: horizon.fromMs } : {}),
    }),
    reader.itemAsOf(objectKeyFor(loc, key), atMs, versions),
  ]);
  return {
    table,
    manifest,
    keyText: plainKeyText(key, keyNames(manifest)),
    atMs,
    history,
    asOf,
    ...(q.before ? { before: q.before } : {}),
    ...(horizon.kind === 'since' ? { horizonNote: horizonNote(horizon) } : {}),
  };
}

/** A restore form's fields, checked: the whole table, or one item (`key`), as of `at`, into `target`. */
export async function restoreAsk(src: ConsoleSource, table: string, form: Query): Promise<RestoreAsk> {
  const source = locate(src, table);
  const manifest = await requireManifest(src.s3, source);
  const keys = form.key ? parseKeys('key', form.key, manifest) : undefined;
  if (keys && keys.length !== 1) throw new InputError('Expected `key` to be one item key');
  if (!form.target) throw new InputError('Expected a target table: fill in "into table"');
  if (form.mode !== undefined && form.mode !== 'upsert' && form.mode !== 'rewind')
    throw new InputError(`Expected mode upsert or rewind, got \`${form.mode}\``);
  return {
    source,
    atMs: instantOf(src, 'at', form.at),
    target: form.target,
    mode: form.mode ?? 'upsert',
    createTable: form.createTable === 'yes',
    ...(keys?.[0] ? { key: keys[0], keyText: plainKeyText(keys[0], keyNames(manifest)) } : {}),
  };
}
