import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import {
  type RestoreJobContext,
  type RestoreJobRequest,
  type RestoreJobSummary,
  restoreJob,
} from '../core/aws/jobs/restore-job';
import { requireManifest } from '../core/aws/manifest-store';
import type { RestoreMode, RestoreSummary } from '../core/aws/restore';
import { runJob } from '../core/aws/run-job';
import { InputError } from '../core/errors';
import { parseKeys } from '../core/item-key';
import { MAX_PARTITIONS } from '../core/job-parts';
import { progressTracker } from '../core/restore-progress';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import { instantOf, jsonOrFile, type LocationOptions, locationOf, positiveInt } from './options';

interface RestoreOptions extends LocationOptions {
  at?: string;
  targetTable: string;
  createTable?: boolean;
  mode: string;
  keys?: string;
  since?: string;
  dryRun?: boolean;
  inPlace?: boolean;
  yes?: boolean;
  concurrency?: string;
  maxWcu?: string;
  partitions?: string;
  pack: boolean;
  transform?: string;
  json?: boolean;
}

export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command('restore')
    .description('restore a table, or chosen items, as it was at an instant')
    .requiredOption('--table <name>', 'the backed-up (source) table')
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--at <time>', 'ISO-8601 with a zone, or epoch ms (default: now)')
    .requiredOption('--target-table <name>', 'table to write into')
    .option('--create-table', "create the target from the backup's table description (fails if it exists)")
    .option(
      '--mode <mode>',
      'upsert: write items present at T; rewind: also delete items absent at T',
      'upsert',
    )
    .option('--keys <json-or-file>', 'only these items: key objects, plain JSON or DynamoDB JSON')
    .option(
      '--since <time>',
      'roll forward: the target holds the table as of this instant (an earlier restore); write only the items changed since, each as of --at (deleted if absent then)',
    )
    .option('--dry-run', 'print the plan (puts, deletes, unchanged) and write nothing')
    .option('--in-place', 'allow the target to be the source table (undo)')
    .option('--yes', 'with --in-place: do not ask before writing')
    .option(
      '--concurrency <n>',
      'most S3 requests in flight reading the backup, listings included (default 32); DynamoDB batches in flight are a quarter of it',
    )
    .option('--max-wcu <n>', 'cap on write capacity units per second')
    .option(
      '--partitions <n>',
      "split the 256 hash prefixes into n tasks (up to 10000; over 256 cuts prefixes at a pack's chunks), run here 4 at a time as the restore workflow runs them on Step Functions (default 1)",
    )
    .option('--no-pack', 'read every item from its versions, not from a pack (see `ddb-rewind pack`)')
    .option(
      '--transform <file>',
      'an ES module whose default export maps each item (DynamoDB JSON) to the item to write, or to nothing to drop it; keys must stay',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: RestoreOptions) => {
      const source = locationOf(o);
      const atMs = instantOf('--at', o.at);
      if (o.mode !== 'upsert' && o.mode !== 'rewind') {
        throw new InputError(`Expected \`--mode\` to be upsert or rewind, got \`${o.mode}\``);
      }
      const clients = clientsFromEnv();
      const keys = o.keys
        ? parseKeys('--keys', jsonOrFile(o.keys), await requireManifest(clients.s3, source))
        : undefined;
      const partitions = positiveInt('--partitions', o.partitions, 1, MAX_PARTITIONS);
      const concurrency = positiveInt('--concurrency', o.concurrency, 32, 1024);
      const inFlight = Math.min(partitions, TASKS_IN_FLIGHT);
      const request: RestoreJobRequest = {
        source,
        atMs,
        targetTable: o.targetTable,
        mode: o.mode as RestoreMode,
        createTable: Boolean(o.createTable),
        dryRun: Boolean(o.dryRun),
        inPlace: Boolean(o.inPlace),
        // --concurrency bounds the whole run: the tasks in flight share it.
        concurrency: Math.max(1, Math.floor(concurrency / inFlight)),
        partitions,
        ...(o.maxWcu ? { maxWcu: positiveInt('--max-wcu', o.maxWcu, 1, 10_000_000) } : {}),
        ...(keys ? { keys } : {}),
        ...(o.since !== undefined ? { sinceMs: parseInstant('--since', o.since) } : {}),
        ...(o.transform ? { transform: o.transform } : {}),
        usePack: o.pack,
      };
      const deps = { s3: clients.s3, dynamodb: clients.dynamodb, log: ctx.log };
      const run = (c: RestoreJobContext, r: RestoreJobRequest) =>
        runJob(c, restoreJob, r, { concurrency: inFlight });
      if (o.inPlace && o.targetTable === o.table && !o.dryRun && !o.yes) {
        const plan = await run(deps, { ...request, dryRun: true });
        process.stderr.write(`${describe(plan)}\n`);
        if (!ctx.isTty)
          throw new InputError(
            'Restoring over the source table: check the plan above, then run again with --yes',
          );
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Write these changes into ${o.targetTable}? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim()))
          throw new InputError('Nothing written: the restore was not confirmed');
      }
      const bar =
        ctx.isTty && !o.json
          ? new SingleBar({
              format: 'restore | {value} items | put {put} deleted {deleted} unchanged {unchanged}',
              stream: process.stderr,
            })
          : undefined;
      bar?.start(0, 0, { put: 0, deleted: 0, unchanged: 0 });
      try {
        const summary = await run({ ...deps, onProgress: progressOf(bar) }, request);
        bar?.stop();
        ctx.print(o.json ? JSON.stringify(summary, null, 2) : describe(summary));
      } finally {
        bar?.stop();
      }
    });
}

