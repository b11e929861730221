import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { JobKind } from '../core/job-model';
import type { BackupFolders } from './defaults';

/** What a job function's grants are scoped to. */
export interface JobGrantScope {
  readonly bucket: s3.IBucket;
  readonly folders: BackupFolders;
  readonly encryptionKey: kms.IKey | undefined;
  /** `kms:ViaService` = S3 in the stack's region. */
  readonly viaS3: Record<string, unknown>;
  /** The source table's ARN. */
  readonly sourceTableArn: string;
  /** Tables a restore may write. */
  readonly targetTableArns: string[];
  /** `undoInPlace`: the restore function may also make the undo's guarded writes to the source. */
  readonly undoInPlace?: boolean;
  /** Objects an export may write, and the key of the bucket they are in (when not the backup's). */
  readonly exportTo: { readonly objectsArn: string; readonly encryptionKey?: kms.IKey | undefined };
  /** With `exportTables`: the Glue catalog, database and tables ARNs exports are registered in. */
  readonly exportCatalogArns?: string[];
}

/**
 * Every job function's role, per kind: exactly the calls its job makes (core/aws/jobs/*, through
 * the one backup reader). What they share:
 * - readers (restore, pack, export, verify) list and read `<prefix><table>/`, and read the
 *   bucket's lifecycle rules (the retention horizon, core/retention.ts);
 * - every job keeps its run's scratch under `<prefix><table>/_jobs/` (write and delete);
 * - every job reads and writes through S3 with the bucket's KMS key, when it has one.
 */
export function jobStatements(kind: JobKind, scope: JobGrantScope): iam.PolicyStatement[] {
  const base = [...readBackup(scope, kind !== 'backfill'), jobScratch(scope), ...bucketKey(scope)];
  switch (kind) {
    case 'restore':
    // The undo job runs on the restore function (its role, its targets).
    case 'undo':
      return [...base, ...restoreTargets(scope)];
    case 'pack':
      return [...base, allow('WritePacks', ['s3:PutObject'], [objects(scope, scope.folders.packsRoot)])];
    case 'export':
      return [...base, ...exportDestination(scope)];
    case 'verify':
      return [...base, ...verifySource(scope)];
    case 'backfill':
      return [...base, ...backfillWrites(scope)];
  }
}

const allow = (
  sid: string,
  actions: string[],
  resources: string[],
  conditions?: Record<string, unknown>,
): iam.PolicyStatement =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });

const objects = (scope: JobGrantScope, folder: string): string => scope.bucket.arnForObjects(`${folder}*`);

function readBackup(scope: JobGrantScope, retention: boolean): iam.PolicyStatement[] {
  const root = scope.folders.tableRoot;
  return [
    allow('ListBackup', ['s3:ListBucket', 's3:ListBucketVersions'], [scope.bucket.bucketArn], {
      StringLike: { 's3:prefix': [`${root}*`] },
    }),
    allow('ReadBackup', ['s3:GetObject', 's3:GetObjectVersion'], [objects(scope, root)]),
    // Readers refuse instants whose versions a lifecycle rule may have deleted (core/retention.ts).
    ...(retention
      ? [allow('ReadRetentionRules', ['s3:GetLifecycleConfiguration'], [scope.bucket.bucketArn])]
      : []),
  ];
}

// Results, spills and checkpoints of a run; `finish` deletes what it no longer needs.
const jobScratch = (scope: JobGrantScope): iam.PolicyStatement =>
  allow('JobScratch', ['s3:PutObject', 's3:DeleteObject'], [objects(scope, scope.folders.jobsRoot)]);

/**
 * The job state machine's own S3 reads: its Distributed Maps' item readers read the plan's task
 * lists (`<prefix><table>/_jobs/<jobId>/tasks/<step>.json`, core/aws/task-lists.ts). Only the run
 * folders, not the bucket; the key decrypts them only through S3.
 */
export function taskListReads(
  scope: Pick<JobGrantScope, 'bucket' | 'folders' | 'encryptionKey' | 'viaS3'>,
): iam.PolicyStatement[] {
  return [
    allow('ReadTaskLists', ['s3:GetObject'], [scope.bucket.arnForObjects(`${scope.folders.jobsRoot}*`)]),
    ...(scope.encryptionKey
      ? [allow('DecryptTaskLists', ['kms:Decrypt'], [scope.encryptionKey.keyArn], scope.viaS3)]
      : []),
  ];
}

