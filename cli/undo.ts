import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import {
  type UndoJobContext,
  type UndoJobRequest,
  type UndoJobSummary,
  undoJob,
} from '../core/aws/jobs/undo-job';
import { requireManifest } from '../core/aws/manifest-store';
import { runJob } from '../core/aws/run-job';
import type { UndoConflict } from '../core/aws/undo';
import { InputError } from '../core/errors';
import { formatChange } from '../core/history-format';
import { diffItems } from '../core/item-diff';
import { parseKeys } from '../core/item-key';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import {
  instantOf,
  jsonOrFile,
  type LocationOptions,
  locationOf,
  positiveInt,
  withBackupOptions,
} from './options';

interface UndoOptions extends LocationOptions {
  since: string;
  until?: string;
  keys?: string;
  targetTable?: string;
  dryRun?: boolean;
  yes?: boolean;
  overwriteLaterChanges?: boolean;
  concurrency?: string;
  json?: boolean;
}

/** Exit code of an undo (or its dry run) that left conflicts: done, with items to look at by hand. */
export const CONFLICTS_EXIT = 3;

export function registerUndo(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program
      .command('undo')
      .description(
        'put every item changed in a time window back as it was just before it (a bad deploy undone), leaving later writes alone',
      ),
  )
    .requiredOption('--since <time>', 'start of the window (ISO-8601 with a zone, or epoch ms)')
    .option('--until <time>', 'end of the window, inclusive (default: now)')
    .option('--keys <json-or-file>', 'only these items (of those changed in the window)')
    .option('--target-table <name>', 'undo in this table (default: the source table, asked before writing)')
    .option('--dry-run', 'print the plan (restores, deletes, conflicts, unchanged) and write nothing')
    .option('--yes', 'in the source table: do not ask before writing')
    .option(
      '--overwrite-later-changes',
      'put items back even when they changed after --until (a write racing the undo is still never overwritten)',
    )
    .option('--concurrency <n>', 'items read and written at once (default 16)')
    .option('--json', 'print the summary, with every conflict, as JSON')
    .action(async (o: UndoOptions) => {
      const source = locationOf(o);
      const sinceMs = parseInstant('--since', o.since);
      const untilMs = instantOf('--until', o.until);
      const clients = clientsFromEnv();
      const keys = o.keys
        ? parseKeys('--keys', jsonOrFile(o.keys), await requireManifest(clients.s3, source))
        : undefined;
      const targetTable = o.targetTable ?? source.table;
      const request: UndoJobRequest = {
        source,
        sinceMs,
        untilMs,
        targetTable,
        inPlace: targetTable === source.table,
        dryRun: Boolean(o.dryRun),
        overwriteLaterChanges: Boolean(o.overwriteLaterChanges),
        concurrency: positiveInt('--concurrency', o.concurrency, 16, 1024),
        ...(keys ? { keys } : {}),
      };
      const deps = { s3: clients.s3, dynamodb: clients.dynamodb, log: ctx.log };
      if (request.inPlace && !request.dryRun && !o.yes) await confirm(ctx, deps, request);
      const { summary, conflicts } = await runUndo(deps, request);
      ctx.print(
        o.json
          ? JSON.stringify({ ...summary, conflictItems: conflicts }, null, 2)
          : describe(summary, conflicts),
      );
      if (summary.conflicts > 0) process.exitCode = CONFLICTS_EXIT;
    });
}

/** The undo job run here, with every conflict (the summary lists only the first ones). */
async function runUndo(deps: UndoJobContext, request: UndoJobRequest) {
  const conflicts: UndoConflict[] = [];
  const collect: UndoJobContext = {
    ...deps,
    onOutcome: (out) => {
      if (out.conflict) conflicts.push(out.conflict);
    },
  };
  const summary = await runJob(collect, undoJob, request, { concurrency: 1 });
  return { summary, conflicts };
}

/** In the source table, as `restore --in-place`: the plan first, then a yes (or --yes). */
async function confirm(ctx: CliContext, deps: UndoJobContext, request: UndoJobRequest): Promise<void> {
  const { summary: plan, conflicts } = await runUndo(deps, { ...request, dryRun: true });
  process.stderr.write(`${describe(plan, conflicts)}\n`);
  if (!ctx.isTty)
    throw new InputError('Undoing in the source table: check the plan above, then run again with --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Write these changes into ${request.targetTable}? [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new InputError('Nothing written: the undo was not confirmed');
}

const iso = (ms: number) => new Date(ms).toISOString();

function describe(s: UndoJobSummary, conflicts: readonly UndoConflict[]): string {
  const window = `${iso(s.sinceMs)} .. ${iso(s.untilMs)}`;
  const lines = [
    s.dryRun
      ? `undo plan for ${s.targetTable}, window ${window} (nothing written)`
      : `undid ${s.targetTable}, window ${window}`,
    `  ${s.dryRun ? 'to restore' : 'restored'} ${s.restored}, ${s.dryRun ? 'to delete' : 'deleted'} ${s.deleted}, unchanged ${s.unchanged}, conflicts ${s.conflicts}`,
    `  ${s.changedItems} items changed in the window, found ${s.changesFrom === 'index' ? 'in the change index' : `by listing every version (${s.note})`}${s.keysNotChanged ? `; ${s.keysNotChanged} of --keys did not change in it` : ''}; ${s.s3Requests} S3 and ${s.dynamodbRequests} DynamoDB requests, ${(s.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const c of conflicts) lines.push(...conflictLines(c));
  if (conflicts.length)
    lines.push(
      '  conflicts were left as they are: check each, then `restore --keys` or run again with --overwrite-later-changes',
    );
  return lines.join('\n');
}

const REASONS: Record<UndoConflict['reason'], string> = {
  'changed-after-window': 'changed again after --until',
  'differs-from-backup': 'the table holds a write the backup has not seen yet',
  'changed-during-undo': 'a write reached the table while the undo ran',
  'attributes-added-during-undo': 'a write racing the undo added attributes (kept)',
  'too-large-to-guard': 'too many attributes to guard the write: put it back by hand',
};

/** A conflict: its key, why, and what separates the state before the window from the later one. */
function conflictLines(c: UndoConflict): string[] {
  const later = c.now ?? c.later;
  const lines = [
    `  conflict ${JSON.stringify(c.key)}: ${REASONS[c.reason]}${c.added ? ` (${c.added.join(', ')})` : ''}`,
  ];
  const diff = diffItems(later, c.before);
  if (!c.before) lines.push('    before the window: absent');
  if (!later) lines.push('    now: absent');
  for (const d of diff.slice(0, 20)) lines.push(`    now -> before: ${formatChange(d)}`);
  if (diff.length > 20) lines.push(`    ... ${diff.length - 20} more differences`);
  return lines;
}
