import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { type ChangeMeta, metaFromS3, type Tombstone } from '../change-record';
import type { WireItem } from '../ddb-json';
import { BackupStateError } from '../errors';
import { type Deadline, NO_DEADLINE } from '../job-model';
import { type Log, silentLog } from '../log';
import { type BackupLocation, decodeObjectKey, type ItemKey, itemsRoot } from '../object-key';
import { compareObjectKeys, type PackEntry } from '../pack-format';
import { type GuidedKey, guidedKeys, PER_PREFIX_KEYS } from '../pack-guide';
import {
  compactRanges,
  inKeyRange,
  type KeyRange,
  keyRangeOf,
  type Partition,
  type PrefixRange,
  prefixRanges,
  WHOLE,
} from '../partition';
import { DEFAULT_CLOCK_SKEW_MS, type ListedVersion } from '../select-version';
import { TaskPool } from '../task-pool';
import { type ItemAsOf, itemFromVersion, type VersionAsOf, versionAsOf } from './items-as-of';
import { type PackGuide, packGuide } from './pack-changes';
import { openPack, type Pack, PackCursor, packEntries } from './pack-reader';
import { counted, RequestTally } from './request-tally';
import {
  type KeyVersions,
  listKeyVersions,
  listVersionsOfKey,
  readVersion,
  readVersionMeta,
  readVersionRaw,
} from './version-store';
import { wrapSend } from './wrap-send';

export interface ReaderSettings {
  /**
   * The most S3 requests a scan of this reader has in flight at once, listings and reads
   * together: the one meaning of every command's `--concurrency` on the backup side.
   * @default 32
   */
  concurrency?: number;
  /** Bound on how far S3's clock may trail DynamoDB's. @default DEFAULT_CLOCK_SKEW_MS (2000) */
  clockSkewMs?: number;
  /** Where a damaged pack is reported. */
  log?: Log;
  /** Where the reader's requests are counted. @default a new tally, the reader's own */
  tally?: RequestTally;
}

/** One item of a scan: the item as of T, and the version it came from. */
export interface ScannedItem extends ItemAsOf {
  /** The version holding the item as of T (absent when the backup has no change at or before T). */
  chosen?: VersionAsOf;
  /** The pack's entry for this object key, whether or not it is the chosen version. */
  packed?: PackEntry;
}

/** One item read alone, with what was learned on the way. */
export interface SingleItem extends ScannedItem {
  versions: ListedVersion[];
  metas: Map<string, ChangeMeta | undefined>;
}

/** What a job does with one hash prefix (or a cut of one) of a scan. */
export interface PrefixVisit<I> {
  /** Each object key of the prefix (with its versions), or each item as of T. */
  item(item: I): Promise<void> | void;
  /**
   * After the last item was handled, with the object keys the scan went through: the prefix
   * range's own bounds, or, when the deadline stopped it, up to the last key handled. Work for
   * keys the listing did not show (a target's extra items) belongs to exactly this range.
   */
  end?(done: KeyRange): Promise<void> | void;
}

export interface ScanRequest {
  atMs: number;
  /** @default WHOLE (all 256 hash prefixes) */
  partition?: Partition;
  /** Several ranges, in order, instead of `partition` (a continuation's rest). */
  ranges?: readonly Partition[];
  /** Take chosen versions' bodies from this pack where it holds them (see openPack). */
  pack?: Pack;
  /**
   * With a pack made at or before T: list only the items the change index names as changed since
   * it, and take every other item from the pack (pack-guide.ts). Where the index cannot say, or a
   * prefix has many such items, that prefix is listed as without it. @default true
   */
  guided?: boolean;
  /**
   * Hand each prefix's items to `item` one at a time in listing order (a pack's chunks need it);
   * otherwise items of a prefix are handled in parallel. Reads run ahead either way.
   */
  ordered?: boolean;
  /** Checked before each object key: once true, no new key starts (see ScanStats.remaining). */
  deadline?: Deadline;
  /**
   * Hash prefixes read at once; 1 with `ordered` hands items over in object-key order across
   * prefixes. @default 16
   */
  prefixesAtOnce?: number;
}

