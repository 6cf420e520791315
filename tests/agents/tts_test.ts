import { assert, assertEquals, assertRejects } from "@std/assert";
import { MAX_TEXT_CHARS, speak, ttsWorkers } from "../../src/agents/tts.ts";
import { synthesize } from "../../src/agents/tts_synth.ts";
import { startAgentServer } from "./_fixture.ts";
import { Recorder } from "./_audio.ts";

const LONG = "The quick brown fox jumps over the lazy dog, and then it runs away. ".repeat(12);

Deno.test("tts: a long speak() runs off the event loop — the caller's downlink keeps flowing (50 frames arrive before it finishes)", async () => {
  await using fx = await startAgentServer({
    agents: { echo: { type: "module", module: "builtin:echo" } },
  });
  const { sid, caller } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "echo" });
  // The agent's playout paces silence down to the caller every 20 ms: wait until it flows.
  await heard.next((_, i) => i >= 5);
  const before = heard.frames.length;
  let spoken: Int16Array | undefined;
  const speaking = speak(LONG, { sampleRate: 8000 }).then((pcm) => (spoken = pcm));
  // On the event loop, espeak-ng and the resampler held it for the whole synthesis (seconds
  // for this text): no frame could arrive until speak() had finished. In the Worker, the
  // downlink keeps arriving meanwhile.
  const winner = await Promise.race([
    heard.next((_, i) => i >= before + 50).then(() => "downlink" as const),
    speaking.then(() => "speak" as const),
  ]);
  assertEquals(
    winner,
    "downlink",
    `speak() finished after only ${heard.frames.length - before} downlink frames`,
  );
  assertEquals(spoken, undefined);
  await speaking;
  assert(spoken!.length > 8000 * 20, `spoke ${spoken!.length / 8000} s`);
  await fx.voice.calls.hangup(sid);
  await heard.done;
  assertEquals(ttsWorkers(), 0);
});

Deno.test("tts: the Worker speaks exactly what espeak-ng speaks in process (sample for sample)", async () => {
  const text = "Press one for sales.";
  const [worker, local] = await Promise.all([
    speak(text, { sampleRate: 16000 }),
    synthesize(text, { sampleRate: 16000 }),
  ]);
  assert(worker.length > 16000 * 0.5);
  assertEquals(worker.length, local.length);
  assertEquals(worker, local);
});

Deno.test("tts: bad requests reject with typed errors and leave no worker behind", async () => {
  await assertRejects(() => speak("x".repeat(MAX_TEXT_CHARS + 1)), RangeError);
  // Aborted before and while it runs: the worker is terminated, the abort's reason is thrown.
  await assertRejects(
    () => speak("Hello", {}, AbortSignal.abort(new Error("gone"))),
    Error,
    "gone",
  );
  const abort = new AbortController();
  const pending = speak(LONG, {}, abort.signal);
  abort.abort(new Error("detached"));
  await assertRejects(() => pending, Error, "detached");
  // Three at once: two run, one waits its turn; all finish.
  const three = await Promise.all(["one", "two", "three"].map((t) => speak(t)));
  assert(three.every((pcm) => pcm.length > 800));
  assertEquals(ttsWorkers(), 0);
});
