import type { WireItem, WireValue } from '../ddb-json';
import { keyOf } from '../item-key';
import type { ItemKey } from '../object-key';
import { compareObjectKeys } from '../pack-format';
import { type Partition, WHOLE } from '../partition';
import type { BackupReader, PackIndexUse } from './backup-reader';

export interface ItemsPageRequest {
  atMs: number;
  /** Where to start (a previous page's `next`). @default the whole table */
  ranges?: Partition[];
  /** Items per page. */
  limit: number;
  /** Only items whose partition key value (as text: a string, a number's digits, base64) starts so. */
  keyPrefix?: string;
  /** Stop scanning after this long even when the page is not full (a filter matching few items). */
  budgetMs: number;
  /** The table's key attribute names, partition key first. */
  keyNames: readonly string[];
  /** Read bodies from the best pack. @default true */
  usePack?: boolean;
  now?: () => number;
}

export interface ItemsPage {
  /**
   * In object-key order (the backup's own: by hash prefix, then encoded key): `limit` or a few
   * more (the reads in flight when the page filled), never fewer unless the table or the time
   * budget ran out.
   */
  items: Array<{ objectKey: string; key: ItemKey; image: WireItem }>;
  /** Where the next page starts; absent at the end of the table. */
  next?: Partition[];
  /** Object keys gone through (items present, absent or filtered out). */
  scanned: number;
  pack?: string;
  packIndex?: PackIndexUse;
  s3Requests: number;
}

/**
 * One page of the table as of T, through the backup reader's scan (so the same version selection
 * and pack use as a restore): the scan stops starting keys once `limit` items are found, so a page
 * holds about `limit` items, never the whole table, and `next` is exactly what it did not go
 * through (several hash prefixes are read at once: a small table's page is not 256 listings in a row).
 */
export async function itemsPage(reader: BackupReader, req: ItemsPageRequest): Promise<ItemsPage> {
  const now = req.now ?? Date.now;
  const started = now();
  const before = reader.tally.total('s3');
  const pack = req.usePack === false ? undefined : await reader.openPack(req.atMs);
  const found: ItemsPage['items'] = [];
  let scanned = 0;
  const [partitionKey] = req.keyNames;
  const stats = await reader.scan(
    {
      atMs: req.atMs,
      ranges: req.ranges ?? [WHOLE],
      ...(pack ? { pack } : {}),
      deadline: () => found.length >= req.limit || now() - started > req.budgetMs,
    },
    () => ({
      item: (item) => {
        scanned++;
        if (!item.image) return;
        const key = keyOf(item.image, req.keyNames);
        if (req.keyPrefix && !keyText(key[partitionKey ?? ''] as WireValue).startsWith(req.keyPrefix)) return;
        found.push({ objectKey: item.objectKey, key, image: item.image });
      },
    }),
  );
  // Every item found is shown: `remaining` starts after the last key each prefix went through.
  const items = found.sort((a, b) => compareObjectKeys(a.objectKey, b.objectKey));
  return {
    items,
    ...(stats.remaining.length ? { next: stats.remaining } : {}),
    scanned,
    ...(pack ? { pack: pack.id } : {}),
    ...(stats.guide ? { packIndex: stats.guide } : {}),
    s3Requests: reader.tally.total('s3') - before,
  };
}

/** A key value as text for the prefix filter. */
const keyText = (v: WireValue): string => {
  const x = v as { S?: string; N?: string; B?: string };
  return x.S ?? x.N ?? x.B ?? '';
};
