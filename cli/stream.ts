import { join } from 'node:path';
import type { Command } from 'commander';
import { clientsFromEnv } from '../core/aws/clients';
import { recordGap } from '../core/aws/gap-store';
import { runStream } from '../core/aws/stream-runner';
import { streamHandler } from '../core/aws/stream-writer';
import { assertVersionedBucket } from '../core/aws/version-store';
import { wholeNumber } from '../core/number-arg';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, positiveInt } from './options';

interface StreamOptions extends LocationOptions {
  drain?: boolean;
  checkpointDir: string;
  concurrency?: string;
  batchSize?: string;
  batchWindowMs?: string;
  json?: boolean;
}

export function registerStream(program: Command, ctx: CliContext): void {
  program
    .command('stream')
    .description("back up a table's stream to S3 from this host, as the Lambda function does")
    .requiredOption('--table <name>', 'source table (its stream must be NEW_AND_OLD_IMAGES or NEW_IMAGE)')
    .requiredOption('--bucket <name>', 'versioned backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--drain', 'process everything available, then exit 0')
    .option('--checkpoint-dir <dir>', 'where shard checkpoints are kept', '.ddb-rewind/checkpoints')
    .option('--concurrency <n>', 'items written at once (default 16)')
    .option('--batch-size <n>', 'records per handler call, 1-1000 (default 100)')
    .option(
      '--batch-window-ms <ms>',
      "after a batch smaller than --batch-size, wait this long to gather the next (Lambda's batching window; 0-300000, default 0)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (o: StreamOptions) => {
      const loc = locationOf(o);
      const clients = clientsFromEnv();
      // Refuse before reading the stream: backups into an unversioned bucket overwrite history.
      await assertVersionedBucket(clients.s3, loc.bucket);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const handler = streamHandler(
        { s3: clients.s3, dynamodb: clients.dynamodb, log: ctx.log },
        {
          bucket: loc.bucket,
          prefix: loc.prefix,
          concurrency: positiveInt('--concurrency', o.concurrency, 16, 1024),
        },
      );
      const summary = await runStream(
        {
          dynamodb: clients.dynamodb,
          streams: clients.streams,
          log: ctx.log,
          handler,
          onGap: (gap) => recordGap(clients.s3, loc, gap),
        },
        {
          table: loc.table,
          drain: Boolean(o.drain),
          checkpointFile: join(o.checkpointDir, `${loc.bucket}`, `${loc.prefix}${loc.table}.json`),
          batchSize: positiveInt('--batch-size', o.batchSize, 100, 1000),
          batchWindowMs: wholeNumber('--batch-window-ms', o.batchWindowMs, {
            min: 0,
            max: 300_000,
            fallback: 0,
          }),
          signal: controller.signal,
        },
      );
      ctx.print(
        o.json
          ? JSON.stringify(summary)
          : `stream: ${summary.records} records in ${summary.batches} batches from ${summary.shards} shard(s), ${summary.retries} retries`,
      );
    });
}
