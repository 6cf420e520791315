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

/**
 * Plays 50 frames of `item` "a" whose frame n (from 1) is the constant n, and runs
 * `actions[k]` on the playout right after the k-th frame was written; resolves with the value
 * of each frame written (0: silence) until "a" ended.
 */
async function scripted(actions: Record<number, (p: Playout) => void>): Promise<number[]> {
  const audio = new Int16Array(50 * 160);
  for (let i = 0; i < audio.length; i++) audio[i] = Math.floor(i / 160) + 1;
  const seen: number[] = [];
  const ended = Promise.withResolvers<void>();
  await using playout = new Playout({
    sampleRate: 8000,
    sink: (pcm) => {
      seen.push(pcm[80]);
      actions[seen.length]?.(playout);
    },
  });
  playout.enqueue(audio, "a");
  playout.mark("end", () => ended.resolve());
  playout.start();
  await ended.promise;
  return seen;
}

Deno.test("playout pause: while paused every frame is silence and the item does not move on; resume plays on from the frame after the last one heard", async () => {
  let waited = 0;
  const seen = await scripted({
    3: (p) => p.pause(true),
    // Frames 4.. are silence; after 5 of them, resume.
    8: (p) => {
      waited = p.paused ? 5 : -1;
      p.pause(false);
    },
  });
  assertEquals(waited, 5);
  assertEquals(seen.slice(0, 9), [1, 2, 3, 0, 0, 0, 0, 0, 4]);
  // Every frame of the item was heard once, in order.
  assertEquals(seen.filter((v) => v !== 0), Array.from({ length: 50 }, (_, i) => i + 1));
});

Deno.test("playout seek: start replays the playing item from its first frame, a positive ms skips ahead, a negative goes back; an item not playing is not moved", async () => {
  const results: boolean[] = [];
  const seen = await scripted({
    2: (p) => results.push(p.seek("a", "start"), p.seek("b", 100)),
    5: (p) => results.push(p.seek("a", 100)), // after frame 3: skip 5 frames to 9
    6: (p) => results.push(p.seek("a", -40)), // after frame 9: back 2 frames to 8
  });
  assertEquals(results, [true, false, true, true]);
  assertEquals(seen.slice(0, 8), [1, 2, 1, 2, 3, 9, 8, 9]);
  assertEquals(seen.filter((v) => v !== 0).at(-1), 50);
});

Deno.test("playout seek past the end ends the item (its mark fires); a seek with nothing playing returns false", async () => {
  const seen = await scripted({ 1: (p) => p.seek("a", 60_000) });
  assertEquals(seen[0], 1);
  assert(seen.slice(1).every((v) => v === 0), String(seen));
  await using idle = new Playout({ sampleRate: 8000, sink: () => {} });
  assertEquals(idle.seek("a", "start"), false);
});
