import { createHash } from 'node:crypto';
import {
  dataFileKey,
  EXPORT_ID,
  exportDestination,
  exportRoot,
  manifestFilesText,
  manifestSummary,
  md5Base64,
  newExportId,
  sseAlgorithmOf,
} from '../../core/export-manifest';
import { backupLocation } from '../../core/object-key';

// DynamoDB's export layout as its developer guide documents it ("DynamoDB table export output
// format"): the summary's fields in the guide's order (tableArn and tableId left out: a backup
// does not know them), manifest-files as JSON lines of itemCount, md5Checksum, etag, dataFileS3Key.
const DOCUMENTED_SUMMARY_FIELDS = [
  'version',
  'exportArn',
  'startTime',
  'endTime',
  'exportTime',
  's3Bucket',
  's3Prefix',
  's3SseAlgorithm',
  's3SseKmsKeyId',
  'manifestFilesS3Key',
  'billedSizeBytes',
  'itemCount',
  'outputFormat',
  'exportType',
];

const source = backupLocation('backups', 'orders', 'team/');

describe('export destinations', () => {
  it('tells one file from a folder in the export layout', () => {
    expect(exportDestination('-')).toEqual({ kind: 'stdout' });
    expect(exportDestination('out/orders.json.gz')).toEqual({ kind: 'file', path: 'out/orders.json.gz' });
    expect(exportDestination('out/')).toEqual({ kind: 'dir', path: 'out/' });
    expect(exportDestination('s3://b-1/k/orders.json.gz')).toEqual({
      kind: 's3-object',
      bucket: 'b-1',
      key: 'k/orders.json.gz',
    });
    expect(exportDestination('s3://b-1/exports/')).toEqual({
      kind: 's3-folder',
      bucket: 'b-1',
      prefix: 'exports/',
    });
    expect(exportDestination('s3://b-1/')).toEqual({ kind: 's3-folder', bucket: 'b-1', prefix: '' });
    expect(exportDestination('s3://b-1')).toEqual({ kind: 's3-folder', bucket: 'b-1', prefix: '' });
  });

  it('refuses what is neither, in one line', () => {
    for (const bad of ['s3://', 's3://B_ad/x', 's3://bucket//x', ''])
      expect(() => exportDestination(bad)).toThrow(/^Expected `--out` to be/);
  });
});

describe('export ids and keys', () => {
  it("have DynamoDB's shapes: <14 digits>-<8 hex>, data/<26 base32>.json.gz", () => {
    const id = newExportId(1_700_000_000_123);
    expect(id).toMatch(EXPORT_ID);
    expect(id.startsWith('01700000000123-')).toBe(true);
    const dest = { kind: 's3-folder', bucket: 'b-1', prefix: 'exports/' } as const;
    expect(exportRoot(dest, id)).toBe(`exports/AWSDynamoDB/${id}/`);
    expect(dataFileKey(dest, id, { hh: '0a' })).toMatch(
      new RegExp(`^exports/AWSDynamoDB/${id}/data/[a-z2-7]{26}\\.json\\.gz$`),
    );
    // A local folder's keys are relative to it.
    expect(exportRoot({ kind: 'dir', path: '/tmp/x/' }, id)).toBe(`AWSDynamoDB/${id}/`);
  });

  it('name one prefix the same way every time, and different prefixes apart', () => {
    const dest = { kind: 'dir', path: 'x/' } as const;
    const id = '01700000000123-0a1b2c3d';
    expect(dataFileKey(dest, id, { hh: '0a' })).toBe(dataFileKey(dest, id, { hh: '0a' }));
    const names = new Set(['00', '01', 'fe', 'ff'].map((hh) => dataFileKey(dest, id, { hh })));
    expect(names.size).toBe(4);
    // A cut of a prefix is named by where its listing starts; a Parquet file by its extension.
    expect(dataFileKey(dest, id, { hh: '0a', after: 't/v1/0a/pk=S.k1' })).not.toBe(
      dataFileKey(dest, id, { hh: '0a' }),
    );
    expect(dataFileKey(dest, id, { hh: '0a', extension: '.parquet' })).toMatch(
      /data\/[a-z2-7]{26}\.parquet$/,
    );
  });
});