export interface ScanStats {
  /** Object keys listed (items, present or not). */
  keys: number;
  /** Versions and delete markers listed. */
  versions: number;
  /** What the scan went through to the end: every key in these ranges was handled. */
  covered: Partition[];
  /** What the deadline kept it from: a continuation scans exactly these (empty when done). */
  remaining: Partition[];
  /** With a pack: the items read through their own listings, or why every prefix was listed. */
  guide?: PackIndexUse;
}

/** How a scan read its pack: through the change index (this many items listed alone), or not, and why. */
export type PackIndexUse = { changedItems: number } | { reason: string };

// How the request budget is spread: prefixes listed at once, and reads running per prefix.
const MAX_PREFIXES = 16;

/**
 * The one way jobs read a backup: bound to a location (client, bucket, prefix, table), it offers
 * the scan every whole-backup job needs (the items of a range of hash prefixes as of T, with the
 * pack used where there is one) and the single-item reads. Restore, export, verify, pack and
 * changes plug their per-item rule into `scan` or `eachKey`; show, history and `--keys` use the
 * item methods. Requests are counted per operation in `tally` (request-tally.ts).
 */
export class BackupReader {
  readonly loc: BackupLocation;
  readonly clockSkewMs: number;
  readonly concurrency: number;
  /** Every request the reader sent, per operation; jobs count their other requests here too. */
  readonly tally: RequestTally;
  private readonly s3: S3Client;
  private readonly log: Log;

  constructor(s3: S3Client, loc: BackupLocation, settings: ReaderSettings = {}) {
    this.loc = loc;
    this.concurrency = settings.concurrency ?? 32;
    this.clockSkewMs = settings.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    this.log = settings.log ?? silentLog;
    this.tally = settings.tally ?? new RequestTally();
    this.s3 = limitRequests(counted(s3, this.tally), this.concurrency);
  }

  /** The finished pack best suited to a read as of `atMs`, if any. */
  openPack(atMs: number): Promise<Pack | undefined> {
    return openPack(this.s3, this.loc, atMs);
  }

  /** Every item of a partition as of T, handed to the visit its prefix's `visit` returns. */
  async scan(
    req: ScanRequest,
    visit: (hh: string, range: KeyRange) => PrefixVisit<ScannedItem>,
  ): Promise<ScanStats> {
    const asOf = { atMs: req.atMs, clockSkewMs: this.clockSkewMs };
    const guide =
      req.pack && req.guided !== false ? await packGuide(this.s3, this.loc, req.pack, req.atMs) : undefined;
    let keyVersions = 0;
    const stats = await this.walk<GuidedKey | KeyVersions, PackEntry | undefined, ScannedItem>(
      req.ranges ?? [req.partition ?? WHOLE],
      req,
      (unit) => {
        const v = visit(unit.hh, keyRangeOf(unit));
        const cursor = req.pack && new PackCursor(this.s3, this.loc, req.pack, unit.hh, this.log);
        const changed = guide?.guided ? changedIn(guide, unit) : undefined;
        return {
          keys: () =>
            req.pack && changed && changed.length <= PER_PREFIX_KEYS
              ? this.packKeys(unit, req.pack, changed)
              : this.listed(unit),
          prepare: async (group) => ('versions' in group ? cursor?.find(group.objectKey) : group.packed),
          read: async (group, packed) => {
            if (!('versions' in group) && !group.listed && packed) return packedItem(packed);
            const versions = 'versions' in group ? group.versions : await this.versionsOf(group.objectKey);
            if (!('versions' in group)) keyVersions += versions.length;
            const listing = { bucket: this.loc.bucket, objectKey: group.objectKey, versions, packed };
            const chosen = await versionAsOf(this.s3, listing, asOf);
            return {
              ...itemFromVersion(group.objectKey, chosen),
              ...(chosen ? { chosen } : {}),
              ...(packed ? { packed } : {}),
            };
          },
          use: (item) => v.item(item),
          end: (done) => v.end?.(done),
        };
      },
    );
    const guideStats =
      guide && (guide.guided ? { changedItems: guide.changedItems } : { reason: guide.reason });
    return { ...stats, versions: stats.versions + keyVersions, ...(guideStats ? { guide: guideStats } : {}) };
  }

