import { createHash, randomBytes } from 'node:crypto';
import { InputError } from './errors';
import type { BackupLocation } from './object-key';

/**
 * DynamoDB's own export-to-S3 layout (developer guide, "DynamoDB table export output format"),
 * written by `export --out <folder>/`:
 *
 * ```
 * <folder>AWSDynamoDB/<export id>/_started              empty, written first
 * <folder>AWSDynamoDB/<export id>/data/<token>.json.gz  {"Item":{...}} lines, DynamoDB JSON
 * <folder>AWSDynamoDB/<export id>/manifest-files.json   one JSON line per data file
 * <folder>AWSDynamoDB/<export id>/manifest-files.md5
 * <folder>AWSDynamoDB/<export id>/manifest-summary.md5
 * <folder>AWSDynamoDB/<export id>/manifest-summary.json written last: the export is finished
 * ```
 *
 * The checksum files hold the base64 MD5 of their manifest (24 characters), named `.md5` as
 * DynamoDB's exports name them (the guide now calls them `.checksum`). One data file per hash
 * prefix that has items, named by a hash of the export id and the prefix, so a task run again
 * writes the same files. Pure: the writing is core/aws/jobs/export-job.ts.
 */
export const EXPORT_MANIFEST_VERSION = '2020-06-30';

/** Where `--out` sends an export. */
export type ExportDestination =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 's3-object'; bucket: string; key: string }
  /** A local folder: keys in the manifests are relative to it. */
  | { kind: 'dir'; path: string }
  /** `prefix` is '' or ends in '/'. */
  | { kind: 's3-folder'; bucket: string; prefix: string };

export type FolderDestination = Extract<ExportDestination, { kind: 'dir' | 's3-folder' }>;

/**
 * `-` (stdout), a file path, `s3://bucket/key`: one gzipped file. A path ending in `/`, or
 * `s3://bucket/prefix/` (or just `s3://bucket`): a folder in DynamoDB's export layout.
 */
export function exportDestination(out: string): ExportDestination {
  if (out === '-') return { kind: 'stdout' };
  if (out.startsWith('s3://')) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(out);
    if (!m?.[1] || (m[2] ?? '').startsWith('/')) {
      throw new InputError(
        `Expected \`--out\` to be s3://bucket/key.json.gz or a folder s3://bucket/prefix/, got \`${out}\``,
      );
    }
    const rest = m[2] ?? '';
    return rest === '' || rest.endsWith('/')
      ? { kind: 's3-folder', bucket: m[1], prefix: rest }
      : { kind: 's3-object', bucket: m[1], key: rest };
  }
  if (out === '') throw new InputError('Expected `--out` to be a file, a folder ending in /, or -');
  return out.endsWith('/') ? { kind: 'dir', path: out } : { kind: 'file', path: out };
}

export const isFolder = (d: ExportDestination): d is FolderDestination =>
  d.kind === 'dir' || d.kind === 's3-folder';

