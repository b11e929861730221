import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AnyBucket } from './cdk-types';
import { backupBucketProps } from './defaults';

/** Noncurrent versions move to a cheaper storage class after some days. */
export interface NoncurrentVersionTransition {
  /**
   * A class the restore can read directly: INFREQUENT_ACCESS, ONE_ZONE_INFREQUENT_ACCESS,
   * GLACIER_INSTANT_RETRIEVAL or INTELLIGENT_TIERING (GLACIER and DEEP_ARCHIVE are refused).
   */
  readonly storageClass: s3.StorageClass;
  /** Days after a version became noncurrent. */
  readonly afterDays: number;
}

/** S3 Object Lock default retention for every version written. */
export interface BackupObjectLock {
  /** GOVERNANCE: users with s3:BypassGovernanceRetention may still delete. COMPLIANCE: nobody can. */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Days each version is locked after it is written. */
  readonly days: number;
}

/** How the backup bucket is built. Applies only to a bucket this construct creates. */
export interface BackupBucketProps {
  /**
   * Server-side encryption: S3-managed keys, or a KMS key (`encryptionKey`, or one created here
   * with rotation on). A given `encryptionKey` implies 'KMS'.
   * @default 'S3_MANAGED', or 'KMS' when `encryptionKey` is given
   */
  readonly encryption?: 'S3_MANAGED' | 'KMS';
  /**
   * The KMS key for SSE-KMS. With an existing `bucket`, the key that bucket uses (for grants).
   * @default - with encryption 'KMS', a new key with rotation, retained on stack deletion
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Days a version is kept after it stops being current (a later change or a delete). Restores
   * and history cannot reach further back than this.
   * @default - versions are kept forever
   */
  readonly noncurrentVersionRetentionDays?: number;
  /**
   * Moves noncurrent versions to a colder storage class. S3 does not transition objects under
   * 128 KiB by default, and most item versions are smaller, so this saves little for small items.
   * @default - no transition
   */
  readonly noncurrentVersionTransition?: NoncurrentVersionTransition;
  /**
   * S3 Object Lock with a default retention, so versions cannot be deleted early (ransomware,
   * mistakes). Only on a new bucket: it cannot be switched off later.
   * @default - no Object Lock
   */
  readonly objectLock?: BackupObjectLock;
  /**
   * A separate bucket that receives the backup bucket's server access logs.
   * @default - no server access logs (CloudTrail data events are the alternative)
   */
  readonly serverAccessLogsBucket?: AnyBucket;
  /**
   * Key prefix of the access logs in `serverAccessLogsBucket`.
   * @default 'ddb-rewind/'
   */
  readonly serverAccessLogsPrefix?: string;
}

/**
 * The versioned, private, TLS-only, retained bucket that holds every table's backup, each under
 * `<prefix><table>/`. One bucket can serve many TableBackup constructs.
 *
 * @example
 * const backups = new BackupBucket(stack, 'Backups', { noncurrentVersionRetentionDays: 400 });
 * new TableBackup(stack, 'Orders', { table: 'orders', bucket: backups.bucket });
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;
  /** The SSE-KMS key, when the bucket uses one. */
  readonly encryptionKey: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: BackupBucketProps = {}) {
    super(scope, id);
    const kmsWanted = props.encryption === 'KMS' || props.encryptionKey !== undefined;
    this.encryptionKey = kmsWanted
      ? (props.encryptionKey ??
        new kms.Key(this, 'Key', {
          description: 'ddb-rewind backup bucket encryption',
          enableKeyRotation: true,
          // Every backup version is encrypted with it: losing the key loses the backup.
          removalPolicy: RemovalPolicy.RETAIN,
        }))
      : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', backupBucketProps(props, this.encryptionKey));
  }
}
