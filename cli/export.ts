import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { exportAsOf } from '../core/aws/export-as-of';
import type { CliContext } from './context';
import { instantOf, type LocationOptions, locationOf, positiveInt } from './options';

interface ExportOptions extends LocationOptions {
  at?: string;
  out: string;
  concurrency?: string;
  pack: boolean;
  json?: boolean;
}

export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description("write the table as of an instant in DynamoDB's export format (gzipped DynamoDB JSON lines)")
    .requiredOption('--table <name>', 'the backed-up (source) table')
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--at <time>', 'ISO-8601 with a zone, or epoch ms (default: now)')
    .requiredOption('--out <path-or-s3-uri>', 'a file path (e.g. orders.json.gz) or s3://bucket/key.json.gz')
    .option(
      '--concurrency <n>',
      'most S3 requests in flight reading the backup, listings included (default 32)',
    )
    .option('--no-pack', 'read every item from its versions, not from a pack (see `ddb-rewind pack`)')
    .option('--json', 'print the summary as JSON')
    .action(async (o: ExportOptions) => {
      const { s3, dynamodb } = clientsFromEnv();
      const summary = await exportAsOf(
        { s3, dynamodb, log: ctx.log },
        {
          source: locationOf(o),
          atMs: instantOf('--at', o.at),
          out: o.out,
          concurrency: positiveInt('--concurrency', o.concurrency, 32, 1024),
          usePack: o.pack,
        },
      );
      for (const w of summary.warnings) ctx.log.warn(w);
      ctx.print(
        o.json
          ? JSON.stringify(summary, null, 2)
          : `exported ${summary.items} items as of ${new Date(summary.atMs).toISOString()} to ${summary.out} (${summary.versionsScanned} versions scanned, ${(summary.durationMs / 1000).toFixed(1)} s)`,
      );
    });
}
