import { assert } from "@std/assert";
import { speak } from "../../src/agents/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { Recorder, rms } from "./_audio.ts";
import { REPLY } from "./_pcm8k_agent.ts";

/** Records the caller's downlink from the first loud frame until `samples` more were heard. */
async function heardReply(heard: Recorder, samples: number): Promise<Int16Array> {
  const first = await heard.next((f) => rms(f.pcm) > 300);
  const from = Math.max(0, first - 25);
  await heard.next((_, i) => i >= first + samples / 160 + 25, first);
  return heard.timeline(from, 8000);
}

Deno.test("module: a PCM16 8 kHz agent's reply reaches a µ-law caller as sent (r ≥ 0.9)", async () => {
  await using fx = await startAgentServer({
    agents: {
      pcm8k: {
        type: "module",
        module: new URL("./_pcm8k_agent.ts", import.meta.url).href,
      },
    },
  });
  const { sid, caller } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "pcm8k" });
  const got = await heardReply(heard, REPLY.length);
  const c = bestLagCorrelation(REPLY, got, { maxLag: 8_000, minOverlap: REPLY.length - 800 });
  assert(c.r >= 0.9, `caller heard the reply with r = ${c.r.toFixed(3)} (lag ${c.lag})`);
  await fx.voice.calls.hangup(sid);
  await heard.done;
});

Deno.test("module: builtin:ivr's spoken prompt reaches the caller as the TTS speaks it (r ≥ 0.9)", async () => {
  const prompt = "Press one for sales, or nine to hang up.";
  await using fx = await startAgentServer({
    agents: { menu: { type: "module", module: "builtin:ivr", options: { prompt } } },
  });
  // The reference is spoken before the prompt plays. (When the TTS ran on the server's event
  // loop, speaking during playout stalled every call's downlink: 480 and 660 ms gaps, r =
  // 0.09-0.18. It runs in a Worker now; tests/agents/tts_test.ts proves the downlink flows.)
  const spoken = await speak(prompt, { sampleRate: 8000 });
  const { sid, caller } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "menu" });
  const got = await heardReply(heard, spoken.length);
  const c = bestLagCorrelation(spoken, got, { maxLag: 8_000, minOverlap: spoken.length - 800 });
  assert(c.r >= 0.9, `caller heard the prompt with r = ${c.r.toFixed(3)} (lag ${c.lag})`);
  await fx.voice.calls.hangup(sid);
  await heard.done;
});
