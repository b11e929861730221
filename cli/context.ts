import type { Log } from '../core/log';

/** What every command gets from main: where to log and where to print results. */
export interface CliContext {
  log: Log;
  print: (text: string) => void;
  isTty: boolean;
}
