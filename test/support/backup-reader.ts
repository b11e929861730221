import type { S3Client } from '@aws-sdk/client-s3';
import { listVersionsOfKey, readVersion } from '../../core/aws/version-store';
import type { ChangeMeta } from '../../core/change-record';
import type { ListedVersion } from '../../core/select-version';

/** Every version of one object, oldest first, with body and metadata: what a test inspects. */
export async function versionsOf(
  s3: S3Client,
  bucket: string,
  objectKey: string,
): Promise<Array<ListedVersion & { body?: string; meta?: ChangeMeta }>> {
  const listed = (await listVersionsOfKey(s3, bucket, objectKey)).reverse();
  const out: Array<ListedVersion & { body?: string; meta?: ChangeMeta }> = [];
  for (const v of listed) {
    if (v.isDeleteMarker) out.push(v);
    else {
      const { body, meta } = await readVersion(s3, bucket, objectKey, v.versionId);
      out.push({ ...v, body, ...(meta ? { meta } : {}) });
    }
  }
  return out;
}