const bucketKey = (scope: JobGrantScope): iam.PolicyStatement[] =>
  scope.encryptionKey
    ? [
        allow(
          'UseBucketKey',
          ['kms:Decrypt', 'kms:GenerateDataKey'],
          [scope.encryptionKey.keyArn],
          scope.viaS3,
        ),
      ]
    : [];

/**
 * What the restore does to a target table (core/aws/restore.ts, target-table.ts, target-spill.ts),
 * and the undo's guarded writes (core/aws/undo.ts: UpdateItem, DeleteItem, PutItem).
 */
export const RESTORE_TABLE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:UpdateItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:DescribeTable',
  'dynamodb:Scan',
  'dynamodb:CreateTable',
  'dynamodb:UpdateTimeToLive',
];

/** The undo's calls on the source table in place: one item at a time, each conditional. */
export const UNDO_IN_PLACE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:DescribeTable',
];

const restoreTargets = (scope: JobGrantScope): iam.PolicyStatement[] => [
  allow('WriteTargetTables', RESTORE_TABLE_ACTIONS, scope.targetTableArns),
  ...(scope.undoInPlace ? [allow('UndoInPlace', UNDO_IN_PLACE_ACTIONS, [scope.sourceTableArn])] : []),
  // Belt and braces: no target pattern can ever open the source table (beyond the undo's
  // item writes, with undoInPlace).
  new iam.PolicyStatement({
    sid: 'NeverTheSource',
    effect: iam.Effect.DENY,
    actions: scope.undoInPlace
      ? RESTORE_TABLE_ACTIONS.filter((a) => !UNDO_IN_PLACE_ACTIONS.includes(a))
      : RESTORE_TABLE_ACTIONS,
    resources: [scope.sourceTableArn],
  }),
];

function exportDestination(scope: JobGrantScope): iam.PolicyStatement[] {
  const key = scope.exportTo.encryptionKey;
  return [
    // Large files go up in parts (lib-storage): a failed upload aborts its parts.
    allow('WriteExport', ['s3:PutObject', 's3:AbortMultipartUpload'], [scope.exportTo.objectsArn]),
    // Another bucket's key: a multipart upload under SSE-KMS needs Decrypt as well.
    ...(key
      ? [allow('UseExportBucketKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [key.keyArn], scope.viaS3)]
      : []),
    // Registers each finished export as a table (and moves `<table>_latest`): nothing else in Glue.
    ...(scope.exportCatalogArns
      ? [
          allow(
            'RegisterExports',
            ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
            scope.exportCatalogArns,
          ),
        ]
      : []),
  ];
}

const verifySource = (scope: JobGrantScope): iam.PolicyStatement[] => [
  // The live table is scanned once into spill files, and drift re-read item by item.
  allow(
    'ReadSourceTable',
    ['dynamodb:Scan', 'dynamodb:DescribeTable', 'dynamodb:GetItem'],
    [scope.sourceTableArn],
  ),
  // VerifyDrift goes out as an EMF log line (Powertools Metrics): no cloudwatch:PutMetricData.
];

/** core/aws/backfill.ts: scan the source, PUT each item, and put S3's order right after races. */
function backfillWrites(scope: JobGrantScope): iam.PolicyStatement[] {
  const { folders } = scope;
  return [
    allow(
      'ScanSourceTable',
      ['dynamodb:Scan', 'dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'],
      [scope.sourceTableArn],
    ),
    allow('CheckVersioning', ['s3:GetBucketVersioning'], [scope.bucket.bucketArn]),
    // Backfill versions and the copies moved back on top (v1/), table.json, backfill.json and
    // change-index.json (_meta/), each page's change index entries (_changes/).
    allow(
      'WriteBackfill',
      ['s3:PutObject'],
      [
        objects(scope, folders.itemsRoot),
        objects(scope, folders.metaRoot),
        objects(scope, folders.changesRoot),
      ],
    ),
    // A misplaced streamed version is removed once its copy is on top (and a copied delete re-marked).
    allow(
      'RepairVersionOrder',
      ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      [objects(scope, folders.itemsRoot)],
    ),
  ];
}