/** DynamoDB's export id shape: 14 digits of epoch ms, a dash, 8 hex digits. */
export const newExportId = (nowMs: number): string =>
  `${String(nowMs).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;

export const EXPORT_ID = /^\d{14}-[0-9a-f]{8}$/;

/** `<prefix>AWSDynamoDB/<export id>/`: a bucket key (S3) or a path inside the folder (local). */
export const exportRoot = (dest: FolderDestination, exportId: string): string =>
  `${dest.kind === 's3-folder' ? dest.prefix : ''}AWSDynamoDB/${exportId}/`;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 26 lowercase base32 characters (130 bits) of SHA-256, the shape of DynamoDB's file names. */
function token(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  let bits = '';
  for (const byte of digest.subarray(0, 17)) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < 26; i++) out += BASE32[Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)];
  return out;
}

/**
 * The data file of one hash prefix (or of a cut of it, named by where its listing starts): the
 * same name every time a task writes it. `.json.gz`, or `.parquet` for a Parquet export.
 */
export const dataFileKey = (
  dest: FolderDestination,
  exportId: string,
  at: { hh: string; after?: string | undefined; extension?: string },
): string =>
  `${exportRoot(dest, exportId)}data/${token(at.after === undefined ? `${exportId}/${at.hh}` : `${exportId}/${at.hh}/${at.after}`)}${at.extension ?? '.json.gz'}`;

/** One line of manifest-files.json, in the documented field order. */
export interface DataFileEntry {
  itemCount: number;
  /** Base64 MD5 of the file's bytes (the gzip stream). */
  md5Checksum: string;
  /** The S3 ETag without quotes; for a local folder, the hex MD5 (a single PUT's ETag). */
  etag: string;
  dataFileS3Key: string;
}

export const md5Base64 = (data: string | Uint8Array): string =>
  createHash('md5').update(data).digest('base64');

/** manifest-files.json: JSON lines, one per data file, in key order. */
export function manifestFilesText(files: readonly DataFileEntry[]): string {
  return [...files]
    .sort((a, b) => (a.dataFileS3Key < b.dataFileS3Key ? -1 : a.dataFileS3Key > b.dataFileS3Key ? 1 : 0))
    .map((f) =>
      JSON.stringify({
        itemCount: f.itemCount,
        md5Checksum: f.md5Checksum,
        etag: f.etag,
        dataFileS3Key: f.dataFileS3Key,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** manifest-summary.json, fields in the documented order. */
export interface ExportManifestSummary {
  version: typeof EXPORT_MANIFEST_VERSION;
  /** Not an AWS ARN: `arn:ddb-rewind:s3:::<backup bucket>/<prefix><table>/export/<export id>`. */
  exportArn: string;
  startTime: string;
  endTime: string;
  /** As of when: the T of the export. */
  exportTime: string;
  /** null for a local folder. */
  s3Bucket: string | null;
  /** The folder's prefix without its trailing '/'; null when none (or a local folder). */
  s3Prefix: string | null;
  /** What S3 reported encrypting the manifest with (AES256, KMS), or null when it said nothing. */
  s3SseAlgorithm: 'AES256' | 'KMS' | null;
  s3SseKmsKeyId: string | null;
  manifestFilesS3Key: string;
  /** 0: no DynamoDB export was billed (the backup in S3 was read, not the table). */
  billedSizeBytes: number;
  itemCount: number;
  /** PARQUET is ddb-rewind's own: DynamoDB exports DYNAMODB_JSON or ION, and ImportTable reads no Parquet. */
  outputFormat: 'DYNAMODB_JSON' | 'PARQUET';
  exportType: 'FULL_EXPORT';
}

/** An id that says where the export came from, in an ARN's shape but never taken for AWS's. */
export const exportArnOf = (source: BackupLocation, exportId: string): string =>
  `arn:ddb-rewind:s3:::${source.bucket}/${source.prefix}${source.table}/export/${exportId}`;

/** S3's ServerSideEncryption header as DynamoDB's summary names it. */
export function sseAlgorithmOf(sse: string | undefined): 'AES256' | 'KMS' | null {
  if (sse === 'AES256') return 'AES256';
  if (sse?.startsWith('aws:kms')) return 'KMS';
  return null;
}

export function manifestSummary(input: {
  source: BackupLocation;
  dest: FolderDestination;
  exportId: string;
  startMs: number;
  endMs: number;
  atMs: number;
  itemCount: number;
  outputFormat?: 'DYNAMODB_JSON' | 'PARQUET';
  sse?: { algorithm?: string | undefined; kmsKeyId?: string | undefined };
}): ExportManifestSummary {
  const { dest, exportId } = input;
  const s3 = dest.kind === 's3-folder';
  const algorithm = sseAlgorithmOf(input.sse?.algorithm);
  return {
    version: EXPORT_MANIFEST_VERSION,
    exportArn: exportArnOf(input.source, exportId),
    startTime: new Date(input.startMs).toISOString(),
    endTime: new Date(input.endMs).toISOString(),
    exportTime: new Date(input.atMs).toISOString(),
    s3Bucket: s3 ? dest.bucket : null,
    s3Prefix: s3 && dest.prefix ? dest.prefix.replace(/\/$/, '') : null,
    s3SseAlgorithm: algorithm,
    s3SseKmsKeyId: algorithm === 'KMS' ? (input.sse?.kmsKeyId ?? null) : null,
    manifestFilesS3Key: `${exportRoot(dest, exportId)}manifest-files.json`,
    billedSizeBytes: 0,
    itemCount: input.itemCount,
    outputFormat: input.outputFormat ?? 'DYNAMODB_JSON',
    exportType: 'FULL_EXPORT',
  };
}
