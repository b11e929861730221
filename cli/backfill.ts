import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { type BackfillJobContext, type BackfillJobRequest, backfillJob } from '../core/aws/jobs/backfill-job';
import { runJob } from '../core/aws/run-job';
import { loadJson, saveJson } from '../core/checkpoint-file';
import { InputError } from '../core/errors';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, positiveInt } from './options';

interface BackfillOptions extends LocationOptions {
  segments?: string;
  readPercent?: string;
  maxRcu?: string;
  resume?: boolean;
  checkpointDir: string;
  timePrecisionMs?: string;
  json?: boolean;
}

/**
 * The local checkpoint: only which run to resume. The segments' progress is in the run's folder
 * in the bucket, where a run on AWS keeps it too.
 */
interface LocalRun {
  table: string;
  segments: number;
  jobId?: string;
}

export function registerBackfill(program: Command, ctx: CliContext): void {
  program
    .command('backfill')
    .description('back up the items a table already has, while the stream backup keeps running')
    .requiredOption('--table <name>', 'table to scan')
    .requiredOption('--bucket <name>', 'versioned backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--segments <n>', 'parallel scan segments (default 4)')
    .option(
      '--read-percent <p>',
      "share of a provisioned table's read capacity to use, 1-100, all segments together",
    )
    .option('--max-rcu <n>', 'read capacity units per second at most, all segments together')
    .option('--resume', 'continue an interrupted backfill from its checkpoint')
    .option('--checkpoint-dir <dir>', 'where the run to resume is noted', '.ddb-rewind/backfill')
    .option(
      '--time-precision-ms <ms>',
      "the stream's change-time precision: 1000 on AWS, 60000 on DynamoDB Local (default 1000)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: BackfillOptions) => {
      const source = locationOf(o);
      const segments = positiveInt('--segments', o.segments, 4, 1_000_000);
      const file = join(o.checkpointDir, source.bucket, `${source.prefix}${source.table}.json`);
      const resumeJobId = o.resume ? await runToResume(file, source.table, segments) : undefined;
      const request: BackfillJobRequest = {
        source,
        segments,
        timePrecisionMs: positiveInt('--time-precision-ms', o.timePrecisionMs, 1000, 3_600_000),
        ...(o.maxRcu ? { maxRcu: positiveInt('--max-rcu', o.maxRcu, 1, 10_000_000) } : {}),
        ...(o.readPercent ? { readPercent: positiveInt('--read-percent', o.readPercent, 1, 100) } : {}),
        ...(resumeJobId ? { resumeJobId } : {}),
      };
      const bar =
        ctx.isTty && !o.json
          ? new SingleBar({ format: 'backfill | {value} items', stream: process.stderr })
          : undefined;
      bar?.start(0, 0);
      let written = 0;
      try {
        // The same job the construct runs on Step Functions; the run is noted as soon as it is
        // planned, so a kill from then on resumes it.
        const job = {
          ...backfillJob,
          plan: async (...args: Parameters<typeof backfillJob.plan>) => {
            const plan = await backfillJob.plan(...args);
            await saveJson(file, { table: source.table, segments, jobId: plan.jobId } satisfies LocalRun);
            return plan;
          },
        };
        const { s3, dynamodb } = clientsFromEnv();
        const jobCtx: BackfillJobContext = {
          s3,
          dynamodb,
          log: ctx.log,
          onItemsWritten: (n) => {
            written += n;
            bar?.update(written);
          },
        };
        const summary = await runJob(jobCtx, job, request, { concurrency: segments });
        bar?.stop();
        ctx.print(
          o.json
            ? JSON.stringify(summary, null, 2)
            : `backfill: ${summary.items} items in ${summary.segments} segments (${summary.resumedSegments} already done), ${summary.repaired} put back in order, ${(summary.durationMs / 1000).toFixed(1)} s`,
        );
      } finally {
        bar?.stop();
      }
    });
}

/** The run the checkpoint notes, checked against this one; none (start over) without a note. */
async function runToResume(file: string, table: string, segments: number): Promise<string | undefined> {
  const stored = await loadJson<LocalRun>(file);
  if (stored && (stored.table !== table || stored.segments !== segments)) {
    throw new InputError(
      `The backfill checkpoint ${file} is for ${stored.table} with ${stored.segments} segments: resume with --segments ${stored.segments}, or drop --resume to start over`,
    );
  }
  // A checkpoint from before runs had ids holds no run to resume: the backfill starts over.
  return stored?.jobId;
}
