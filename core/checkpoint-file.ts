import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** Per-shard progress of the local stream runner: the last sequence number fully written. */
export interface StreamCheckpoint {
  streamArn: string;
  shards: Record<string, { lastSequenceNumber?: string; closed?: boolean }>;
}

export async function loadCheckpoint(file: string): Promise<StreamCheckpoint | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StreamCheckpoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Atomic and fsynced: after kill -9 the file holds the old or the new checkpoint, never half. */
export async function saveCheckpoint(file: string, checkpoint: StreamCheckpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(checkpoint, null, 2), { fsync: true });
}
