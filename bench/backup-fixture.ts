import type { DynamoDBRecord } from 'aws-lambda';
import { writeStreamBatch } from '../core/aws/stream-writer';
import type { WireItem } from '../core/ddb-json';
import type { Log } from '../core/log';
import { TaskPool } from '../core/task-pool';
import type { EventBuilder } from '../test/support/fixtures';

/** The benchmarks' workload: `items` items of about 400 bytes, each changed `versions` times. */
/** Item i at version v: what the benchmark backs up, and what its write ceiling writes. */
export const benchImage = (i: number, v: number): WireItem => ({
  pk: { S: `customer#${i}` },
  v: { N: String(v) },
  name: { S: `name ${i}` },
  balance: { N: `${i}.${v}5` },
  tags: { SS: ['a', `t${v}`] },
  body: { S: 'x'.repeat(300) },
});

export function records(
  events: EventBuilder,
  items: number,
  versions: number,
  startS: number,
): DynamoDBRecord[] {
  const out: DynamoDBRecord[] = [];
  for (let v = 0; v < versions; v++) {
    for (let i = 0; i < items; i++) {
      const image = benchImage(i, v);
      out.push(
        events.record(
          v === 0 ? 'INSERT' : 'MODIFY',
          { pk: image.pk as WireItem[string] },
          startS + v * 10,
          image,
        ),
      );
    }
  }
  return out;
}

/** Backs the records up through the real stream writer, 100 records a batch, 4 batches at once. */
export async function writeAll(
  deps: Parameters<typeof writeStreamBatch>[0] & { log: Log },
  bucket: string,
  recs: DynamoDBRecord[],
): Promise<void> {
  const pool = new TaskPool(4);
  for (let i = 0; i < recs.length; i += 100) {
    const batch = recs.slice(i, i + 100);
    await pool.submit(async () => {
      await writeStreamBatch(deps, { bucket, concurrency: 8 }, { Records: batch });
    });
  }
  await pool.drain();
}
