import { InputError } from './errors';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses a point in time given by a person: ISO-8601 with a zone, or epoch milliseconds.
 * A zone-less time is refused: which instant "09:00" is depends on a machine's zone.
 *
 * @example parseInstant('--at', '2026-03-01T09:00:00Z') // 1772355600000
 */
export function parseInstant(flag: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d{12,16}$/.test(trimmed)) return Number(trimmed);
  if (ISO_WITH_ZONE.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) return ms;
  }
  const hint = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(trimmed)
    ? ' (add a zone, e.g. Z or +02:00)'
    : /^\d{9,11}$/.test(trimmed)
      ? ' (that looks like epoch seconds: give milliseconds)'
      : '';
  throw new InputError(
    `Expected \`${flag}\` to be an ISO-8601 time with a zone (2026-03-01T09:00:00Z) or epoch milliseconds, got \`${text}\`${hint}`,
  );
}

/** Refuses instants in the future: the backup cannot know them yet. */
export function assertNotFuture(flag: string, atMs: number, nowMs = Date.now()): void {
  // One second of slack: "now" typed by a person or a script is a little behind this clock.
  if (atMs > nowMs + 1000) {
    throw new InputError(
      `Expected \`${flag}\` not to be in the future, got ${new Date(atMs).toISOString()} (now is ${new Date(nowMs).toISOString()})`,
    );
  }
}
