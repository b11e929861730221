import { parseRestoreEvent, type RestoreEvent } from '../../core/restore-event';
import { TaskPool } from '../../core/task-pool';

// Every number that enters from outside (env, CLI, events) is checked where it enters, with the
// message style of core/number-arg.ts; the CLI cases are in test/integration/bad-input.test.ts.

/** Loads a module afresh with some environment variables set, then puts the environment back. */
function loadWithEnv(path: string, vars: Record<string, string>): unknown {
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  try {
    let loaded: unknown;
    jest.isolateModules(() => {
      loaded = require(path);
    });
    return loaded;
  } finally {
    process.env = saved;
  }
}

describe('numbers from the environment', () => {
  it('WRITER_CONCURRENCY=abc fails the writer at start-up with one line', () => {
    expect(() => loadWithEnv('../../functions/stream-writer/handler', { WRITER_CONCURRENCY: 'abc' })).toThrow(
      'Expected `WRITER_CONCURRENCY` to be a whole number from 1 to 1000, got `abc`',
    );
  });

  it('AWS_MAX_ATTEMPTS=abc is refused when a client is built', () => {
    const clients = loadWithEnv('../../core/aws/clients', {}) as typeof import('../../core/aws/clients');
    process.env.AWS_MAX_ATTEMPTS = 'abc';
    try {
      expect(() => clients.s3Client()).toThrow(
        'Expected `AWS_MAX_ATTEMPTS` to be a whole number from 1 to 100, got `abc`',
      );
    } finally {
      delete process.env.AWS_MAX_ATTEMPTS;
    }
  });
});

describe('numbers in the restore event', () => {
  const base: RestoreEvent = {
    table: 'orders',
    bucket: 'backups',
    targetTable: 'orders-copy',
    at: '2026-03-01T09:00:00Z',
  };
  it.each([
    [
      'concurrency',
      { concurrency: 0 },
      '"concurrency" in the restore event` to be a whole number from 1 to 1024, got `0`',
    ],
    [
      'maxWcu',
      { maxWcu: 2.5 },
      '"maxWcu" in the restore event` to be a whole number from 1 to 10000000, got `2.5`',
    ],
    [
      'partitions',
      { partitions: 10001 },
      '"partitions" in the restore event` to be a whole number from 1 to 10000, got `10001`',
    ],
  ])('a bad %s is refused before anything runs', (_name, extra, message) => {
    expect(() => parseRestoreEvent({ ...base, ...extra })).toThrow(message);
  });

  it('gives the checked numbers back', () => {
    const parsed = parseRestoreEvent({ ...base, concurrency: 8, maxWcu: 100 });
    expect(parsed).toMatchObject({ concurrency: 8, maxWcu: 100, atMs: Date.parse('2026-03-01T09:00:00Z') });
    expect(parsed.partitions).toBeUndefined();
  });

  it('takes a roll forward instant (`since`), checked like `at`', () => {
    expect(parseRestoreEvent({ ...base, since: '2026-03-01T08:00:00Z' }).sinceMs).toBe(
      Date.parse('2026-03-01T08:00:00Z'),
    );
    expect(() => parseRestoreEvent({ ...base, since: 'yesterday' })).toThrow(/since/);
  });
});

describe('TaskPool', () => {
  it.each([0, -1, Number.NaN, 1.5])('refuses size %p instead of hanging', (size) => {
    expect(() => new TaskPool(size)).toThrow(RangeError);
  });

  it('runs at most size tasks at once', async () => {
    const pool = new TaskPool(2);
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 6; i++) {
      await pool.submit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      });
    }
    await pool.drain();
    expect(peak).toBe(2);
  });
});
