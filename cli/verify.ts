import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { verify } from '../core/aws/verify';
import { MAX_PARTITIONS } from '../core/job-parts';
import { wholeNumber } from '../core/number-arg';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, positiveInt } from './options';

interface VerifyOptions extends LocationOptions {
  sample?: string;
  settleMs?: string;
  partitions?: string;
  concurrency?: string;
  json?: boolean;
}

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description("compare the live table with the backup's latest state; exit 0 in sync, 1 on drift")
    .requiredOption('--table <name>', 'the live table')
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--sample <percent>', 'check this share of the items (by key hash), 1-100 (default 100)')
    .option('--settle-ms <ms>', 'how long a difference may take to arrive through the stream (default 10000)')
    .option(
      '--partitions <n>',
      "split the sampled hash prefixes into this many tasks (up to 10000; more than prefixes cuts them at a pack's chunks), run as the Step Functions map runs them (default 1)",
    )
    .option(
      '--concurrency <n>',
      'most S3 requests in flight reading the backup, listings included (default 32)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (o: VerifyOptions) => {
      const { s3, dynamodb } = clientsFromEnv();
      const report = await verify(
        { s3, dynamodb, log: ctx.log },
        {
          source: locationOf(o),
          samplePercent: positiveInt('--sample', o.sample, 100, 100),
          settleMs: wholeNumber('--settle-ms', o.settleMs, { min: 0, max: 3_600_000, fallback: 10_000 }),
          partitions: positiveInt('--partitions', o.partitions, 1, MAX_PARTITIONS),
          concurrency: positiveInt('--concurrency', o.concurrency, 32, 1024),
        },
      );
      for (const w of report.warnings) ctx.log.warn(w);
      if (o.json) ctx.print(JSON.stringify(report, null, 2));
      else {
        const c = report.counts;
        ctx.print(
          `${report.inSync ? 'in sync' : 'DRIFT'}: ${report.checkedItems} items checked in ${report.sampledPrefixes}/256 prefixes; missing from backup ${c['missing-from-backup']}, only in backup ${c['only-in-backup']}, differ ${c.differs}`,
        );
        for (const d of report.drift)
          ctx.print(
            `  ${d.kind}  ${d.objectKey}  table ${d.tableHash ?? '-'}  backup ${d.backupHash ?? '-'}`,
          );
      }
      if (!report.inSync) process.exitCode = 1;
    });
}
