import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../core/errors';
import { wholeNumber } from '../core/number-arg';
import { type BackupLocation, backupLocation } from '../core/object-key';
import { parseInstant } from '../core/time-arg';

/** Options every command takes to find a backup. */
export interface LocationOptions {
  table: string;
  bucket: string;
  prefix?: string;
}

export const locationOf = (o: LocationOptions): BackupLocation =>
  backupLocation(o.bucket, o.table, o.prefix ?? '');

/** `--at`: default now. */
export const instantOf = (flag: string, text: string | undefined, now = Date.now()): number =>
  text === undefined ? now : parseInstant(flag, text);

export const positiveInt = (
  flag: string,
  text: string | undefined,
  fallback: number,
  max = 1_000_000,
): number => wholeNumber(flag, text, { min: 1, max, fallback });

/** A flag that takes inline JSON or the path of a file holding it. */
export function jsonOrFile(text: string): string {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) return t;
  if (existsSync(t)) return readFileSync(t, 'utf8');
  throw new InputError(`Expected inline JSON or an existing file, got \`${text}\` (no such file)`);
}

/** The options that find one table's backup: --table, --bucket, --prefix. */
export function withBackupOptions(command: Command, table = 'the backed-up table'): Command {
  return command
    .requiredOption('--table <name>', table)
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '');
}
