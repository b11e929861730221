import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { backfill } from '../core/aws/backfill';
import { clientsFromEnv } from '../core/aws/clients';
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

export function registerBackfill(program: Command, ctx: CliContext): void {
  program
    .command('backfill')
    .description('back up the items a table already has, while the stream backup keeps running')
    .requiredOption('--table <name>', 'table to scan')
    .requiredOption('--bucket <name>', 'versioned backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--segments <n>', 'parallel scan segments (default 4)')
    .option('--read-percent <p>', "share of a provisioned table's read capacity to use, 1-100")
    .option('--max-rcu <n>', 'read capacity units per second at most')
    .option('--resume', 'continue an interrupted backfill from its checkpoint')
    .option('--checkpoint-dir <dir>', 'where progress is kept', '.ddb-rewind/backfill')
    .option(
      '--time-precision-ms <ms>',
      "the stream's change-time precision: 1000 on AWS, 60000 on DynamoDB Local (default 1000)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: BackfillOptions) => {
      const source = locationOf(o);
      const { s3, dynamodb } = clientsFromEnv();
      const bar =
        ctx.isTty && !o.json
          ? new SingleBar({ format: 'backfill | {value} items', stream: process.stderr })
          : undefined;
      bar?.start(0, 0);
      try {
        const summary = await backfill(
          { s3, dynamodb, log: ctx.log, onProgress: (n) => bar?.update(n) },
          {
            source,
            segments: positiveInt('--segments', o.segments, 4, 1_000_000),
            checkpointFile: join(o.checkpointDir, source.bucket, `${source.prefix}${source.table}.json`),
            resume: Boolean(o.resume),
            timePrecisionMs: positiveInt('--time-precision-ms', o.timePrecisionMs, 1000, 3_600_000),
            ...(o.maxRcu ? { maxRcu: positiveInt('--max-rcu', o.maxRcu, 1, 10_000_000) } : {}),
            ...(o.readPercent ? { readPercent: positiveInt('--read-percent', o.readPercent, 1, 100) } : {}),
          },
        );
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
