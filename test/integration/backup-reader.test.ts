import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { BackupReader } from '../../core/aws/backup-reader';
import { s3Client } from '../../core/aws/clients';
import { counted, RequestTally } from '../../core/aws/request-tally';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { silentLog } from '../../core/log';
import { compareObjectKeys } from '../../core/pack-format';
import { EventBuilder } from '../support/fixtures';
import { scratchBackup } from '../support/scratch';

// The one backup reader on the real S3 server: what its scan hands out, what `concurrency`
// means (S3 requests in flight), and requests counted per operation by the client's middleware.

const { s3, dynamodb, bucket, table, loc } = scratchBackup('reader');
const ITEMS = 300;
const startS = Math.floor(Date.now() / 1000) - 600;

beforeAll(async () => {
  const events = new EventBuilder(table);
  const records = [];
  for (let i = 0; i < ITEMS; i++) {
    const key = { pk: { S: `item-${i}` } };
    records.push(events.record('INSERT', key, startS, { ...key, v: { N: '1' } }));
    if (i % 3 === 0) records.push(events.record('MODIFY', key, startS + 1, { ...key, v: { N: '2' } }));
    if (i % 10 === 0) records.push(events.record('REMOVE', key, startS + 2, undefined, { oldImage: key }));
  }
  for (let i = 0; i < records.length; i += 100)
    await writeStreamBatch(
      { s3, dynamodb, log: silentLog },
      { bucket, concurrency: 16 },
      events.event(records.slice(i, i + 100)),
    );
  // Every version is then older than T minus the skew bound: decided from the listing alone.
  await new Promise((r) => setTimeout(r, 2100));
});

/** A client of its own whose middleware records how many of its requests are in flight. */
function inFlightProbe() {
  const client = s3Client();
  const probe = { now: 0, peak: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      probe.peak = Math.max(probe.peak, ++probe.now);
      try {
        return await next(args);
      } finally {
        probe.now--;
      }
    },
    { step: 'initialize', name: 'inFlightProbe' },
  );
  return { client, probe };
}

describe('BackupReader', () => {
  it('scans every item as of T once, and counts its requests per operation', async () => {
    const reader = new BackupReader(s3, loc);
    const tally = reader.tally;
    const seen = new Map<string, string | undefined>();
    const stats = await reader.scan({ atMs: Date.now() }, () => ({
      item: (item) => {
        expect(seen.has(item.objectKey)).toBe(false);
        seen.set(item.objectKey, item.image?.v?.N);
      },
    }));
    expect(seen.size).toBe(ITEMS);
    expect([...seen.values()].filter((v) => v === undefined)).toHaveLength(ITEMS / 10);
    expect([...seen.values()].filter((v) => v === '2')).toHaveLength(100 - 10);
    expect(stats.keys).toBe(ITEMS);
    // One listing page per hash prefix and one GET per item (a tombstone's read says it is one).
    expect(tally.byOperation('s3')).toEqual({ ListObjectVersions: 256, GetObject: ITEMS });
    expect(tally.total('dynamodb')).toBe(0);
  });

  it('has at most `concurrency` S3 requests in flight, listings and reads together', async () => {
    for (const concurrency of [2, 5]) {
      const { client, probe } = inFlightProbe();
      const reader = new BackupReader(client, loc, { concurrency });
      let items = 0;
      await reader.scan({ atMs: Date.now() }, () => ({
        item: async () => {
          items++;
        },
      }));
      expect(items).toBe(ITEMS);
      expect(probe.peak).toBeLessThanOrEqual(concurrency);
      expect(probe.peak).toBe(concurrency); // and it uses what it is given
    }
  });

  it('hands out a prefix in listing order when asked, and each prefix ends after its items', async () => {
    const reader = new BackupReader(s3, loc, { concurrency: 16 });
    const byPrefix = new Map<string, string[]>();
    const ended = new Set<string>();
    await reader.scan({ atMs: Date.now(), ordered: true }, (hh) => {
      const keys: string[] = [];
      byPrefix.set(hh, keys);
      return {
        item: async (item) => {
          expect(ended.has(hh)).toBe(false);
          keys.push(item.objectKey);
          await new Promise((r) => setTimeout(r, Math.random() * 3));
        },
        end: () => {
          ended.add(hh);
        },
      };
    });
    expect(ended.size).toBe(256);
    for (const keys of byPrefix.values()) expect(keys).toEqual([...keys].sort(compareObjectKeys));
  });

  it('counts each job apart when jobs share one client at once, and nothing sent past it', async () => {
    const one = new BackupReader(s3, loc);
    const tally = new RequestTally();
    const two = new BackupReader(s3, loc, { tally });
    const key = `${table}/v1/`;
    await Promise.all([
      one.eachKey({ from: '00', to: '0f' }, () => ({ item: () => {} })),
      (async () => {
        await two.versionsOf(key);
        await two.versionsOf(key);
      })(),
      s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key })), // the plain client: not counted
    ]);
    expect(one.tally.byOperation('s3')).toEqual({ ListObjectVersions: 16 });
    expect(tally.byOperation('s3')).toEqual({ ListObjectVersions: 2 });
  });

  it('counts in every tally when a reader is given a client that is already counted', async () => {
    // A caller's tally (a benchmark's, a job's) around the reader's own: both must see the requests.
    const outer = new RequestTally();
    const reader = new BackupReader(counted(s3, outer), loc);
    await reader.eachKey({ from: '00', to: '03' }, () => ({ item: () => {} }));
    expect(reader.tally.byOperation('s3')).toEqual({ ListObjectVersions: 4 });
    expect(outer.byOperation('s3')).toEqual({ ListObjectVersions: 4 });
  });

  it('reads one item as of T in 3 requests at most', async () => {
    const objectKey = (await firstKey(new BackupReader(s3, loc))) as string;
    const reader = new BackupReader(s3, loc);
    const tally = reader.tally;
    // As of now every version is older than the skew bound: the listing and one GET.
    const item = await reader.itemAsOf(objectKey, Date.now());
    expect(item.known).toBe(true);
    expect(tally.byOperation('s3')).toEqual({ ListObjectVersions: 1, GetObject: 1 });
  });
});

async function firstKey(reader: BackupReader): Promise<string | undefined> {
  let found: string | undefined;
  await reader.eachKey({ from: '00', to: '00' }, () => ({
    item: (group) => {
      found ??= group.objectKey;
    },
  }));
  return found;
}