describe('manifests', () => {
  it('manifest-files.json is JSON lines with the documented fields, in key order', () => {
    const text = manifestFilesText([
      { itemCount: 2, md5Checksum: 'b', etag: 'e2', dataFileS3Key: 'AWSDynamoDB/x/data/b.json.gz' },
      { itemCount: 8, md5Checksum: 'a', etag: 'e1-1', dataFileS3Key: 'AWSDynamoDB/x/data/a.json.gz' },
    ]);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toEqual({
      itemCount: 8,
      md5Checksum: 'a',
      etag: 'e1-1',
      dataFileS3Key: 'AWSDynamoDB/x/data/a.json.gz',
    });
    expect(Object.keys(JSON.parse(lines[1] as string))).toEqual([
      'itemCount',
      'md5Checksum',
      'etag',
      'dataFileS3Key',
    ]);
    expect(manifestFilesText([])).toBe('');
  });

  it('manifest-summary.json has the documented fields, in order, exportTime = T', () => {
    const id = '01700000000123-0a1b2c3d';
    const summary = manifestSummary({
      source,
      dest: { kind: 's3-folder', bucket: 'exports-bucket', prefix: '2026/nov/' },
      exportId: id,
      startMs: Date.parse('2026-11-04T07:28:34.028Z'),
      endMs: Date.parse('2026-11-04T07:33:43.897Z'),
      atMs: Date.parse('2026-11-01T00:00:00.000Z'),
      itemCount: 8,
      sse: { algorithm: 'AES256' },
    });
    expect(Object.keys(summary)).toEqual(DOCUMENTED_SUMMARY_FIELDS);
    expect(summary).toEqual({
      version: '2020-06-30',
      exportArn: `arn:ddb-rewind:s3:::backups/team/orders/export/${id}`,
      startTime: '2026-11-04T07:28:34.028Z',
      endTime: '2026-11-04T07:33:43.897Z',
      exportTime: '2026-11-01T00:00:00.000Z',
      s3Bucket: 'exports-bucket',
      s3Prefix: '2026/nov',
      s3SseAlgorithm: 'AES256',
      s3SseKmsKeyId: null,
      manifestFilesS3Key: `2026/nov/AWSDynamoDB/${id}/manifest-files.json`,
      billedSizeBytes: 0,
      itemCount: 8,
      outputFormat: 'DYNAMODB_JSON',
      exportType: 'FULL_EXPORT',
    });
  });

  it('a local folder has no bucket or prefix, and keys relative to the folder', () => {
    const summary = manifestSummary({
      source,
      dest: { kind: 'dir', path: '/tmp/exports/' },
      exportId: '01700000000123-0a1b2c3d',
      startMs: 0,
      endMs: 1,
      atMs: 0,
      itemCount: 0,
    });
    expect(summary).toMatchObject({
      s3Bucket: null,
      s3Prefix: null,
      s3SseAlgorithm: null,
      s3SseKmsKeyId: null,
      manifestFilesS3Key: 'AWSDynamoDB/01700000000123-0a1b2c3d/manifest-files.json',
    });
  });

  it('names encryption as DynamoDB does, and checksums are base64 MD5 (24 characters)', () => {
    expect(sseAlgorithmOf('AES256')).toBe('AES256');
    expect(sseAlgorithmOf('aws:kms')).toBe('KMS');
    expect(sseAlgorithmOf('aws:kms:dsse')).toBe('KMS');
    expect(sseAlgorithmOf(undefined)).toBeNull();
    const kms = manifestSummary({
      source,
      dest: { kind: 's3-folder', bucket: 'b-1', prefix: '' },
      exportId: '01700000000123-0a1b2c3d',
      startMs: 0,
      endMs: 0,
      atMs: 0,
      itemCount: 0,
      sse: { algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k' },
    });
    expect(kms).toMatchObject({
      s3Prefix: null,
      s3SseAlgorithm: 'KMS',
      s3SseKmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k',
    });
    expect(md5Base64('abc')).toBe(createHash('md5').update('abc').digest('base64'));
    expect(md5Base64('abc')).toHaveLength(24);
  });
});
