import type { Command } from 'commander';
import { startConsole } from '../console/serve';
import { clientsFromEnv } from '../core/aws/clients';
import { InputError } from '../core/errors';
import { wholeNumber } from '../core/number-arg';
import { backupLocation } from '../core/object-key';
import type { CliContext } from './context';

interface UiOptions {
  bucket: string;
  prefix: string;
  port?: string;
  host: string;
  allowRestore?: boolean;
}

/** The port `ui` listens on unless told: fixed, so deep links stay good across restarts. */
export const DEFAULT_UI_PORT = 4739;

export function registerUi(program: Command, ctx: CliContext): void {
  program
    .command('ui')
    .description(
      'a local web console: browse tables, changes and item histories, and restore (with --allow-restore)',
    )
    .requiredOption('--bucket <name>', 'backup bucket')
    .option('--prefix <folder>', 'folder inside the bucket', '')
    .option('--port <n>', `port to listen on, 0 for any free one (default ${DEFAULT_UI_PORT})`)
    .option(
      '--host <address>',
      'address to listen on; anything but loopback exposes the console',
      '127.0.0.1',
    )
    .option('--allow-restore', 'allow restores from the console (it is read-only without)')
    .action(async (o: UiOptions) => {
      // Checked up front: the same one-line refusals as every command's --bucket and --prefix.
      const prefix = backupLocation(o.bucket, 'any', o.prefix).prefix;
      // Requests are checked against the Host the console was started as: a wildcard names no host.
      if (o.host === '0.0.0.0' || o.host === '::')
        throw new InputError(
          `Expected \`--host\` to be an address or name browsers will use, got the wildcard ${o.host}: give this machine's address (the Host header is checked against it)`,
        );
      const port = wholeNumber('--port', o.port, { min: 0, max: 65535, fallback: DEFAULT_UI_PORT });
      const clients = clientsFromEnv();
      const region = (await clients.s3.config.region()) ?? 'us-east-1';
      const running = await startConsole({
        s3: clients.s3,
        dynamodb: clients.dynamodb,
        bucket: o.bucket,
        prefix,
        region,
        host: o.host,
        port,
        allowRestore: Boolean(o.allowRestore),
        log: ctx.log,
      }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE')
          throw new InputError(`Port ${port} is in use: pick another with --port (0 for any free one)`);
        if (err.code === 'EADDRNOTAVAIL')
          throw new InputError(`Cannot listen on ${o.host}: give an address of this machine with --host`);
        throw err;
      });
      if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1')
        ctx.log.warn(`listening on ${o.host}: anyone who can reach it and has the URL can read the backups`);
      ctx.print(running.url);
      process.stderr.write(
        `ddb-rewind console on s3://${o.bucket}/${prefix} (${o.allowRestore ? 'restores allowed' : 'read-only'}): open the URL above; Ctrl-C stops it\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await running.close();
    });
}