  /** Every object key of a partition with its versions (for jobs that are not "as of T"). */
  eachKey(
    partition: Partition,
    visit: (hh: string, range: KeyRange) => PrefixVisit<KeyVersions>,
    deadline?: Deadline,
  ): Promise<ScanStats> {
    return this.walk<KeyVersions, undefined, KeyVersions>(
      [partition],
      deadline ? { deadline } : {},
      (unit) => {
        const v = visit(unit.hh, keyRangeOf(unit));
        return {
          keys: () => this.listed(unit),
          prepare: async () => undefined,
          read: async (group) => group,
          use: (group) => v.item(group),
          end: (done) => v.end?.(done),
        };
      },
    );
  }

  /** Every version and delete marker of one object key, newest first. */
  versionsOf(objectKey: string): Promise<ListedVersion[]> {
    return listVersionsOfKey(this.s3, this.loc.bucket, objectKey);
  }

  /**
   * An item's key from its object key or, for the long (hashed) form, from its newest version
   * with a body: the image, or a removal's tombstone (which names the key).
   */
  async keyOf(objectKey: string, names: readonly string[]): Promise<ItemKey> {
    const decoded = decodeObjectKey(this.loc, objectKey);
    if (decoded) return decoded;
    for (const v of await this.versionsOf(objectKey)) {
      if (v.isDeleteMarker) continue;
      const { body } = await readVersion(this.s3, this.loc.bucket, objectKey, v.versionId);
      const parsed = JSON.parse(body) as WireItem & Partial<Tombstone>;
      if (parsed.ddbRewindTombstone) return parsed.Keys as ItemKey;
      return Object.fromEntries(names.map((n) => [n, parsed[n]])) as ItemKey;
    }
    throw new BackupStateError(`${objectKey} has no version to read its key from: run ddb-rewind verify`);
  }

  /**
   * One item as of T: its listing (`listed`, when the caller has it), usually one HeadObject and
   * one GetObject (3 requests). Also returns the listing and the change metadata read while
   * deciding, for callers that say more about the item (show, the console's item page).
   */
  async itemAsOf(objectKey: string, atMs: number, listed?: ListedVersion[]): Promise<SingleItem> {
    const versions = listed ?? (await this.versionsOf(objectKey));
    const metas = new Map<string, ChangeMeta | undefined>();
    const asOf = { atMs, clockSkewMs: this.clockSkewMs, metas };
    const chosen = await versionAsOf(this.s3, { bucket: this.loc.bucket, objectKey, versions }, asOf);
    if (chosen) metas.set(chosen.version.versionId, chosen.meta);
    return { ...itemFromVersion(objectKey, chosen), ...(chosen ? { chosen } : {}), versions, metas };
  }

  /** One item at several instants from one listing (undo: just before T1, at T2, its latest). */
  async itemAtInstants(
    objectKey: string,
    instants: readonly number[],
  ): Promise<Array<ItemAsOf & { changeMs?: number }>> {
    const versions = await this.versionsOf(objectKey);
    const listing = { bucket: this.loc.bucket, objectKey, versions };
    return Promise.all(
      instants.map(async (atMs) => {
        const chosen = await versionAsOf(this.s3, listing, { atMs, clockSkewMs: this.clockSkewMs });
        return {
          ...itemFromVersion(objectKey, chosen),
          ...(chosen?.meta ? { changeMs: chosen.meta.timeMs } : {}),
        };
      }),
    );
  }

  readMeta(objectKey: string, versionId: string) {
    return readVersionMeta(this.s3, this.loc.bucket, objectKey, versionId);
  }

