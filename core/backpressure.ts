import { once } from 'node:events';
import type { Writable } from 'node:stream';

// One pending 'drain' wait per stream, shared by every writer that finds its buffer full: a
// listener per writer piles up (Node warns past 10) when many tasks write to one file.
const draining = new WeakMap<Writable, Promise<void>>();

/** Writes a chunk and, when the stream's buffer is full, waits for it to drain (or fail). */
export async function writeWithBackpressure(stream: Writable, chunk: string): Promise<void> {
  if (stream.write(chunk)) return;
  let wait = draining.get(stream);
  if (!wait) {
    wait = once(stream, 'drain').then(
      () => {
        draining.delete(stream);
      },
      (err: unknown) => {
        draining.delete(stream);
        throw err;
      },
    );
    draining.set(stream, wait);
  }
  await wait;
}
