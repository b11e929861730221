import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { CapacityError } from '../errors';
import type { RateLimiter } from '../rate-limiter';

export interface BatchWriterOptions {
  table: string;
  /** Caps write capacity units per second. */
  limiter?: RateLimiter;
  /** Give up after this many rounds that leave items unprocessed. @default 12 */
  maxRounds?: number;
}

const BATCH = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Write capacity one request will use: 1 WCU per started KB of the item; a delete is 1. */
export function writeUnits(request: WriteRequest): number {
  const item = request.PutRequest?.Item;
  if (!item) return 1;
  let bytes = 0;
  const size = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (v instanceof Uint8Array) return v.byteLength;
    if (Array.isArray(v)) return v.reduce((n: number, x) => n + size(x), 0);
    if (v && typeof v === 'object') return Object.entries(v).reduce((n, [k, x]) => n + k.length + size(x), 0);
    return 1;
  };
  bytes = size(item);
  return Math.max(1, Math.ceil(bytes / 1024));
}

/**
 * Writes up to 25 requests with BatchWriteItem, retrying UnprocessedItems with exponential
 * backoff and full jitter (throttling errors themselves are retried by the SDK's adaptive mode).
 */
export async function writeBatch(
  dynamodb: DynamoDBClient,
  requests: WriteRequest[],
  options: BatchWriterOptions,
): Promise<void> {
  if (requests.length > BATCH) throw new RangeError(`writeBatch takes at most ${BATCH} requests`);
  let pending = requests;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= (options.maxRounds ?? 12)) {
      throw new CapacityError(
        `DynamoDB left ${pending.length} writes to ${options.table} unprocessed after ${round} attempts: raise the table's write capacity or lower --concurrency / --max-wcu, then run the restore again`,
      );
    }
    if (round > 0) await sleep(Math.random() * Math.min(20_000, 50 * 2 ** round));
    if (options.limiter) await options.limiter.take(pending.reduce((n, r) => n + writeUnits(r), 0));
    const out = await dynamodb.send(
      new BatchWriteItemCommand({ RequestItems: { [options.table]: pending } }),
    );
    pending = out.UnprocessedItems?.[options.table] ?? [];
  }
}

/**
 * Collects write requests into batches of 25 and sends them, at most `concurrency` at once.
 * `add` waits when that many batches are in flight, so memory stays bounded.
 */
export class BatchWriter {
  private buffer: WriteRequest[] = [];
  private inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly options: BatchWriterOptions & { concurrency: number },
  ) {}

  async add(request: WriteRequest): Promise<void> {
    this.buffer.push(request);
    if (this.buffer.length >= BATCH) await this.send();
  }

  async flush(): Promise<void> {
    if (this.buffer.length) await this.send();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async send(): Promise<void> {
    if (this.failure) throw this.failure;
    const batch = this.buffer;
    this.buffer = [];
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    const p: Promise<void> = writeBatch(this.dynamodb, batch, this.options)
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
