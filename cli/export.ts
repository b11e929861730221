import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { type ExportSummary, exportAsOf } from '../core/aws/export-as-of';
import { InputError } from '../core/errors';
import { MAX_PARTITIONS } from '../core/job-parts';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import { instantOf, type LocationOptions, locationOf, positiveInt } from './options';

interface ExportOptions extends LocationOptions {
  at?: string;
  out: string;
  concurrency?: string;
  partitions?: string;
  pack: boolean;
  transform?: string;
  format: string;
  since?: string;
  json?: boolean;
}

export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description(
      "write the table as of an instant in DynamoDB's export format: one gzipped file of DynamoDB JSON lines, or a folder in the layout of DynamoDB's export to S3 (AWSDynamoDB/<id>/data/*.json.gz, or *.parquet with --format parquet, and its manifests)",
    )
    .requiredOption('--table <name>', 'the backed-up (source) table')
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--at <time>', 'ISO-8601 with a zone, or epoch ms (default: now)')
    .requiredOption(
      '--out <path-or-s3-uri>',
      'a folder ending in / (exports/ or s3://bucket/prefix/) for the export layout; a file (orders.json.gz, s3://bucket/key.json.gz) or - (stdout) for one file',
    )
    .option(
      '--concurrency <n>',
      'most S3 requests in flight reading the backup, listings included (default 32)',
    )
    .option(
      '--partitions <n>',
      "split the hash prefixes into this many tasks (up to 10000; more than prefixes cuts them at a pack's chunks), run as the Step Functions map runs them (a folder --out only; default 1)",
    )
    .option('--no-pack', 'read every item from its versions, not from a pack (see `ddb-rewind pack`)')
    .option(
      '--transform <file>',
      'an ES module whose default export maps each item (DynamoDB JSON) to the item to write, or to nothing to drop it; keys must stay',
    )
    .option(
      '--format <format>',
      "dynamodb-json (DynamoDB's own, ImportTable reads it) or parquet (a folder --out: a column per key attribute and Item, the item as JSON)",
      'dynamodb-json',
    )
    .option(
      '--since <time>',
      "an incremental export: only the items changed after this instant, up to --at, in DynamoDB's incremental export format (Keys, OldImage as of --since, NewImage as of --at; a folder --out)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: ExportOptions) => {
      if (o.format !== 'dynamodb-json' && o.format !== 'parquet')
        throw new InputError(`Expected \`--format\` to be dynamodb-json or parquet, got \`${o.format}\``);
      if (
        !o.out.endsWith('/') &&
        !o.out.startsWith('s3://') &&
        existsSync(o.out) &&
        statSync(o.out).isDirectory()
      )
        throw new InputError(
          `Expected \`--out\` to be a file, got the folder \`${o.out}\`: end it with / for DynamoDB's export layout`,
        );
      const { s3, dynamodb } = clientsFromEnv();
      const summary = await exportAsOf(
        { s3, dynamodb, log: ctx.log },
        {
          source: locationOf(o),
          atMs: instantOf('--at', o.at),
          out: o.out,
          concurrency: positiveInt('--concurrency', o.concurrency, 32, 1024),
          partitions: positiveInt('--partitions', o.partitions, 1, MAX_PARTITIONS),
          usePack: o.pack,
          ...(o.transform ? { transform: o.transform } : {}),
          format: o.format,
          ...(o.since !== undefined ? { sinceMs: parseInstant('--since', o.since) } : {}),
        },
      );
      for (const w of summary.warnings) ctx.log.warn(w);
      const text = o.json ? JSON.stringify(summary, null, 2) : describe(summary);
      // With --out - the export itself is on stdout: the summary goes to stderr.
      if (o.out === '-') process.stderr.write(`${text}\n`);
      else ctx.print(text);
    });
}

function describe(s: ExportSummary): string {
  const where = s.manifest ? `${s.out} (${s.files} data files, manifest ${s.manifest})` : s.out;
  const c = s.changesFrom;
  if (c) {
    const found = c.source === 'index' ? 'the change index' : `a listing of every version (${c.note})`;
    return `exported the changes of ${s.items} items up to ${new Date(s.atMs).toISOString()} to ${where} (${c.changedItems} items changed, found in ${found}; ${(s.durationMs / 1000).toFixed(1)} s)`;
  }
  return `exported ${s.items} items as of ${new Date(s.atMs).toISOString()} to ${where} (${s.versionsScanned} versions scanned, ${(s.durationMs / 1000).toFixed(1)} s)`;
}
