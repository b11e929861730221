import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { writePack } from '../core/aws/pack-writer';
import { assertVersionedBucket } from '../core/aws/version-store';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, positiveInt, withBackupOptions } from './options';

interface PackOptions extends LocationOptions {
  concurrency?: string;
  partitions?: string;
  json?: boolean;
}

export function registerPack(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program
      .command('pack')
      .description(
        "copy every item's newest version into a few large objects, so whole-table restores and exports read those instead of one GET per item (only changed items are read again)",
      ),
  )
    .option(
      '--concurrency <n>',
      'most S3 requests in flight reading the backup, listings included (default 32)',
    )
    .option(
      '--partitions <n>',
      'split the 256 hash prefixes into this many tasks, run as the Step Functions map runs them (default 1)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: PackOptions) => {
      const loc = locationOf(o);
      const concurrency = positiveInt('--concurrency', o.concurrency, 32, 1024);
      const partitions = positiveInt('--partitions', o.partitions, 1, 256);
      const { s3, dynamodb } = clientsFromEnv();
      await assertVersionedBucket(s3, loc.bucket);
      const summary = await writePack({ s3, dynamodb, log: ctx.log }, loc, { concurrency, partitions });
      ctx.print(
        o.json
          ? JSON.stringify(summary, null, 2)
          : `packed ${summary.items} items of ${loc.table} as pack ${summary.packId} (${summary.reused} unchanged since ${summary.previous ?? 'no earlier pack'}), ${summary.s3Requests} S3 requests, ${(summary.durationMs / 1000).toFixed(1)} s`,
      );
    });
}
