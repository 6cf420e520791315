/**
 * 100 calls tapped at once, three times over, on one tap: each round checks what the single
 * 100-call test checked (a recognizer stream per call, its final, every stream closed), and the
 * heap after a forced GC must not grow with the calls (issue 12: "memory stays bounded").
 *
 * Only a forced GC tells a retained object from garbage, so without `--expose-gc` the test
 * reruns itself in a child Deno with the GC exposed.
 *
 * @module
 */
import { assertEquals, assertLess } from "@std/assert";
import { gc, rerunWithExposedGc } from "../../_lib/gc.ts";
import type { TranscriptEvent } from "../../../src/voice/transcript.ts";
import { readFixtureWav } from "../../_lib/fixtures.ts";
import { startFakeRecognizer } from "./_recognizers.ts";
import { publishUlaw, startTapHost } from "./_host.ts";
import { ulawFrames } from "./_sipp.ts";

const NAME = "100 calls tapped at once, three rounds on one tap";
const CALLS = 100;
/** What the tap may keep per finished call (an index entry, a counter): far below its audio. */
const RETAINED_PER_CALL_LIMIT = 4 * 1024;

const FRAMES = ulawFrames(readFixtureWav("turns-8k.wav").samples);
const finals = (events: readonly { type: string }[], sid: string) =>
  events.filter((e): e is TranscriptEvent =>
    e.type === "transcript" && (e as TranscriptEvent).kind === "final" &&
    (e as TranscriptEvent).sid === sid
  );

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}

Deno.test(`${NAME}: every call gets its own recognizer stream and its final, every stream is closed, and the heap does not grow with the calls`, async () => {
  if (!gc) {
    await rerunWithExposedGc(new URL(import.meta.url), NAME);
    return;
  }
  await using fake = startFakeRecognizer({ protocol: "deepgram", key: "k", utterances: ["hello"] });
  await using tap = await startTapHost(
    { provider: "deepgram", url: fake.url, endpointingMs: 700, hangoverMs: 900 },
    "k",
  );
  const speech = FRAMES.slice(70, 340); // 1.5 s … 6.8 s: utterance 1 and some silence after
  const heap: number[] = [];
  for (let round = 0; round < 3; round++) {
    const sids = Array.from({ length: CALLS }, (_, i) => `CAmany${round}x${i}`);
    await Promise.all(sids.map((sid) => publishUlaw(tap.origin, sid, speech, { paceMs: 20 })));
    await fake.until(
      () => fake.connections.length === CALLS && fake.connections.every((c) => c.closedNow),
      `round ${round}: ${CALLS} streams closed`,
    );
    for (const sid of sids) assertEquals(finals(tap.events, sid).length, 1, sid);
    assertEquals(tap.origin.trackCount, 0, `round ${round}: every tapped track is gone`);
    // What the test itself keeps goes: the fake's recordings of each stream, events, logs.
    fake.connections.splice(0);
    tap.events.splice(0);
    tap.logs.splice(0);
    heap.push(heapAfterGc());
  }
  // Round 0 pays for what is made once (compiled code, pools); rounds 1 and 2 may only add
  // noise. A call's audio alone is 43 KB of µ-law (plus its PCM): kept per call, the 200 calls
  // of rounds 1-2 would add ≥ 8 MB.
  const perCall = (heap[2] - heap[0]) / (2 * CALLS);
  const mib = heap.map((h) => (h / 2 ** 20).toFixed(1));
  assertLess(
    perCall,
    RETAINED_PER_CALL_LIMIT,
    `heap after GC by round: ${mib.join(" → ")} MiB; ${perCall.toFixed(0)} B per call retained`,
  );
});
