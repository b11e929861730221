import { Writable } from 'node:stream';
import { writeWithBackpressure } from '../../core/backpressure';

/** A sink with a one-byte buffer that takes a chunk per tick: every write but the first waits. */
function slowSink(fail = false): { sink: Writable; got: string[]; maxDrainListeners: () => number } {
  const got: string[] = [];
  let max = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk, _enc, done) {
      max = Math.max(max, sink.listenerCount('drain'));
      got.push(String(chunk));
      setImmediate(() => done(fail ? new Error('disk full') : undefined));
    },
  });
  return { sink, got, maxDrainListeners: () => max };
}

describe('writeWithBackpressure', () => {
  it('lets 50 concurrent writers wait on one drain listener, and writes every chunk once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const { sink, got, maxDrainListeners } = slowSink();
      const chunks = Array.from({ length: 50 }, (_, i) => `line ${i}\n`);
      await Promise.all(chunks.map((c) => writeWithBackpressure(sink, c)));
      await new Promise<void>((r) => sink.end(r));
      expect(got.sort()).toEqual([...chunks].sort());
      expect(maxDrainListeners()).toBeLessThanOrEqual(1);
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects the waiting writers when the stream fails instead of waiting forever', async () => {
    const { sink } = slowSink(true);
    sink.on('error', () => {}); // the writers' rejection is what is asserted
    const writes = Array.from({ length: 5 }, (_, i) => writeWithBackpressure(sink, `x${i}`));
    await expect(Promise.all(writes)).rejects.toThrow('disk full');
  });
});
