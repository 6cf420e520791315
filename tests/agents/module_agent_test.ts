import { assert, assertEquals } from "@std/assert";
import type { AgentEvent, InterruptionEvent, TurnEvent } from "../../src/sdk/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { feedUlaw, Recorder, rms, turns8k } from "./_audio.ts";

const isTurnEnd = (e: { type: string }): e is TurnEvent =>
  e.type === "turn" && (e as TurnEvent).state === "end";

Deno.test("module: builtin:echo repeats the caller's turn after endpointing, and a barge-in ducks, then cuts the reply within a frame and reports what was played", async () => {
  await using fx = await startAgentServer({
    agents: { echo: { type: "module", module: "builtin:echo" } },
  });
  const { sid, caller, events } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  const attached = await fx.voice.agents.attach({ sid, agent: "echo" });
  assertEquals(attached.agent, "echo");
  await events.next((e) => e.type === "agent" && (e as AgentEvent).state === "attached");

  // Utterance 1 (1.5–6.5 s of the fixture) and 1.4 s of its silence.
  const speech = turns8k();
  const first = speech.subarray(0, 7_900 * 8);
  const fed = await feedUlaw(caller, first);
  const end = await events.next(isTurnEnd);
  const startedAt = (Date.parse(end.startedAt) * 1000 - fed) / 1e6;
  const endedAt = (Date.parse(end.endedAt!) * 1000 - fed) / 1e6;
  assert(Math.abs(startedAt - 1.5) <= 0.15, `turn started at ${startedAt} s`);
  // The utterance's last voiced 10 ms is at 6.10 s (energy); the turn ends there (±150 ms),
  // not at the 440 ms pause after "calling." (2.80–3.24 s).
  assert(Math.abs(endedAt - 6.1) <= 0.15, `turn ended at ${endedAt} s`);
  // Endpointing: told 500 ms (the default silence) after the last voiced frame, not before.
  assert(
    Date.parse(end.at) - Date.parse(end.endedAt!) >= 480,
    "turn end came before 500 ms of silence",
  );

  // The echo plays the turn back: the caller hears utterance 1, correlated.
  const replyStart = await heard.next((f) => rms(f.pcm) > 1000);
  const replyFrom = Math.max(0, replyStart - 20);
  await heard.next((_, i) => i >= replyStart + 100, replyStart);
  // Barge-in: two seconds into the reply the caller speaks utterance 2.
  const interrupting = feedUlaw(caller, speech.subarray(7_900 * 8, 13_000 * 8));
  const cut = await events.next((e): e is InterruptionEvent =>
    e.type === "interruption"
  ) as InterruptionEvent;
  await interrupting;
  assert(cut.playedMs > 2_000 && cut.playedMs < 5_500, `played ${cut.playedMs} ms before the cut`);
  assert((cut.heardMs ?? 0) >= 400, `heard ${cut.heardMs} ms before committing`);
  const cutAt = Date.parse(cut.at);
  // The downlink is silent within a frame and the fade (≤ 40 ms) of the cut. Frames are
  // dated by their playout slot: look at the ones after the cut was committed.
  const after = await heard.next((f) => f.timestamp / 1000 > cutAt + 300, replyStart);
  let lastLoud = -Infinity;
  for (let i = replyStart; i < after; i++) {
    const f = heard.frames[i];
    if (f.timestamp / 1000 + 20 < cutAt) continue;
    for (let j = 0; j < f.pcm.length; j++) {
      if (Math.abs(f.pcm[j]) > 500) lastLoud = f.timestamp / 1000 + j / 8;
    }
  }
  assert(
    lastLoud - cutAt <= 40,
    `downlink still loud ${(lastLoud - cutAt).toFixed(1)} ms after the cut`,
  );
  // Ducked between onset and commit: the frames in that window are quieter than before it.
  const onsetMs = Date.parse(cut.at) - (cut.heardMs ?? 0);
  const window = heard.frames.filter((f) =>
    f.timestamp / 1000 > onsetMs + 100 && f.timestamp / 1000 < cutAt - 20
  );
  const before = heard.frames.filter((f) =>
    f.timestamp / 1000 > onsetMs - 600 && f.timestamp / 1000 < onsetMs - 100
  );
  const level = (fs: { pcm: Int16Array }[]) => Math.max(...fs.map((f) => rms(f.pcm)));
  assert(level(window) < level(before) * 0.5, `not ducked: ${level(window)} vs ${level(before)}`);

  // (After the timing-sensitive part: this search blocks the event loop for a while.)
  const echoed = bestLagCorrelation(
    // The first 1.5 s of the turn: all of it was played before the barge-in.
    speech.subarray(12_000, 12_000 + 12_000),
    heard.timeline(replyFrom, 8000).subarray(0, 8_000 * 3),
    { maxLag: 12_000, minOverlap: 12_000 },
  );
  assert(echoed.r >= 0.9, `caller heard the echo with r = ${echoed.r.toFixed(3)}`);

  await fx.voice.agents.detach(sid);
  const detached = await events.next((e) =>
    e.type === "agent" && (e as AgentEvent).state === "detached"
  );
  assertEquals((detached as AgentEvent).reason, "api");
  await fx.voice.calls.hangup(sid);
  await heard.done;
  assertEquals(fx.server.agentTables().bindings, 0);
});
