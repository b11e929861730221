import { Command } from 'commander';
import { registerBackfill } from './backfill';
import { registerChanges } from './changes';
import type { CliContext } from './context';
import { describeError, exitCodeOf } from './errors';
import { registerExport } from './export';
import { registerHistory } from './history';
import { registerLocate } from './locate';
import { stderrLog } from './log';
import { registerPack } from './pack';
import { registerRestore } from './restore';
import { registerShow } from './show';
import { registerStream } from './stream';
import { registerUi } from './ui';
import { registerUndo } from './undo';
import { registerVerify } from './verify';

/** `ddb-rewind <command>`: every command is a thin shell over a core library function. */
export async function main(argv: string[]): Promise<number> {
  // `ddb-rewind changes ... | head`: a reader that stopped reading is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const verbose = argv.includes('--verbose');
  const ctx: CliContext = {
    log: stderrLog(verbose),
    print: (text) => process.stdout.write(`${text}\n`),
    isTty: Boolean(process.stderr.isTTY && process.stdin.isTTY),
  };
  const program = new Command('ddb-rewind')
    .description(
      "Continuous DynamoDB backup in a versioned S3 bucket: restore any instant, read any item's history.",
    )
    .option('--verbose', 'log progress details to stderr')
    .showHelpAfterError()
    .exitOverride();
  registerStream(program, ctx);
  registerRestore(program, ctx);
  registerExport(program, ctx);
  registerBackfill(program, ctx);
  registerVerify(program, ctx);
  registerPack(program, ctx);
  registerHistory(program, ctx);
  registerShow(program, ctx);
  registerLocate(program, ctx);
  registerChanges(program, ctx);
  registerUndo(program, ctx);
  registerUi(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may set a non-zero code for a result that is not an error (verify: drift).
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 2;
    process.stderr.write(`ddb-rewind: ${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
