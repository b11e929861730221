import type { Command } from 'commander';
import pc from 'picocolors';
import type { Colors } from 'picocolors/types';
import { askedInstants, assertAnswerable } from '../core/aws/backup-check';
import { BackupReader } from '../core/aws/backup-reader';
import { clientsFromEnv } from '../core/aws/clients';
import { type HistoryEntry, itemHistory } from '../core/aws/item-history';
import { requireManifest } from '../core/aws/manifest-store';
import { formatChange } from '../core/history-format';
import { parseKeys } from '../core/item-key';
import { horizonNote } from '../core/retention';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, withBackupOptions } from './options';

interface HistoryOptions extends LocationOptions {
  key: string;
  since?: string;
  until?: string;
  json?: boolean;
}

const CAUSE: Record<string, string> = { user: 'user write', ttl: 'TTL expiry', backfill: 'backfill' };

export function registerHistory(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program
      .command('history')
      .description("every change of one item, oldest first, with what changed: the item's audit log"),
  )
    .requiredOption('--key <json>', 'the item key: {"pk":"a","sk":1} or DynamoDB JSON')
    .option('--since <time>', 'only changes at or after this time (ISO-8601 with zone, or epoch ms)')
    .option('--until <time>', 'only changes at or before this time')
    .option('--json', 'print one JSON document')
    .action(async (o: HistoryOptions) => {
      const loc = locationOf(o);
      const { s3 } = clientsFromEnv();
      const [key] = parseKeys('--key', o.key, await requireManifest(s3, loc));
      const window = {
        ...(o.since ? { sinceMs: parseInstant('--since', o.since) } : {}),
        ...(o.until ? { untilMs: parseInstant('--until', o.until) } : {}),
      };
      const now = Date.now();
      const horizon = await assertAnswerable(s3, loc, undefined, askedInstants(window, now), now);
      const history = await itemHistory(new BackupReader(s3, loc), key ?? {}, {
        ...window,
        ...(horizon.kind === 'since' ? { horizonMs: horizon.fromMs } : {}),
      });
      if (o.json) {
        ctx.print(JSON.stringify(history, null, 2));
        return;
      }
      const color = ctx.isTty ? pc : pc.createColors(false);
      ctx.print(color.bold(`${history.objectKey}: ${history.entries.length} changes`));
      if (horizon.kind === 'since' && window.sinceMs === undefined)
        ctx.print(color.dim(horizonNote(horizon)));
      for (const e of history.entries) ctx.print(describe(e, color));
      if (history.duplicatesSkipped)
        ctx.print(color.dim(`(${history.duplicatesSkipped} redelivered copies shown once)`));
    });
}

function describe(e: HistoryEntry, color: Colors): string {
  const event =
    e.event === 'remove'
      ? color.red(e.event)
      : e.event === 'insert'
        ? color.green(e.event)
        : color.yellow(e.event);
  const head = `${e.time}  ${event.padEnd(8)}  ${CAUSE[e.cause] ?? e.cause}  ${color.dim(`version ${e.versionId}`)}`;
  return [head, ...e.changes.map((c) => `    ${formatChange(c)}`)].join('\n');
}
