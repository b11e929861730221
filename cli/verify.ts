import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { verify } from '../core/aws/verify';
import { verifyIndex } from '../core/aws/verify-index';
import { InputError } from '../core/errors';
import { MAX_PARTITIONS } from '../core/job-parts';
import { wholeNumber } from '../core/number-arg';
import { parseInstant } from '../core/time-arg';
import type { CliContext } from './context';
import { instantOf, type LocationOptions, locationOf, positiveInt } from './options';

interface VerifyOptions extends LocationOptions {
  sample?: string;
  settleMs?: string;
  partitions?: string;
  concurrency?: string;
  index?: boolean;
  since?: string;
  until?: string;
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
    .option(
      '--index',
      "check the change index against the backup's versions instead of the table against the backup (one listing of the backup)",
    )
    .option('--since <time>', 'with --index: window start (default: a day ago, or where the index starts)')
    .option('--until <time>', 'with --index: window end (default: now)')
    .option('--json', 'print the report as JSON')
    .action(async (o: VerifyOptions) => {
      const { s3, dynamodb } = clientsFromEnv();
      if (o.index) return verifyIndexCommand(ctx, s3, o);
      if (o.since !== undefined || o.until !== undefined)
        throw new InputError(
          'Expected --since and --until only with --index: a table is verified as it is now',
        );
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

/** `verify --index`: the change index against the versions, exit 1 when they disagree. */
async function verifyIndexCommand(ctx: CliContext, s3: S3Client, o: VerifyOptions): Promise<void> {
  const report = await verifyIndex(s3, locationOf(o), {
    ...(o.since !== undefined ? { sinceMs: parseInstant('--since', o.since) } : {}),
    untilMs: instantOf('--until', o.until),
  });
  if (o.json) ctx.print(JSON.stringify(report, null, 2));
  else {
    const c = report.counts;
    ctx.print(
      `${report.inSync ? 'index in sync' : 'INDEX DRIFT'}: ${report.listedItems} items changed from ${new Date(report.sinceMs).toISOString()} to ${new Date(report.untilMs).toISOString()}; missing from the index ${c.missingFromIndex}, only in the index ${c.onlyInIndex}, differ ${c.differ}`,
    );
    for (const k of report.missingFromIndex) ctx.print(`  missing-from-index  ${k}`);
    for (const k of report.onlyInIndex) ctx.print(`  only-in-index  ${k}`);
    for (const k of report.differ) ctx.print(`  differs  ${k}`);
  }
  if (!report.inSync) process.exitCode = 1;
}
