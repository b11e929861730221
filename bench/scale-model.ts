/**
 * The scale model (bench/SCALE.md): per-partition rates measured on the local stack by
 * bench/scale.ts, combined with AWS's published limits and prices, into the wall time and the
 * cost of each job at 1 M, 10 M and 100 M items. Pure: the figures it prints are reproducible
 * from the measured inputs it is given.
 */

/** What bench/scale.ts measured, per partition (one process, as one Lambda task runs it). */
export interface MeasuredRates {
  /** Versions listed per second by one listing stream (one hash prefix, page after page). */
  listVersionsPerStream: number;
  /** Items per second of one partition task, per job. */
  restoreNoPack: number;
  restorePacked: number;
  pack: number;
  export: number;
  backfill: number;
  /** S3 requests per item, per job, from the jobs' own summaries. */
  getsPerItemNoPack: number;
  putsPerItemBackfill: number;
  listsPerItemBackfill: number;
  /** Items per pack chunk in the measured pack. */
  itemsPerChunk: number;
}

/** AWS's published figures the model rests on (us-east-1 list prices; see SCALE.md for sources). */
export const AWS = {
  /** S3: GET/HEAD and PUT/COPY/POST/DELETE per second per partitioned prefix. */
  s3GetPerPrefix: 5_500,
  s3PutPerPrefix: 3_500,
  /** The ddb-rewind layout spreads items over 256 hash prefixes. */
  hashPrefixes: 256,
  /** ListObjectVersions returns at most 1,000 versions per page. */
  versionsPerListPage: 1_000,
  /** A LIST page round trip on S3 (not measurable here; the slower of this and the local rate counts). */
  listPageSeconds: 0.15,
  /** Default Lambda concurrency per account and Region. */
  lambdaConcurrency: 1_000,
  /** Distributed Map: child executions in parallel at most. */
  mapChildren: 10_000,
  /** DynamoDB on-demand: default per-table write throughput quota (WRU/s), reachable with warm throughput. */
  ddbTableWriteQuota: 40_000,
  /** A new on-demand table without warm throughput sustains about this many WRU/s at first. */
  ddbNewTableWrites: 4_000,
  price: {
    s3GetPer1000: 0.0004,
    s3PutListPer1000: 0.005,
    ddbWriteRequestPerMillion: 0.625,
    pitrRestorePerGb: 0.15,
    lambdaGbSecond: 0.0000166667,
  },
} as const;

export interface Scenario {
  items: number;
  versionsPerItem: number;
  /** Average item size in KB (write units per item = ceil(size)). */
  itemKb: number;
  /** Partitions run at once (Lambda tasks of the Distributed Map). */
  partitions: number;
  /** The target table was created with warm throughput at the table quota. */
  warmTarget: boolean;
  /** The bucket's 256 prefixes are already partitioned by S3 (a busy backup), or cold (one partition). */
  warmBucket: boolean;
}

export interface JobEstimate {
  job: string;
  seconds: number;
  /** What sets the time: the largest of the lower bounds. */
  bottleneck: string;
  s3Requests: number;
  s3Cost: number;
  /** DynamoDB write request units, for jobs that write a table. */
  ddbCost: number;
  lambdaCost: number;
  /**
   * The least a task must do before its deadline can stop it: one hash prefix (restore, pack,
   * export), one scan page (backfill). Over about 13 minutes, a Lambda task times out.
   */
  unitSeconds: number;
}

/** Fixed start-up: plan, table creation (restores into a new table), map start, finish. */
const OVERHEAD_SECONDS = 60;
const LAMBDA_GB = 1.769; // one full vCPU: our per-partition rates are single-threaded Node.

/** Seconds to list every version: the 256 prefixes in parallel, each page after page. */
function listSeconds(s: Scenario, m: MeasuredRates): number {
  const perPrefix = (s.items * s.versionsPerItem) / AWS.hashPrefixes;
  const perStream = Math.min(m.listVersionsPerStream, AWS.versionsPerListPage / AWS.listPageSeconds);
  const streams = Math.min(AWS.hashPrefixes, s.partitions * 16);
  return (perPrefix / perStream) * (AWS.hashPrefixes / streams);
}

const s3Rate = (s: Scenario, perPrefix: number) => perPrefix * (s.warmBucket ? AWS.hashPrefixes : 1);

