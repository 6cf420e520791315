import { assert, assertEquals } from "@std/assert";
import { Playout } from "../../src/agents/playout.ts";

Deno.test("playout memory is bounded: a bot flooding a full queue with big buffers pins none of them (what it keeps is ≤ the queue's own bound)", async () => {
  const maxQueuedMs = 1_000;
  const bound = 8_000 * 2 * (maxQueuedMs / 1000); // samples the queue may hold, as bytes
  const big = () => new Int16Array(16_000).fill(1000); // 2 s, 32 KB each
  let frames = 0;
  const played = Promise.withResolvers<void>();
  await using playout = new Playout({
    sampleRate: 8000,
    maxQueuedMs,
    sink: () => {
      // After every frame played (160 samples of room), the bot sends 2 s more.
      playout.enqueue(big());
      if (++frames === 60) played.resolve();
    },
  });
  assertEquals(playout.enqueue(big()), 8_000); // the first fills the queue (a part is kept)
  playout.start();
  await played.promise;
  const { overflowSamples, queuedMs } = playout.counters;
  assert(queuedMs <= maxQueuedMs, `queued ${queuedMs} ms`);
  assert(overflowSamples > 50 * 15_000, `dropped ${overflowSamples} samples`);
  // 60 partly accepted 32 KB buffers would be 1.9 MB if views kept them alive.
  assert(
    playout.retainedBytes <= bound,
    `the queue keeps ${playout.retainedBytes} bytes alive (bound ${bound})`,
  );
});
