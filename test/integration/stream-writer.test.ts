import { CreateBucketCommand, GetBucketVersioningCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import type { WireItem } from '../../core/ddb-json';
import { PoisonRecordError } from '../../core/errors';
import { silentLog } from '../../core/log';
import { objectKeyFor } from '../../core/object-key';
import ttlFixture from '../fixtures/ttl-delete-event.json';
import { versionsOf } from '../support/backup-reader';
import { deleteBucket, EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { scratchBackup } from '../support/scratch';

const { s3, dynamodb, bucket, table, loc } = scratchBackup('writer');
const deps = { s3, dynamodb, log: silentLog };
const config = { bucket, concurrency: 8 };
const events = new EventBuilder(table);
const base = Math.floor(Date.now() / 1000) - 3600;

const EVERY_TYPE: WireItem = {
  pk: { S: 'every-type' },
  s: { S: 'héllo / wörld' },
  empty: { S: '' },
  big: { N: '12345678901234567890123456789012345678' },
  tiny: { N: '-0.000000000000000000000000000000000000123' },
  huge: { N: '9.9999999999999999999999999999999999999E+125' },
  bin: { B: Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64') },
  ss: { SS: ['a', 'b', 'ç'] },
  ns: { NS: ['1', '2.5', '-3E10'] },
  bs: { BS: [Buffer.from('x').toString('base64'), Buffer.from([0]).toString('base64')] },
  t: { BOOL: true },
  f: { BOOL: false },
  nothing: { NULL: true },
  list: { L: [{ S: 'x' }, { N: '1' }, { NULL: true }, { L: [] }, { M: {} }] },
  map: { M: { nested: { M: { deeper: { SS: ['z'] }, n: { N: '0.1' } } } } },
};

describe('stream writer', () => {
  it('stores the new image as exact native DynamoDB JSON with change metadata', async () => {
    const keys = { pk: EVERY_TYPE.pk as { S: string } };
    const out = await writeStreamBatch(
      deps,
      config,
      events.event([events.record('INSERT', keys, base + 1, EVERY_TYPE)]),
    );
    expect(out.batchItemFailures).toEqual([]);
    const [version] = await versionsOf(s3, bucket, objectKeyFor(loc, keys));
    expect(JSON.parse(version?.body ?? '')).toEqual(EVERY_TYPE);
    expect(version?.meta).toMatchObject({
      timeMs: (base + 1) * 1000,
      event: 'INSERT',
      cause: 'user',
      keyNames: ['pk'],
    });
    expect(version?.meta?.seq).toMatch(/^\d{21}$/);
  });

  it('stores an item of 400 KB', async () => {
    const keys = { pk: { S: 'large' } };
    const image = { ...keys, blob: { S: 'x'.repeat(400 * 1024 - 20) } };
    await writeStreamBatch(deps, config, events.event([events.record('INSERT', keys, base + 2, image)]));
    const [version] = await versionsOf(s3, bucket, objectKeyFor(loc, keys));
    expect(JSON.parse(version?.body ?? '')).toEqual(image);
  });

  it('records insert, modify, delete and re-insert as versions, a delete as tombstone + delete marker', async () => {
    const keys = { pk: { S: 'life/cycle item' } };
    await writeStreamBatch(
      deps,
      config,
      events.event([
        events.record('INSERT', keys, base + 10, { ...keys, v: { N: '1' } }),
        events.record('MODIFY', keys, base + 11, { ...keys, v: { N: '2' } }),
        events.record('REMOVE', keys, base + 12),
        events.record('INSERT', keys, base + 13, { ...keys, v: { N: '3' } }),
      ]),
    );
    const versions = await versionsOf(s3, bucket, objectKeyFor(loc, keys));
    expect(versions.map((v) => (v.isDeleteMarker ? 'DM' : v.meta?.event))).toEqual([
      'INSERT',
      'MODIFY',
      'REMOVE',
      'DM',
      'INSERT',
    ]);
    expect(JSON.parse(versions[2]?.body ?? '')).toMatchObject({ ddbRewindTombstone: 1, Keys: keys });
    expect(versions[2]?.meta?.timeMs).toBe((base + 12) * 1000);
  });

  it('writes 100 changes of one item inside one batch in stream order', async () => {
    const keys = { pk: { S: 'hot' } };
    const records = Array.from({ length: 100 }, (_, i) =>
      events.record(i === 0 ? 'INSERT' : 'MODIFY', keys, base + 20 + Math.floor(i / 10), {
        ...keys,
        i: { N: String(i) },
      }),
    );
    const out = await writeStreamBatch(deps, { bucket, concurrency: 32 }, events.event(records));
    expect(out.written).toBe(100);
    const versions = await versionsOf(s3, bucket, objectKeyFor(loc, keys));
    expect(versions.map((v) => JSON.parse(v.body ?? '{}').i.N)).toEqual(records.map((_, i) => String(i)));
  });

  it('reports a failed record and writes nothing after it for that item, while other items go on', async () => {
    const a = { pk: { S: 'fails' } };
    const b = { pk: { S: 'fine' } };
    const records = [
      events.record('INSERT', a, base + 30, { ...a, v: { N: '1' } }),
      events.record('INSERT', b, base + 30, { ...b, v: { N: '1' } }),
      events.record('MODIFY', a, base + 31, { ...a, v: { N: '2' } }),
      events.record('MODIFY', b, base + 31, { ...b, v: { N: '2' } }),
      events.record('MODIFY', a, base + 32, { ...a, v: { N: '3' } }),
    ];
    const failing = records[2]?.dynamodb?.SequenceNumber;
    const out = await writeStreamBatch(
      {
        ...deps,
        beforeWrite: (change) => {
          if (change.meta.seq === failing)
            throw Object.assign(new Error('injected S3 failure'), { name: 'InternalError' });
        },
      },
      config,
      events.event(records),
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: failing }]);
    const av = await versionsOf(s3, bucket, objectKeyFor(loc, a));
    expect(av.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual(['1']);
    const bv = await versionsOf(s3, bucket, objectKeyFor(loc, b));
    expect(bv.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual(['1', '2']);
  });

  it('parks a poison record whole, alone: the batch and the item go on, and the parked record replays', async () => {
    const a = { pk: { S: 'poison-a' } };
    const b = { pk: { S: 'poison-b' } };
    const records = [
      events.record('INSERT', a, base + 50, { ...a, v: { N: '1' } }),
      events.record('INSERT', b, base + 50, { ...b, v: { N: '1' } }),
      events.record('MODIFY', a, base + 51, { ...a, v: { N: '2' } }),
      events.record('MODIFY', b, base + 51, { ...b, v: { N: '2' } }),
    ];
    const malformed = events.record('INSERT', { pk: { S: 'x' } }, base + 51, { pk: { S: 'x' } });
    delete malformed.dynamodb?.Keys;
    const poison = records[1]?.dynamodb?.SequenceNumber;
    const out = await writeStreamBatch(
      {
        ...deps,
        beforeWrite: (change) => {
          if (change.meta.seq === poison) throw new PoisonRecordError('forced by the test hook');
        },
      },
      config,
      events.event([...records, malformed]),
    );
    expect(out).toMatchObject({ batchItemFailures: [], written: 3, parked: 2 });
    const bv = await versionsOf(s3, bucket, objectKeyFor(loc, b));
    expect(bv.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual(['2']);

    const parked = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${table}/_dead-letter/${poison}.json` }),
    );
    const replay = JSON.parse((await parked.Body?.transformToString()) ?? '') as DynamoDBStreamEvent;
    expect(replay.Records[0]?.dynamodb?.NewImage).toEqual({ ...b, v: { N: '1' } });
    await writeStreamBatch(deps, config, replay);
    const replayed = await versionsOf(s3, bucket, objectKeyFor(loc, b));
    expect(replayed.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual(['2', '1']);
  });

  it('parks a record whose eventSourceARN names no table, and writes the rest of the batch', async () => {
    const k = { pk: { S: 'arn-ok' } };
    const good = events.record('INSERT', k, base + 60, { ...k, v: { N: '1' } });
    const bad = events.record('INSERT', { pk: { S: 'arn-bad' } }, base + 60, { pk: { S: 'arn-bad' } });
    bad.eventSourceARN = 'arn:aws:dynamodb:us-east-1:123456789012:not-a-stream';
    const out = await writeStreamBatch(deps, config, events.event([good, bad]));
    expect(out).toMatchObject({ batchItemFailures: [], written: 1, parked: 1 });
    const versions = await versionsOf(s3, bucket, objectKeyFor(loc, k));
    expect(versions.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual(['1']);
    const parked = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: `unknown-table/_dead-letter/${bad.dynamodb?.SequenceNumber}.json`,
      }),
    );
    const kept = JSON.parse((await parked.Body?.transformToString()) ?? '') as DynamoDBStreamEvent;
    expect(kept.Records[0]?.eventSourceARN).toBe(bad.eventSourceARN);
  });

  it('marks a recorded TTL-expiry REMOVE as a TTL delete', async () => {
    const event = JSON.parse(
      JSON.stringify(ttlFixture).replaceAll('TABLE_NAME', table),
    ) as DynamoDBStreamEvent;
    await writeStreamBatch(deps, config, event);
    const keys = event.Records[0]?.dynamodb?.Keys as WireItem;
    const versions = await versionsOf(s3, bucket, objectKeyFor(loc, keys));
    expect(versions.filter((v) => !v.isDeleteMarker).map((v) => v.meta?.cause)).toEqual(['user', 'ttl']);
    expect(versions.at(-1)?.isDeleteMarker).toBe(true);
  });

  it('refuses a KEYS_ONLY stream with a message naming the view type to set', async () => {
    const record = events.record('INSERT', { pk: { S: 'k' } }, base + 40, { pk: { S: 'k' } });
    if (record.dynamodb) record.dynamodb.StreamViewType = 'KEYS_ONLY';
    await expect(writeStreamBatch(deps, config, events.event([record]))).rejects.toThrow(
      /has a KEYS_ONLY stream.*set its StreamViewType to NEW_AND_OLD_IMAGES/,
    );
  });

  it('refuses a bucket without versioning before writing anything', async () => {
    const plain = randomName('plain');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    try {
      const record = events.record('INSERT', { pk: { S: 'k' } }, base + 41, { pk: { S: 'k' } });
      await expect(
        writeStreamBatch(deps, { bucket: plain, concurrency: 1 }, events.event([record])),
      ).rejects.toThrow(/versioning never enabled: enable it/);
      const status = await s3.send(new GetBucketVersioningCommand({ Bucket: plain }));
      expect(status.Status).toBeUndefined();
    } finally {
      await deleteBucket(s3, plain);
    }
  });

  it('records the table description with its coverage start', async () => {
    const { readManifest } = await import('../../core/aws/manifest-store');
    const manifest = await readManifest(s3, loc);
    expect(manifest).toMatchObject({
      tableName: table,
      keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    });
    expect(manifest?.coverageFromMs).toBe((base + 1) * 1000);
  });
});
