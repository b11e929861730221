// Deletes test buckets (every version and marker, then the bucket), detached from the test run:
// radosgw deletes versions slowly (~350/s here), and a busy test file's clean-up took up to 30 s
// that the next file could have used. Usage: node reap-buckets.mjs <bucket>...; errors go to
// <os tmpdir>/ddb-rewind-reaper.log. Plain JS so starting it costs no compiler.
//
// A bucket of more than one listing page on the project's own stack is removed inside Ceph
// (`radosgw-admin bucket rm --purge-objects`): a bucket of 3,000 versions took 9.3 s and 8 s of
// CPU that way (servers and the admin tool) against 26.4 s and 22 s of server CPU through
// DeleteObjects, on the 2 cores the test files share. Below a page, the admin tool's own start
// (~3 s of CPU) costs more than it saves.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const log = (line) =>
  appendFileSync(join(tmpdir(), 'ddb-rewind-reaper.log'), `${new Date().toISOString()} ${line}\n`);

/** The stack's Ceph config, when the S3 endpoint in use is that stack's radosgw. */
function stackCephConf() {
  const stack =
    process.env.DDB_REWIND_STACK_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.stack');
  const conf = join(stack, 'ceph', 'ceph.conf');
  if (!existsSync(conf)) return undefined;
  const port = /endpoint=127\.0\.0\.1:(\d+)/.exec(readFileSync(conf, 'utf8'))?.[1];
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return port && endpoint && new URL(endpoint).port === port ? conf : undefined;
}

/** True when Ceph removed the bucket itself. */
function purgeInCeph(conf, bucket) {
  const args = [
    '-c',
    conf,
    '-n',
    'client.admin',
    'bucket',
    'rm',
    `--bucket=${bucket}`,
    '--purge-objects',
    '--bypass-gc',
  ];
  const out = spawnSync('radosgw-admin', args, { encoding: 'utf8', timeout: 600_000 });
  if (out.status === 0) return true;
  log(
    `${bucket}: radosgw-admin bucket rm: ${out.error ?? out.stderr.trim().split('\n').pop()}; deleting through S3`,
  );
  return false;
}

async function reap(bucket, conf) {
  const first = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  if (first.IsTruncated && conf && purgeInCeph(conf, bucket)) return;
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

const conf = stackCephConf();
for (const bucket of process.argv.slice(2)) {
  await reap(bucket, conf).catch((err) => log(`${bucket}: ${err}`));
}
