// Deletes test buckets (every version and marker, then the bucket), detached from the test run:
// radosgw deletes versions slowly (~350/s here), and a busy test file's clean-up took up to 30 s
// that the next file could have used. Usage: node reap-buckets.mjs <bucket>...; errors go to
// <os tmpdir>/ddb-rewind-reaper.log. Plain JS so starting it costs no compiler.
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';

const s3 = new S3Client({
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

async function reap(bucket) {
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key,
      VersionId: v.VersionId,
    }));
    if (objects.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

for (const bucket of process.argv.slice(2)) {
  await reap(bucket).catch((err) =>
    appendFileSync(
      join(tmpdir(), 'ddb-rewind-reaper.log'),
      `${new Date().toISOString()} ${bucket}: ${err}\n`,
    ),
  );
}
