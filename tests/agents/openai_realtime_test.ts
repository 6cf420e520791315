import { assert, assertEquals } from "@std/assert";
import type { AgentEvent, InterruptionEvent } from "../../src/sdk/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { startRealtimeServer } from "./_realtime_server.ts";
import { feedUlaw, Recorder, rms, tone, turns8k, ulaw } from "./_audio.ts";

Deno.test("openai-realtime: session.update as configured, the caller's G.711 appended untranscoded, the reply played, and a barge-in cancels and truncates at what the caller actually heard (±40 ms)", async () => {
  await using rt = startRealtimeServer({ reply: ulaw(tone(4000, 500)) });
  Deno.env.set("RT_TEST_AUTH", "Bearer test-token");
  await using fx = await startAgentServer({
    agents: {
      rt: {
        type: "openai-realtime",
        url: rt.url,
        model: "gpt-realtime",
        instructions: "Be brief.",
        voice: "marin",
        headersFromEnv: { Authorization: "RT_TEST_AUTH" },
        turnDetection: { type: "server_vad", silence_duration_ms: 800 },
      },
    },
  });
  const { sid, caller, events } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "rt" });
  const conn = await rt.connection();
  assertEquals(conn.headers.get("authorization"), "Bearer test-token");
  assertEquals(new URL(conn.url).searchParams.get("model"), "gpt-realtime");
  const update = (await conn.next((m) => m.type === "session.update")).message;
  assertEquals(conn.received[0].message.type, "session.update");
  // deno-lint-ignore no-explicit-any -- a JSON message, checked field by field below
  const session = update.session as Record<string, any>;
  assertEquals(session.instructions, "Be brief.");
  assertEquals(session.audio.input.format, { type: "audio/pcmu" });
  assertEquals(session.audio.output.format, { type: "audio/pcmu" });
  assertEquals(session.audio.output.voice, "marin");
  assertEquals(session.audio.input.turn_detection, {
    type: "server_vad",
    silence_duration_ms: 800,
  });

  // Utterance 1; the server's VAD ends the turn and the reply (a 4 s tone) plays.
  const speech = turns8k();
  await feedUlaw(caller, speech.subarray(0, 7_900 * 8));
  const first = await heard.next((f) => rms(f.pcm) > 2000);
  // After a second of it, the caller talks over it (utterance 2).
  await heard.next((_, i) => i >= first + 50, first);
  const talking = feedUlaw(caller, speech.subarray(7_900 * 8, 10_000 * 8));
  const cancel = await conn.next((m) => m.type === "response.cancel");
  const truncate = await conn.next((m) => m.type === "conversation.item.truncate");
  assert(cancel.at <= truncate.at);
  const cut = await events.next((e): e is InterruptionEvent =>
    e.type === "interruption"
  ) as InterruptionEvent;
  await talking;
  const audioEndMs = truncate.message.audio_end_ms as number;
  assertEquals(cut.playedMs, audioEndMs);

  // What the caller heard of the reply, measured in its audio: the samples from the first
  // loud one to the last (counted in samples, so a late timer's gap in the timeline counts
  // as nothing played).
  const settled = await heard.next((f) => f.timestamp / 1000 > truncate.at + 300, first);
  let firstLoud = -1;
  let lastLoud = -1;
  let position = 0;
  for (let i = Math.max(0, first - 1); i < settled; i++) {
    const f = heard.frames[i];
    for (let j = 0; j < f.pcm.length; j++, position++) {
      if (Math.abs(f.pcm[j]) > 1000) {
        if (firstLoud < 0) firstLoud = position;
        lastLoud = position;
      }
    }
  }
  const heardMs = (lastLoud - firstLoud) / 8;
  assert(
    Math.abs(heardMs - audioEndMs) <= 40,
    `truncate says ${audioEndMs} ms, the caller heard ${heardMs.toFixed(1)} ms`,
  );
  assert(audioEndMs > 900 && audioEndMs < 3500, `played ${audioEndMs} ms`);

  // (After the timing-sensitive part: this search blocks the event loop for a while.)
  const appended = new Int16Array(conn.input.reduce((n, p) => n + p.length, 0));
  conn.input.reduce((at, p) => (appended.set(p, at), at + p.length), 0);
  const up = bestLagCorrelation(speech.subarray(0, 7_000 * 8), appended, {
    minLag: -8000,
    maxLag: 8000,
    minOverlap: 40000,
  });
  assert(up.r >= 0.9, `the server heard the caller with r = ${up.r.toFixed(3)}`);

  await fx.voice.agents.detach(sid);
  const detached = await events.next((e) =>
    e.type === "agent" && (e as AgentEvent).state === "detached"
  );
  assertEquals((detached as AgentEvent).reason, "api");
  assertEquals(conn.violations, []);
  await fx.voice.calls.hangup(sid);
  await heard.done;
});
