import { assert, assertEquals } from "@std/assert";
import { beep, CallerRecording, type RecordOptions } from "../../src/agents/fonoster_record.ts";
import type { AgentLink } from "../../src/agents/adapter.ts";
import { tone } from "./_audio.ts";

/** A link whose recordings go to memory and whose playout plays at once. */
function memoryLink() {
  const written: Int16Array[] = [];
  const played: string[] = [];
  let closes = 0;
  const link: Pick<AgentLink, "play" | "mark" | "record"> = {
    play: (_audio, item) => void played.push(item ?? ""),
    mark: (_name, onPlayed) => (queueMicrotask(() => onPlayed(false)), true),
    record: (name) =>
      Promise.resolve({
        path: `/mem/${name}.wav`,
        writer: {
          append: (samples: Int16Array) => Promise.resolve(void written.push(samples.slice())),
          get dataBytes() {
            return written.reduce((n, s) => n + s.length * 2, 0);
          },
          close: () => Promise.resolve(void closes++),
        },
      }),
  };
  const samples = () => {
    const out = new Int16Array(written.reduce((n, s) => n + s.length, 0));
    written.reduce((at, s) => (out.set(s, at), at + s.length), 0);
    return out;
  };
  return { link, played, samples, closes: () => closes };
}

async function record(options: RecordOptions, frames: Int16Array[], digit?: [number, string]) {
  const mem = memoryLink();
  const recording = await CallerRecording.start(mem.link, "abcdefghij", options);
  frames.forEach((frame, i) => {
    recording.audio(frame);
    if (digit?.[0] === i) recording.digit(digit[1]);
  });
  const result = await recording.close();
  return { ...mem, result, audio: mem.samples() };
}

const frames = (pcm: Int16Array) =>
  Array.from({ length: pcm.length / 160 }, (_, i) => pcm.subarray(i * 160, (i + 1) * 160));

Deno.test("record maxDuration cuts the caller's audio at exactly that many seconds", async () => {
  const speech = tone(3_000);
  const { result, audio, closes } = await record({ maxDuration: 2 }, frames(speech));
  assertEquals([result.end, result.duration, result.samples], ["max_duration", 2, 16_000]);
  assertEquals(audio, speech.subarray(0, 16_000));
  assertEquals(closes(), 1);
});

Deno.test("record maxSilence ends after that much silence and keeps only 200 ms of it; silence shorter than that stays in the file", async () => {
  const gap = new Int16Array(4_000); // 0.5 s
  const long = new Int16Array(16_000); // 2 s
  const pcm = Int16Array.from([...tone(1_000), ...gap, ...tone(1_000), ...long, ...tone(1_000)]);
  const { result, audio } = await record({ maxSilence: 1 }, frames(pcm));
  assertEquals(result.end, "silence");
  // 1 s tone, the 0.5 s gap, 1 s tone, 200 ms of the long silence; the last tone never came in.
  assertEquals(audio.length, 8_000 + 4_000 + 8_000 + 1_600);
  assertEquals(audio.subarray(0, 20_000), pcm.subarray(0, 20_000));
  assertEquals(result.duration, 2);
});

Deno.test("record finishOnKey: the key ends it, another digit does not; the recording ends with the call otherwise", async () => {
  const pcm = tone(2_000);
  const keyed = await record({ finishOnKey: "#" }, frames(pcm), [49, "#"]);
  assertEquals([keyed.result.end, keyed.audio.length], ["key", 50 * 160]);
  const other = await record({ finishOnKey: "#" }, frames(pcm), [49, "5"]);
  assertEquals([other.result.end, other.audio.length], ["closed", pcm.length]);
});

Deno.test("record beep: the beep is played and heard to its end before the first sample is taken", async () => {
  const mem = memoryLink();
  const recording = await CallerRecording.start(mem.link, "abcdefghij", { beep: true });
  assertEquals(mem.played, ["beep-abcdefghij"]);
  recording.audio(tone(20));
  const result = await recording.close();
  assertEquals(result.samples, 160);
  assert(beep().some((s) => s > 7_000));
});
