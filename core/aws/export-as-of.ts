import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { writeWithBackpressure } from '../backpressure';
import { InputError } from '../errors';
import { type Log, silentLog } from '../log';
import type { BackupLocation } from '../object-key';
import type { Partition } from '../partition';
import { BackupReader } from './backup-reader';
import { gapWarnings } from './gap-store';
import { counted, type RequestSummary, requestSummary } from './request-tally';
import { checkRestore, type RestoreDeps } from './restore';

export interface ExportRequest {
  source: BackupLocation;
  atMs: number;
  /** A local file path, or s3://bucket/key. */
  out: string;
  partition?: Partition;
  /** @default 32 */
  concurrency?: number;
  clockSkewMs?: number;
  /** Read bodies from the table's best pack when it holds the chosen version. @default true */
  usePack?: boolean;
}

export interface ExportSummary extends RequestSummary {
  atMs: number;
  out: string;
  items: number;
  versionsScanned: number;
  durationMs: number;
  warnings: string[];
}

/** Where an export goes: a local file or an S3 object, written as one gzip stream. */
function openSink(s3: S3Client, out: string): { stream: Writable; done: Promise<unknown> } {
  const gzip = createGzip();
  const s3Uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(out);
  if (out.startsWith('s3://') && !s3Uri) {
    throw new InputError(`Expected \`--out\` to be a file path or s3://bucket/key, got \`${out}\``);
  }
  if (s3Uri) {
    const body = new PassThrough();
    gzip.pipe(body);
    const upload = new Upload({
      client: s3,
      params: { Bucket: s3Uri[1], Key: s3Uri[2], Body: body, ContentEncoding: 'gzip' },
    });
    return { stream: gzip, done: upload.done() };
  }
  const file = createWriteStream(out);
  gzip.pipe(file);
  return { stream: gzip, done: finished(file) };
}

/**
 * Writes the table as of T in DynamoDB's export format (gzipped JSON lines, `{"Item":{...}}` in
 * DynamoDB JSON), which DynamoDB's ImportTable reads (InputFormat DYNAMODB_JSON, GZIP), for very
 * large restores and for analytics. Streams: memory does not grow with the table.
 */
export async function exportAsOf(
  given: Omit<RestoreDeps, 'log'> & { log?: Log },
  req: ExportRequest,
): Promise<ExportSummary> {
  const started = Date.now();
  const deps = { ...given, log: given.log ?? silentLog };
  await checkRestore(deps, {
    source: req.source,
    atMs: req.atMs,
    targetTable: `${req.source.table}-export`,
    mode: 'upsert',
  });
  const warnings = await gapWarnings(deps.s3, req.source, req.atMs);
  if (!req.out.startsWith('s3://')) await mkdir(dirname(req.out), { recursive: true });
  const reader = new BackupReader(deps.s3, req.source, {
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    ...(req.clockSkewMs !== undefined ? { clockSkewMs: req.clockSkewMs } : {}),
    log: deps.log,
  });
  let items = 0;
  const sink = openSink(counted(deps.s3, reader.tally), req.out);
  const pack = req.usePack === false ? undefined : await reader.openPack(req.atMs);
  const stats = await reader.scan(
    { atMs: req.atMs, ...(req.partition ? { partition: req.partition } : {}), ...(pack ? { pack } : {}) },
    () => ({
      item: async (item) => {
        if (!item.image) return;
        items++;
        await writeWithBackpressure(sink.stream, `${JSON.stringify({ Item: item.image })}\n`);
      },
    }),
  );
  sink.stream.end();
  await sink.done;
  return {
    atMs: req.atMs,
    out: req.out,
    items,
    versionsScanned: stats.versions,
    ...requestSummary(reader.tally),
    durationMs: Date.now() - started,
    warnings,
  };
}
