import type { WireItem } from './ddb-json';
import type { ExportManifestSummary } from './export-manifest';
import type { ItemKey } from './object-key';

/**
 * DynamoDB's incremental export format (developer guide, "DynamoDB table export output format",
 * incremental export output), written by `export --since T1 --at T2`: the same folder layout as a
 * full export, data lines that say what each changed item became, and a summary saying so.
 *
 * One line per item changed in the window, compacted to its net change:
 *   {"Metadata":{"WriteTimestampMicros":{"N":"<its last change, µs>"}},"Keys":{...},
 *    "OldImage":{... as of T1, absent if it did not exist},
 *    "NewImage":{... as of T2, absent if it was deleted}}
 * An item inserted and deleted inside the window has no line (absent before and after).
 * The window is (T1, T2]: a full export as of T1 plus this gives the table as of T2, as DynamoDB
 * chains its own exports (its ExportFromTime is the full export's time).
 */
export const INCREMENTAL_MANIFEST_VERSION = '2023-08-01';

export interface IncrementalLine {
  Metadata: { WriteTimestampMicros: { N: string } };
  Keys: ItemKey;
  OldImage?: WireItem;
  NewImage?: WireItem;
}

/** The line of one changed item, or undefined when it is absent at both ends. */
export function incrementalLine(
  keys: ItemKey,
  lastChangeMs: number,
  oldImage: WireItem | undefined,
  newImage: WireItem | undefined,
): IncrementalLine | undefined {
  if (!oldImage && !newImage) return undefined;
  return {
    Metadata: { WriteTimestampMicros: { N: String(Math.round(lastChangeMs) * 1000) } },
    Keys: keys,
    ...(oldImage ? { OldImage: oldImage } : {}),
    ...(newImage ? { NewImage: newImage } : {}),
  };
}

/** An incremental export's manifest-summary.json, fields in the order DynamoDB writes them. */
export type IncrementalManifestSummary = Omit<
  ExportManifestSummary,
  'version' | 'exportTime' | 'exportType' | 'outputFormat'
> & {
  version: typeof INCREMENTAL_MANIFEST_VERSION;
  exportFromTime: string;
  exportToTime: string;
  outputFormat: 'DYNAMODB_JSON';
  outputView: 'NEW_AND_OLD_IMAGES';
  exportType: 'INCREMENTAL_EXPORT';
};

/** A full export's summary turned into the incremental one for the window (sinceMs, atMs]. */
export function incrementalSummary(full: ExportManifestSummary, sinceMs: number): IncrementalManifestSummary {
  return {
    version: INCREMENTAL_MANIFEST_VERSION,
    exportArn: full.exportArn,
    startTime: full.startTime,
    endTime: full.endTime,
    exportFromTime: new Date(sinceMs).toISOString(),
    exportToTime: full.exportTime,
    s3Bucket: full.s3Bucket,
    s3Prefix: full.s3Prefix,
    s3SseAlgorithm: full.s3SseAlgorithm,
    s3SseKmsKeyId: full.s3SseKmsKeyId,
    manifestFilesS3Key: full.manifestFilesS3Key,
    billedSizeBytes: full.billedSizeBytes,
    itemCount: full.itemCount,
    outputFormat: 'DYNAMODB_JSON',
    outputView: 'NEW_AND_OLD_IMAGES',
    exportType: 'INCREMENTAL_EXPORT',
  };
}
