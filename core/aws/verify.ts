import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire, wireItemToSdk } from '../ddb-json';
import { InputError } from '../errors';
import { gapWarning } from '../gaps';
import { type BackupLocation, decodeObjectKey, HASH_PREFIXES, type ItemKey } from '../object-key';
import type { Partition } from '../partition';
import { DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { keyNames } from '../table-manifest';
import { assertAnswerable } from './backup-check';
import { BackupReader } from './backup-reader';
import { lastBackfillStart, listGaps } from './gap-store';
import { requireManifest } from './manifest-store';
import { imageHash, type TargetEntry, TargetSnapshot } from './target-snapshot';

export type DriftKind = 'missing-from-backup' | 'only-in-backup' | 'differs';

/** One item whose backup does not match the table: keys and hashes, never values by default. */
export interface Drift {
  kind: DriftKind;
  objectKey: string;
  key?: ItemKey;
  tableHash?: string;
  backupHash?: string;
}

export interface VerifyReport {
  inSync: boolean;
  checkedItems: number;
  sampledPrefixes: number;
  drift: Drift[];
  counts: Record<DriftKind, number>;
  /** Gaps not yet covered by a later backfill: the backup may miss changes made then. */
  warnings: string[];
  durationMs: number;
}

export interface VerifyRequest {
  source: BackupLocation;
  /** Share of the 256 hash prefixes to check, 1-100. @default 100 */
  samplePercent?: number;
  /** How long a difference may take to settle (changes still in the stream) before it counts. @default 10000 */
  settleMs?: number;
  concurrency?: number;
}

/**
 * Compares the live table with the backup's latest state: items missing from the backup, items
 * only in the backup, items whose images differ. A difference is checked again after the
 * settle window, so changes still on their way through the stream are not reported as drift.
 */
export async function verify(
  deps: { s3: S3Client; dynamodb: DynamoDBClient },
  req: VerifyRequest,
): Promise<VerifyReport> {
  const started = Date.now();
  const percent = req.samplePercent ?? 100;
  if (!(percent > 0 && percent <= 100))
    throw new InputError(`Expected \`--sample\` to be a percentage from 1 to 100, got ${percent}`);
  const manifest = await requireManifest(deps.s3, req.source);
  await assertAnswerable(deps.s3, req.source, manifest, [{ flag: 'now', atMs: started }], started);
  const names = keyNames(manifest);
  const count = Math.max(1, Math.round((256 * percent) / 100));
  // "Latest" is as of a moment safely after now: every version written so far is in.
  const reader = new BackupReader(deps.s3, req.source, {
    clockSkewMs: 0,
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
  });
  const partition = { from: '00', to: HASH_PREFIXES[count - 1] as string };
  const { candidates, checked } = await compareAll(deps.dynamodb, reader, names, partition);
  const drift: Drift[] = [];
  if (candidates.length) {
    await new Promise((r) => setTimeout(r, req.settleMs ?? 10_000));
    for (const c of candidates) {
      const again = await recheck(deps.dynamodb, reader, names, c);
      if (again) drift.push(again);
    }
  }
  const counts: Record<DriftKind, number> = { 'missing-from-backup': 0, 'only-in-backup': 0, differs: 0 };
  for (const d of drift) counts[d.kind]++;
  const backfilledFrom = (await lastBackfillStart(deps.s3, req.source)) ?? 0;
  const open = (await listGaps(deps.s3, req.source)).filter((g) => g.toMs > backfilledFrom);
  return {
    inSync: drift.length === 0,
    checkedItems: checked,
    sampledPrefixes: count,
    drift,
    counts,
    warnings: open.length ? [gapWarning(req.source.table, open)] : [],
    durationMs: Date.now() - started,
  };
}

/** One pass over the sampled prefixes: the table's snapshot against the backup's latest state. */
async function compareAll(
  dynamodb: DynamoDBClient,
  reader: BackupReader,
  names: string[],
  partition: Partition,
): Promise<{ candidates: Drift[]; checked: number }> {
  const snapshot = await TargetSnapshot.take(dynamodb, {
    table: reader.loc.table,
    keyNames: names,
    source: reader.loc,
    partition,
  });
  const candidates: Drift[] = [];
  let checked = 0;
  try {
    await reader.scan({ atMs: Date.now() + DEFAULT_CLOCK_SKEW_MS, partition }, (hh) => {
      const live = snapshot.load(hh);
      live.catch(() => {}); // awaited by the first item, or by end
      return {
        item: async (item) => {
          checked++;
          const entries = await live;
          const current = entries.get(item.objectKey);
          entries.delete(item.objectKey);
          const found = compare(item.objectKey, current, item.image ? imageHash(item.image) : undefined);
          if (found) candidates.push(found);
        },
        end: async () => {
          for (const [objectKey, current] of await live) {
            checked++;
            candidates.push(compare(objectKey, current, undefined) as Drift);
          }
        },
      };
    });
  } finally {
    await snapshot.dispose();
  }
  return { candidates, checked };
}

/** The drift between the table's copy of an item and the backup's, if they differ. */
function compare(
  objectKey: string,
  current: TargetEntry | undefined,
  backupHash: string | undefined,
): Drift | undefined {
  if (current && !backupHash)
    return { kind: 'missing-from-backup', objectKey, key: current.key, tableHash: current.imageHash };
  if (!current && backupHash) return { kind: 'only-in-backup', objectKey, backupHash };
  if (current && backupHash && current.imageHash !== backupHash)
    return { kind: 'differs', objectKey, key: current.key, tableHash: current.imageHash, backupHash };
  return undefined;
}

/** The same comparison for one item, now: still drifting, or settled (undefined). */
async function recheck(
  dynamodb: DynamoDBClient,
  reader: BackupReader,
  names: string[],
  c: Drift,
): Promise<Drift | undefined> {
  const loc = reader.loc;
  const item = await reader.itemAsOf(c.objectKey, Date.now() + DEFAULT_CLOCK_SKEW_MS);
  const key =
    c.key ??
    (item.image
      ? Object.fromEntries(names.map((n) => [n, item.image?.[n]]))
      : decodeObjectKey(loc, c.objectKey));
  if (!key) return c;
  const got = await dynamodb.send(
    new GetItemCommand({ TableName: loc.table, Key: wireItemToSdk(key as ItemKey), ConsistentRead: true }),
  );
  const tableHash = got.Item ? imageHash(sdkItemToWire(got.Item as SdkItem)) : undefined;
  const backupHash = item.image ? imageHash(item.image) : undefined;
  if (tableHash === backupHash) return undefined;
  const kind: DriftKind = !backupHash ? 'missing-from-backup' : !tableHash ? 'only-in-backup' : 'differs';
  return {
    kind,
    objectKey: c.objectKey,
    key: key as ItemKey,
    ...(tableHash ? { tableHash } : {}),
    ...(backupHash ? { backupHash } : {}),
  };
}