function estimate(
  job: string,
  s: Scenario,
  bounds: Record<string, number>,
  requests: { getClass: number; putClass: number; wru: number },
  work: { rate: number; unitItems: number },
): JobEstimate {
  const [bottleneck, longest] = Object.entries(bounds).reduce((a, b) => (b[1] > a[1] ? b : a));
  const seconds = longest + OVERHEAD_SECONDS;
  return {
    job,
    seconds,
    bottleneck,
    s3Requests: requests.getClass + requests.putClass,
    s3Cost:
      (requests.getClass * AWS.price.s3GetPer1000 + requests.putClass * AWS.price.s3PutListPer1000) / 1000,
    ddbCost: (requests.wru * AWS.price.ddbWriteRequestPerMillion) / 1e6,
    // The tasks' CPU work at the measured rate: the least Lambda time (idle waits cost more).
    lambdaCost: (s.items / work.rate) * LAMBDA_GB * AWS.price.lambdaGbSecond,
    unitSeconds: work.unitItems / work.rate,
  };
}

const partitionsCap = (s: Scenario) => Math.min(s.partitions, AWS.lambdaConcurrency, AWS.mapChildren);

/** Restore into a new table as of T, without a pack and with a fresh one. */
export function restoreEstimates(s: Scenario, m: MeasuredRates): JobEstimate[] {
  const lists = (s.items * s.versionsPerItem) / AWS.versionsPerListPage;
  const wru = s.items * Math.ceil(s.itemKb);
  const writeRate = s.warmTarget ? AWS.ddbTableWriteQuota : AWS.ddbNewTableWrites;
  const p = partitionsCap(s);
  const gets = s.items * m.getsPerItemNoPack;
  const chunks = s.items / m.itemsPerChunk;
  return [
    estimate(
      'restore, no pack',
      s,
      {
        'listing (256 streams)': listSeconds(s, m),
        'S3 GET rate': gets / s3Rate(s, AWS.s3GetPerPrefix),
        'partition CPU': s.items / (p * m.restoreNoPack),
        'DynamoDB writes': wru / writeRate,
      },
      { getClass: gets, putClass: lists, wru },
      { rate: m.restoreNoPack, unitItems: s.items / AWS.hashPrefixes },
    ),
    estimate(
      'restore, with pack',
      s,
      {
        'listing (256 streams)': listSeconds(s, m),
        'S3 GET rate': chunks / s3Rate(s, AWS.s3GetPerPrefix),
        'partition CPU': s.items / (p * m.restorePacked),
        'DynamoDB writes': wru / writeRate,
      },
      { getClass: chunks, putClass: lists, wru },
      { rate: m.restorePacked, unitItems: s.items / AWS.hashPrefixes },
    ),
  ];
}

/** LIST is priced with PUT, COPY and POST. */
/** Pack (first, full), export as of T (with a pack), backfill of a table with `items` items. */
export function otherEstimates(s: Scenario, m: MeasuredRates): JobEstimate[] {
  const lists = (s.items * s.versionsPerItem) / AWS.versionsPerListPage;
  const p = partitionsCap(s);
  const chunks = s.items / m.itemsPerChunk;
  const gets = s.items * m.getsPerItemNoPack;
  const backfillPuts = s.items * (m.putsPerItemBackfill + m.listsPerItemBackfill);
  return [
    estimate(
      'pack (first, full)',
      s,
      {
        'listing (256 streams)': listSeconds(s, m),
        'S3 GET rate': gets / s3Rate(s, AWS.s3GetPerPrefix),
        'partition CPU': s.items / (p * m.pack),
      },
      { getClass: gets, putClass: lists + chunks, wru: 0 },
      { rate: m.pack, unitItems: s.items / AWS.hashPrefixes },
    ),
    estimate(
      'export (with pack)',
      s,
      {
        'listing (256 streams)': listSeconds(s, m),
        'partition CPU': s.items / (p * m.export),
      },
      { getClass: chunks, putClass: lists + p, wru: 0 },
      { rate: m.export, unitItems: s.items / AWS.hashPrefixes },
    ),
    estimate(
      'backfill',
      s,
      {
        'S3 PUT rate': (s.items * m.putsPerItemBackfill) / s3Rate(s, AWS.s3PutPerPrefix),
        'segment CPU': s.items / (p * m.backfill),
      },
      { getClass: 0, putClass: backfillPuts, wru: 0 },
      // A scan page returns at most 1 MB: about 1,000 items of 1 KB.
      { rate: m.backfill, unitItems: Math.min(s.items, 1000 / s.itemKb) },
    ),
  ];
}

/** PITR's restore of the same table: priced per GB; AWS publishes no restore rate. */
export const pitrRestoreCost = (s: Scenario): number =>
  ((s.items * s.itemKb) / 1024 / 1024) * AWS.price.pitrRestorePerGb;
