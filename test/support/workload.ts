import type { DynamoDBRecord } from 'aws-lambda';
import { canonicalItemJson, type WireItem } from '../../core/ddb-json';
import { type BackupLocation, objectKeyFor } from '../../core/object-key';
import type { EventBuilder } from './fixtures';

/** Deterministic random numbers (mulberry32) so a failing workload can be replayed by seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The true table state after every change, kept as canonical JSON per key. */
export class TableModel {
  private state = new Map<string, WireItem>();
  /** [change time seconds, snapshot after that change] in change order. */
  private timeline: Array<{ timeS: number; snapshot: Map<string, string> }> = [];

  apply(keyId: string, timeS: number, image: WireItem | undefined): void {
    if (image) this.state.set(keyId, image);
    else this.state.delete(keyId);
    this.timeline.push({
      timeS,
      snapshot: new Map([...this.state].map(([k, v]) => [k, canonicalItemJson(v)])),
    });
  }

  get(keyId: string): WireItem | undefined {
    return this.state.get(keyId);
  }

  /**
   * The table as of T: every change whose (whole-second) change time is <= T is in. Several
   * changes in one second are all in for any T inside that second: the stream's precision.
   */
  asOf(atMs: number): Map<string, string> {
    let snap = new Map<string, string>();
    for (const entry of this.timeline) {
      if (entry.timeS * 1000 <= atMs) snap = entry.snapshot;
      else break;
    }
    return snap;
  }
}

const randomImage = (rand: () => number, keys: WireItem, version: number): WireItem => {
  const image: WireItem = { ...keys, version: { N: String(version) } };
  if (rand() < 0.6) image.name = { S: `name ${Math.floor(rand() * 1e6)} ü/${version}` };
  if (rand() < 0.5)
    image.amount = { N: `${Math.floor(rand() * 1e9)}${'7'.repeat(20)}.${Math.floor(rand() * 1000)}` };
  if (rand() < 0.3)
    image.tags = { SS: [...new Set(['a', 'b', 'c', 'd'].filter(() => rand() < 0.6))].concat(['z']) };
  if (rand() < 0.3) image.scores = { NS: ['1', String(version + 2), '-0.5'] };
  if (rand() < 0.3) image.blob = { B: Buffer.from([version % 256, 0, 255]).toString('base64') };
  if (rand() < 0.2)
    image.blobs = {
      BS: [Buffer.from([1]).toString('base64'), Buffer.from([version % 256, 2]).toString('base64')],
    };
  if (rand() < 0.3) image.flag = { BOOL: rand() < 0.5 };
  if (rand() < 0.2) image.gone = { NULL: true };
  if (rand() < 0.4)
    image.profile = {
      M: { city: { S: 'Zürich' }, visits: { N: String(version) }, history: { L: [{ N: '1' }, { S: 'x' }] } },
    };
  if (rand() < 0.3) image.list = { L: [{ S: 'a' }, { M: { n: { N: String(version) } } }] };
  return image;
};

export interface Workload {
  records: DynamoDBRecord[];
  model: TableModel;
  keyOf: Map<string, WireItem>;
  firstS: number;
  lastS: number;
}

/**
 * A seeded workload of puts, updates, deletes and re-inserts over `keyCount` keys, as stream
 * records with whole-second change times: one to four changes per second, so some seconds hold
 * several changes (sometimes of one item).
 */
export function randomWorkload(
  events: EventBuilder,
  seed: number,
  keyCount: number,
  changes: number,
  startS: number,
): Workload {
  const rand = seeded(seed);
  const model = new TableModel();
  const keyOf = new Map<string, WireItem>();
  const records: DynamoDBRecord[] = [];
  let timeS = startS;
  let inSecond = 0;
  for (let i = 0; i < changes; i++) {
    if (inSecond >= 1 + Math.floor(rand() * 4)) {
      timeS += 1 + Math.floor(rand() * 2);
      inSecond = 0;
    }
    inSecond++;
    const n = Math.floor(rand() * keyCount);
    const keys: WireItem = {
      pk: { S: n % 7 === 0 ? `ключ/${n} space` : `user#${n}` },
      sk: { N: String(n % 5) },
    };
    const keyId = `${n}`;
    keyOf.set(keyId, keys);
    const existing = model.get(keyId);
    let record: DynamoDBRecord;
    if (existing && rand() < 0.2) {
      record = events.record('REMOVE', keys, timeS, undefined, { oldImage: existing });
      model.apply(keyId, timeS, undefined);
    } else {
      const image = randomImage(rand, keys, i);
      record = events.record(existing ? 'MODIFY' : 'INSERT', keys, timeS, image);
      model.apply(keyId, timeS, image);
    }
    records.push(record);
  }
  return { records, model, keyOf, firstS: startS, lastS: timeS };
}

/** The workload's table as of T, keyed by object key like tableState. */
export function expectedAsOf(work: Workload, loc: BackupLocation, atMs: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const [keyId, json] of work.model.asOf(atMs))
    out.set(objectKeyFor(loc, work.keyOf.get(keyId) ?? {}), json);
  return out;
}
