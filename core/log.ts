/**
 * The logging the core needs: Powertools' Logger satisfies it in Lambda, a stderr logger in the
 * CLI. Callers pass counts, sequence numbers and key hashes, never attribute values.
 */
export interface Log {
  debug(message: string, ...extra: Array<Record<string, unknown>>): void;
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
