import { assertEquals, assertLess, assertThrows } from "@std/assert";
import { decodeWav } from "../../src/codecs/wav.ts";
import { fixturePath } from "../_lib/fixtures.ts";
import { type SpeechEvent, VoiceActivityDetector } from "../../src/rtp/mod.ts";

Deno.test("VAD finds both speech starts of turns-8k.wav (1.5 s, ~8.0 s) within 0.2 s, one stop each", async () => {
  const { samples } = decodeWav(
    Deno.readFileSync(fixturePath("turns-8k.wav")),
  );
  using vad = await VoiceActivityDetector.create({ mode: 2 });
  const events: SpeechEvent[] = [];
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    const event = vad.process(samples.subarray(i, i + 160), (i / 8000) * 1e6);
    if (event) events.push(event);
  }
  const starts = events.filter((e) => e.type === "speech_start").map((e) => e.at / 1e6);
  const stops = events.filter((e) => e.type === "speech_stop").map((e) => e.at / 1e6);
  assertEquals(events.map((e) => e.type), [
    "speech_start",
    "speech_stop",
    "speech_start",
    "speech_stop",
  ]);
  assertLess(Math.abs(starts[0] - 1.5), 0.2, `first start ${starts[0]}`);
  assertLess(Math.abs(starts[1] - 8.0), 0.2, `second start ${starts[1]}`);
  assertLess(stops[0], starts[1]);
});

Deno.test("VAD rejects bad options and frame sizes; closing twice is a no-op", async () => {
  const vad = await VoiceActivityDetector.create();
  assertThrows(() => vad.process(new Int16Array(100), 0), RangeError);
  vad.close();
  vad.close();
  assertEquals(vad.process(new Int16Array(160), 0), undefined);
  await VoiceActivityDetector.create({ mode: 7 as 0 }).then(
    () => {
      throw new Error("accepted mode 7");
    },
    (error) => assertEquals(error instanceof RangeError, true),
  );
});
