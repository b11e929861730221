import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable, Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { writeWithBackpressure } from '../backpressure';
import type { ExportDestination, FolderDestination } from '../export-manifest';

/**
 * Where an export's bytes go: a local file, an S3 object (streamed up in parts), or stdout.
 * Every file is one gzip stream whose MD5 is taken on the way, for the export's manifest.
 */
export type FileTarget =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | {
      kind: 's3';
      bucket: string;
      key: string;
      /** The single-file form keeps the Content-Encoding it always had. */
      contentEncoding?: 'gzip';
      /** Parts uploading at once. @default 1: a task writes up to 16 data files at once */
      partsInFlight?: number;
      /** @default application/gzip */
      contentType?: string;
    };

/** What a written file's manifest line needs. */
export interface WrittenFile {
  md5Base64: string;
  /** S3's ETag without quotes; for a local file, its hex MD5 (a single PUT's ETag). */
  etag: string;
}

export interface GzipSink {
  /** One line; waits while the stream's buffer is full. */
  write(line: string): Promise<void>;
  close(): Promise<WrittenFile>;
  /** Gives up: an S3 upload's parts are aborted. */
  abort(): Promise<void>;
}

/** A folder destination's key as a FileTarget (keys of a local folder are paths inside it). */
export const folderTarget = (dest: FolderDestination, key: string): FileTarget =>
  dest.kind === 's3-folder'
    ? { kind: 's3', bucket: dest.bucket, key }
    : { kind: 'file', path: join(dest.path, key) };

/** A single-file destination as a FileTarget. */
export function singleTarget(dest: Exclude<ExportDestination, FolderDestination>): FileTarget {
  if (dest.kind === 's3-object')
    return { kind: 's3', bucket: dest.bucket, key: dest.key, contentEncoding: 'gzip', partsInFlight: 4 };
  return dest;
}

/** Opens one gzip stream to `target`; `s3` uploads (a counted client counts its requests). */
export function openGzipSink(s3: S3Client, target: FileTarget): GzipSink {
  const gzip = createGzip();
  const out = openRawSink(s3, target, gzip);
  return {
    write: (line) => writeWithBackpressure(gzip, line),
    close: async () => {
      gzip.end();
      return out.done();
    },
    abort: async () => {
      gzip.destroy();
      await out.abort();
    },
  };
}

/**
 * Sends what `source` carries to `target` as it is (a gzip stream, a Parquet file), its MD5 taken
 * on the way; `done` once `source` ended and the file or object is complete.
 */
export function openRawSink(
  s3: S3Client,
  target: FileTarget,
  source: Readable,
): { done: () => Promise<WrittenFile>; abort: () => Promise<void> } {
  const md5 = createHash('md5');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk);
      done(null, chunk);
    },
  });
  source.pipe(tap);
  const out = sendTo(s3, target, tap);
  // A failed upload or file stops reading: fail the writers instead of leaving them waiting.
  out.done.catch((err: unknown) => source.destroy(err as Error));
  return {
    done: async () => {
      const reported = await out.done;
      const hex = md5.digest('hex');
      return { md5Base64: Buffer.from(hex, 'hex').toString('base64'), etag: reported?.etag ?? hex };
    },
    abort: () => out.abort(),
  };
}

/** What S3 reported storing: the ETag, and the encryption (ServerSideEncryption, KMS key). */
export interface Reported {
  etag?: string;
  sse?: { algorithm: string; kmsKeyId?: string };
}

function sendTo(
  s3: S3Client,
  target: FileTarget,
  body: Transform,
): { done: Promise<Reported | undefined>; abort: () => Promise<void> } {
  if (target.kind === 'stdout') {
    body.pipe(process.stdout, { end: false });
    return { done: finished(body).then(() => undefined), abort: async () => {} };
  }
  if (target.kind === 'file') {
    const file: Writable = createWriteStream(target.path);
    body.pipe(file);
    return { done: finished(file).then(() => undefined), abort: async () => void file.destroy() };
  }
  const upload = new Upload({
    client: s3,
    queueSize: target.partsInFlight ?? 1,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ...(target.contentEncoding
        ? { ContentEncoding: target.contentEncoding }
        : { ContentType: target.contentType ?? 'application/gzip' }),
    },
  });
  const done = upload.done().then((r) => reportedOf(r as S3Reply));
  return { done, abort: () => upload.abort().catch(() => undefined) };
}

/** What a PutObject or a finished multipart upload says about the object. */
interface S3Reply {
  ETag?: string | undefined;
  ServerSideEncryption?: string | undefined;
  SSEKMSKeyId?: string | undefined;
}

const reportedOf = (r: S3Reply): Reported => ({
  ...(r.ETag ? { etag: r.ETag.replaceAll('"', '') } : {}),
  ...(r.ServerSideEncryption
    ? { sse: { algorithm: r.ServerSideEncryption, ...(r.SSEKMSKeyId ? { kmsKeyId: r.SSEKMSKeyId } : {}) } }
    : {}),
});

/** Writes a small object whole (a manifest, `_started`); returns what S3 reported. */
export async function putWhole(s3: S3Client, target: FileTarget, body: string): Promise<Reported> {
  if (target.kind === 'stdout') throw new Error('putWhole needs a file or an S3 object');
  if (target.kind === 'file') {
    await mkdir(dirname(target.path), { recursive: true });
    await writeFile(target.path, body);
    return {};
  }
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      // A Buffer: the SDK takes an empty string (`_started`) for a stream of unknown length.
      Body: Buffer.from(body),
      ContentType: target.key.endsWith('.json') ? 'application/json' : 'text/plain',
    }),
  );
  return reportedOf(out);
}
