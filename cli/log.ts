import type { Log } from '../core/log';

/** A logger for the terminal: warnings and errors on stderr; info and debug with --verbose. */
export function stderrLog(verbose: boolean): Log {
  const line = (level: string, message: string, extra: Array<Record<string, unknown>>) => {
    const detail = extra.length ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : '';
    process.stderr.write(`ddb-rewind: ${level}: ${message}${detail}\n`);
  };
  return {
    debug: (m, ...x) => verbose && line('debug', m, x),
    info: (m, ...x) => verbose && line('info', m, x),
    warn: (m, ...x) => line('warn', m, x),
    error: (m, ...x) => line('error', m, x),
  };
}
