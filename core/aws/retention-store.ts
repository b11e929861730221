import {
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConfigurationError } from '../errors';
import { type BackupLocation, itemsRoot } from '../object-key';
import { type RetentionHorizon, retentionHorizon } from '../retention';
import { DEFAULT_CLOCK_SKEW_MS } from '../select-version';

/** The bucket's lifecycle rules; none when it has no lifecycle configuration. */
export async function readLifecycleRules(s3: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    const out = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return out.Rules ?? [];
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NoSuchLifecycleConfiguration') return [];
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      // Answering without the rules could be silently wrong: refuse instead.
      throw new ConfigurationError(
        `Cannot read the lifecycle rules of bucket ${bucket} (access denied): grant s3:GetLifecycleConfiguration on it, so ddb-rewind can tell how far back the backup still reaches`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** How far back the backup at `loc` answers exactly, as of `nowMs` (see retentionHorizon). */
export async function readRetentionHorizon(
  s3: S3Client,
  loc: BackupLocation,
  nowMs: number,
  clockSkewMs = DEFAULT_CLOCK_SKEW_MS,
): Promise<RetentionHorizon> {
  return retentionHorizon(await readLifecycleRules(s3, loc.bucket), itemsRoot(loc), nowMs, clockSkewMs);
}
