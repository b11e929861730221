import { getEventListeners } from 'node:events';
import { sleep } from '../../core/aws/stream-runner';

describe("the stream runner's sleep", () => {
  it('leaves no abort listener behind: a follow-mode runner sleeps on one signal for days', async () => {
    const controller = new AbortController();
    // Node warns of a leak from the 11th listener on; the old sleep left one per call.
    for (let i = 0; i < 50; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('wakes every sleeper promptly when the signal aborts, and then holds no listener', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const sleepers = Array.from({ length: 5 }, () => sleep(60_000, controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(5);
    setTimeout(() => controller.abort(), 20);
    await Promise.all(sleepers);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('returns at once on a signal that has already aborted, and sleeps the full time without one', async () => {
    let started = performance.now();
    await sleep(60_000, AbortSignal.abort());
    expect(performance.now() - started).toBeLessThan(100);
    started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
