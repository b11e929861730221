import type { Command } from 'commander';
import { askedInstants, assertAnswerable } from '../core/aws/backup-check';
import { changesIn } from '../core/aws/changes';
import { clientsFromEnv } from '../core/aws/clients';
import { requireManifest } from '../core/aws/manifest-store';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import { instantOf, type LocationOptions, locationOf, positiveInt, withBackupOptions } from './options';

interface ChangesOptions extends LocationOptions {
  since: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

export function registerChanges(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program
      .command('changes')
      .description('which items changed in a window, with counts per event and cause'),
  )
    .requiredOption('--since <time>', 'window start (ISO-8601 with zone, or epoch ms)')
    .option('--until <time>', 'window end (default: now)')
    .option('--limit <n>', 'list at most this many changed items (default 1000)')
    .option('--json', 'print one JSON document')
    .action(async (o: ChangesOptions) => {
      const loc = locationOf(o);
      const sinceMs = parseInstant('--since', o.since);
      const untilMs = instantOf('--until', o.until);
      const limit = positiveInt('--limit', o.limit, 1000, 10_000_000);
      const { s3 } = clientsFromEnv();
      const now = Date.now();
      await requireManifest(s3, loc);
      // No coverage check: a window may start before the backup does (it then lists what it holds).
      await assertAnswerable(s3, loc, undefined, askedInstants({ sinceMs, untilMs }, now), now);
      const listed: Array<{ objectKey: string; changes: number }> = [];
      let more = 0;
      const report = await changesIn(s3, loc, { sinceMs, untilMs }, (item) => {
        if (listed.length < limit) listed.push(item);
        else more++;
      });
      if (o.json) {
        ctx.print(
          JSON.stringify(
            {
              ...report,
              since: new Date(sinceMs).toISOString(),
              until: new Date(untilMs).toISOString(),
              changedItems: listed,
              notListed: more,
            },
            null,
            2,
          ),
        );
        return;
      }
      const by = (r: Record<string, number>) =>
        Object.entries(r)
          .map(([k, v]) => `${k.toLowerCase()} ${v}`)
          .join(', ') || 'none';
      ctx.print(
        `${report.items} items changed ${report.changes} times from ${new Date(sinceMs).toISOString()} to ${new Date(untilMs).toISOString()}`,
      );
      ctx.print(`  by event: ${by(report.byEvent)}`);
      ctx.print(`  by cause: ${by(report.byCause)}`);
      ctx.print(
        report.source === 'index'
          ? `  read from the change index (${report.s3Requests} S3 requests)`
          : `  read by listing every version (${report.s3Requests} S3 requests): ${report.note ?? 'no change index'}`,
      );
      for (const item of listed) ctx.print(`  ${item.objectKey}  (${item.changes})`);
      if (more) ctx.print(`  ... and ${more} more (raise --limit)`);
    });
}