  /** One version's body and change metadata. */
  readVersion(objectKey: string, versionId: string) {
    return readVersion(this.s3, this.loc.bucket, objectKey, versionId);
  }

  readRaw(objectKey: string, versionId: string) {
    return readVersionRaw(this.s3, this.loc.bucket, objectKey, versionId);
  }

  /** A prefix range's object keys with their versions, from its listing. */
  private listed(unit: PrefixRange): AsyncIterable<KeyVersions> {
    return listKeyVersions(this.s3, this.loc.bucket, `${itemsRoot(this.loc)}${unit.hh}/`, {
      ...(unit.after !== undefined ? { startAfterKey: unit.after } : {}),
    });
  }

  /**
   * A prefix range's keys from the pack, merged with the keys the index says changed since it; a
   * chunk that cannot be read turns the rest of the range into a listing.
   */
  private async *packKeys(
    unit: PrefixRange,
    pack: Pack,
    changed: readonly string[],
  ): AsyncGenerator<GuidedKey | KeyVersions> {
    let last = unit.after;
    try {
      const entries = packEntries(this.s3, this.loc, pack, { hh: unit.hh, after: unit.after });
      for await (const key of guidedKeys(entries, changed, unit.until)) {
        last = key.objectKey;
        yield key;
      }
    } catch (err) {
      this.log.warn('pack chunk unreadable; listing the rest of this hash prefix instead', {
        pack: pack.id,
        hashPrefix: unit.hh,
        error: (err as Error).message,
      });
      yield* this.listed({ ...unit, ...(last !== undefined ? { after: last } : {}) });
    }
  }

  /**
   * The prefix loop every scan shares. Per prefix range: the listing, one key at a time;
   * `prepare` in listing order (a pack cursor must be walked that way); `read` run ahead in
   * parallel; `use` in parallel, or in listing order when `ordered`; then `end`. The deadline is
   * checked before each key, so a task stops within one key's reads however big a prefix is.
   */
  private async walk<G extends KeyGroup, P, R>(
    ranges: readonly Partition[],
    {
      ordered = false,
      deadline = NO_DEADLINE,
      prefixesAtOnce = MAX_PREFIXES,
    }: { ordered?: boolean; deadline?: Deadline; prefixesAtOnce?: number },
    open: (unit: PrefixRange) => Walker<G, P, R>,
  ): Promise<ScanStats> {
    let keys = 0;
    let versions = 0;
    const units = prefixRanges(ranges);
    const covered: PrefixRange[] = [];
    const remaining: PrefixRange[] = [];
    const parallel = Math.max(1, Math.min(prefixesAtOnce, units.length, this.concurrency));
    // Reads queued per prefix: enough to keep the request budget busy, bounded so memory is too.
    const ahead = Math.max(2, Math.ceil((2 * this.concurrency) / parallel));
    const pool = new TaskPool(parallel);
    for (const unit of units) {
      if (deadline()) {
        remaining.push(unit);
        continue;
      }
      await pool.submit(async () => {
        const out = await this.walkUnit(unit, { ordered, deadline, ahead }, open(unit));
        keys += out.keys;
        versions += out.versions;
        if (out.done) covered.push(out.done);
        if (out.rest) remaining.push(out.rest);
      });
    }
    await pool.drain();
    const order = (a: PrefixRange, b: PrefixRange) => (a.hh < b.hh ? -1 : a.hh > b.hh ? 1 : 0);
    return {
      keys,
      versions,
      covered: compactRanges(covered.sort(order)),
      remaining: compactRanges(remaining.sort(order)),
    };
  }

