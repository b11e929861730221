import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire, wireItemToSdk } from '../ddb-json';
import { InputError } from '../errors';
import { gapWarning } from '../gaps';
import { type BackupLocation, decodeObjectKey, HASH_PREFIXES, type ItemKey } from '../object-key';
import { DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { keyNames } from '../table-manifest';
import { TaskPool } from '../task-pool';
import { assertAnswerable } from './backup-check';
import { lastBackfillStart, listGaps } from './gap-store';
import { forEachItemAsOf, itemAsOf } from './items-as-of';
import { requireManifest } from './manifest-store';
import { imageHash, TargetSnapshot } from './target-snapshot';
import { listVersionsOfKey } from './version-store';

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
  const partition = { from: '00', to: HASH_PREFIXES[count - 1] as string };
  const counter = { s3: 0, versions: 0, dynamodb: 0 };
  const snapshot = await TargetSnapshot.take(
    deps.dynamodb,
    req.source.table,
    names,
    req.source,
    partition,
    counter,
  );
  const candidates: Drift[] = [];
  let checked = 0;
  try {
    const pool = new TaskPool(8);
    for (const hh of HASH_PREFIXES.slice(0, count)) {
      await pool.submit(async () => {
        const live = await snapshot.load(hh);
        await forEachItemAsOf(
          deps.s3,
          req.source,
          hh,
          {
            atMs: Date.now() + DEFAULT_CLOCK_SKEW_MS,
            clockSkewMs: 0,
            concurrency: req.concurrency ?? 8,
            counter,
          },
          async (item) => {
            checked++;
            const current = live.get(item.objectKey);
            live.delete(item.objectKey);
            const backupHash = item.image ? imageHash(item.image) : undefined;
            if (current && !backupHash)
              candidates.push({
                kind: 'missing-from-backup',
                objectKey: item.objectKey,
                key: current.key,
                tableHash: current.imageHash,
              });
            else if (!current && backupHash)
              candidates.push({ kind: 'only-in-backup', objectKey: item.objectKey, backupHash });
            else if (current && backupHash && current.imageHash !== backupHash) {
              candidates.push({
                kind: 'differs',
                objectKey: item.objectKey,
                key: current.key,
                tableHash: current.imageHash,
                backupHash,
              });
            }
          },
        );
        for (const [objectKey, current] of live) {
          checked++;
          candidates.push({
            kind: 'missing-from-backup',
            objectKey,
            key: current.key,
            tableHash: current.imageHash,
          });
        }
      });
    }
    await pool.drain();
  } finally {
    await snapshot.dispose();
  }
  const drift: Drift[] = [];
  if (candidates.length) {
    await new Promise((r) => setTimeout(r, req.settleMs ?? 10_000));
    for (const c of candidates) {
      const again = await recheck(deps, req.source, names, c);
      if (again) drift.push(again);
    }
  }
  const counts: Record<DriftKind, number> = { 'missing-from-backup': 0, 'only-in-backup': 0, differs: 0 };
  for (const d of drift) counts[d.kind]++;
  const backfilledFrom = (await lastBackfillStart(deps.s3, req.source)) ?? 0;
  const open = (await listGaps(deps.s3, req.source)).filter((g) => g.toMs > backfilledFrom);
  const warnings = open.length ? [gapWarning(req.source.table, open)] : [];
  return {
    inSync: drift.length === 0,
    checkedItems: checked,
    sampledPrefixes: count,
    drift,
    counts,
    warnings,
    durationMs: Date.now() - started,
  };
}

/** The same comparison for one item, now: still drifting, or settled (undefined). */
async function recheck(
  deps: { s3: S3Client; dynamodb: DynamoDBClient },
  loc: BackupLocation,
  names: string[],
  c: Drift,
): Promise<Drift | undefined> {
  const versions = await listVersionsOfKey(deps.s3, loc.bucket, c.objectKey);
  const counter = { s3: 0, versions: 0 };
  const item = await itemAsOf(deps.s3, loc.bucket, c.objectKey, versions, {
    atMs: Date.now() + DEFAULT_CLOCK_SKEW_MS,
    clockSkewMs: 0,
    counter,
  });
  const key =
    c.key ??
    (item.image
      ? Object.fromEntries(names.map((n) => [n, item.image?.[n]]))
      : decodeObjectKey(loc, c.objectKey));
  if (!key) return c;
  const got = await deps.dynamodb.send(
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