const TASKS_IN_FLIGHT = 4;

/** The bar shows all partitions together: each reports its own running summary. */
function progressOf(bar: SingleBar | undefined): NonNullable<RestoreJobContext['onProgress']> {
  const track = progressTracker();
  return (s) => {
    const p = track(s);
    bar?.update(p.put + p.deleted + p.unchanged, p);
  };
}

function describe(s: RestoreJobSummary): string {
  const at = new Date(s.atMs).toISOString();
  const head = s.dryRun
    ? `plan for ${s.targetTable} as of ${at} (${s.mode}, nothing written)`
    : `restored ${s.targetTable} as of ${at} (${s.mode})`;
  const lines = [
    head,
    `  put ${s.itemsPut}, deleted ${s.itemsDeleted}, unchanged ${s.itemsUnchanged}`,
    `  ${s.versionsScanned} versions scanned in ${s.partitions} partition${s.partitions === 1 ? '' : 's'}${s.targetItemsRead ? ` (target read once: ${s.targetItemsRead} items)` : ''}${s.pack ? `, ${s.itemsFromPack} items read from pack ${s.pack}${packIndexNote(s.packIndex)}` : ''}, ${s.s3Requests} S3 and ${s.dynamodbRequests} DynamoDB requests, ${(s.durationMs / 1000).toFixed(1)} s`,
  ];
  const rolled = s.rolledForward;
  if (rolled) {
    lines.push(
      `  rolled forward from ${new Date(rolled.sinceMs).toISOString()}: ${rolled.changedItems} items changed since, found ${rolled.changesFrom === 'index' ? 'in the change index' : `by listing every version (${rolled.note})`}`,
    );
  }
  if (s.samples?.put.length) lines.push(`  e.g. put: ${s.samples.put.join(' ')}`);
  if (s.samples?.delete.length) lines.push(`  e.g. delete: ${s.samples.delete.join(' ')}`);
  for (const item of s.samples?.transformed ?? []) lines.push(`  transformed: ${JSON.stringify(item)}`);
  return lines.join('\n');
}

/** How the pack was read, for the summary line. */
function packIndexNote(p: RestoreSummary['packIndex']): string {
  if (!p) return '';
  return 'changedItems' in p
    ? ` (${p.changedItems} changed since it, listed alone)`
    : ` (every prefix listed: ${p.reason})`;
}
