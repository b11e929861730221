import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { INDEX_FORMAT, indexMarkerKey } from '../../core/change-index';
import type { BackupLocation } from '../../core/object-key';

/** Says the backup's change index starts at `fromMs` (0: the backup is indexed from its start). */
export const setIndexStart = (s3: S3Client, loc: BackupLocation, fromMs: number) =>
  s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: indexMarkerKey(loc),
      Body: JSON.stringify({ format: INDEX_FORMAT, fromMs }),
    }),
  );

/** Runs `run` as if the backup had no change index (its marker removed), then puts it back. */
export async function withoutIndex<T>(s3: S3Client, loc: BackupLocation, run: () => Promise<T>): Promise<T> {
  await s3.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: indexMarkerKey(loc) }));
  try {
    return await run();
  } finally {
    await setIndexStart(s3, loc, 0);
  }
}