  /** One prefix range of a walk: what it went through, and what the deadline left of it. */
  private async walkUnit<G extends KeyGroup, P, R>(
    unit: PrefixRange,
    { ordered, deadline, ahead }: { ordered: boolean; deadline: Deadline; ahead: number },
    w: Walker<G, P, R>,
  ): Promise<{ keys: number; versions: number; done?: PrefixRange; rest?: PrefixRange }> {
    const run = ordered ? new InOrder<R>(ahead, (r) => w.use(r)) : new Unordered<R>(ahead, (r) => w.use(r));
    let keys = 0;
    let versions = 0;
    let last: string | undefined;
    let stopped = false;
    for await (const group of w.keys()) {
      if (unit.until !== undefined && compareObjectKeys(group.objectKey, unit.until) > 0) break;
      if (deadline()) {
        stopped = true;
        break;
      }
      keys++;
      versions += group.versions?.length ?? 0;
      const p = await w.prepare(group);
      await run.add(() => w.read(group, p));
      last = group.objectKey;
    }
    await run.finish();
    if (!stopped) {
      await w.end(keyRangeOf(unit));
      return { keys, versions, done: unit };
    }
    // Cut: handled through `last`; the rest of the range is a continuation's.
    const rest = { ...unit, ...(last !== undefined ? { after: last } : {}) };
    if (last === undefined) return { keys, versions, rest };
    const done = { ...unit, until: last };
    await w.end(keyRangeOf(done));
    return { keys, versions, done, rest };
  }
}

/** What a walk goes through, one object key at a time: a listing's group, or a guided key. */
type KeyGroup = { objectKey: string; versions?: readonly ListedVersion[] };

interface Walker<G extends KeyGroup, P, R> {
  /** The unit's object keys in listing order. */
  keys(): AsyncIterable<G>;
  prepare(group: G): Promise<P>;
  read(group: G, prepared: P): Promise<R>;
  use(result: R): Promise<void> | void;
  end(done: KeyRange): Promise<void> | void;
}

/** Reads and uses in parallel, at most `size` at once. */
class Unordered<R> {
  private readonly pool: TaskPool;
  constructor(
    size: number,
    private readonly use: (r: R) => Promise<void> | void,
  ) {
    this.pool = new TaskPool(size);
  }
  add(read: () => Promise<R>): Promise<void> {
    return this.pool.submit(async () => {
      await this.use(await read());
    });
  }
  finish(): Promise<void> {
    return this.pool.drain();
  }
}

/** Reads in parallel (at most `size` ahead), uses one at a time in the order added. */
class InOrder<R> {
  private readonly window: Array<Promise<R>> = [];
  constructor(
    private readonly size: number,
    private readonly use: (r: R) => Promise<void> | void,
  ) {}
  async add(read: () => Promise<R>): Promise<void> {
    const p = read();
    // Awaited in order by next(); this only keeps an early failure from counting as unhandled.
    p.catch(() => {});
    this.window.push(p);
    if (this.window.length >= this.size) await this.next();
  }
  async finish(): Promise<void> {
    while (this.window.length) await this.next();
  }
  private async next(): Promise<void> {
    await this.use(await (this.window.shift() as Promise<R>));
  }
}

/**
 * The client a reader sends through: the same client, with at most `n` of the reader's requests
 * in flight. Not a middleware on the client: it is shared (Lambda keeps one per container), and
 * every user of it would be limited.
 */
function limitRequests(s3: S3Client, n: number): S3Client {
  const limit = pLimit(n);
  return wrapSend(s3, (...args) => limit(() => s3.send(...args)));
}

/** The changed keys of a unit, in order (already sorted per prefix). */
function changedIn(guide: Extract<PackGuide, { guided: true }>, unit: PrefixRange): string[] {
  return (guide.changed.get(unit.hh) ?? []).filter((k) => inKeyRange(k, keyRangeOf(unit)));
}

/** An item the pack answers alone: its entry is the version holding it as of T. */
function packedItem(entry: PackEntry): ScannedItem {
  const meta = metaFromS3(entry.metadata);
  const chosen: VersionAsOf = {
    // Not listed: the entry's LastModified is unknown, and nothing downstream needs it.
    version: { versionId: entry.versionId, lastModifiedMs: 0, isDeleteMarker: false },
    meta,
    body: entry.body,
    metadata: entry.metadata,
    fromPack: true,
  };
  return { ...itemFromVersion(entry.objectKey, chosen), chosen, packed: entry };
}
