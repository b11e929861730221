import { createHash } from 'node:crypto';
import { canonicalItemJson, type WireItem } from '../ddb-json';
import type { ItemKey } from '../object-key';

/** A target item as the restore compares it: its key and a hash of its whole image. */
export interface TargetEntry {
  imageHash: string;
  key: ItemKey;
}

export const imageHash = (image: WireItem): string =>
  createHash('sha256').update(canonicalItemJson(image)).digest('base64url');

/** The target's items of one hash prefix at a time, however they were read. */
export interface TargetView {
  /** The target items of one hash prefix, by object key. */
  load(hashPrefix: string): Promise<Map<string, TargetEntry>>;
  dispose(): Promise<void>;
}
