import { assert, assertEquals } from "@std/assert";
import type { AgentEvent, InterruptionEvent, TurnEvent } from "../../src/sdk/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { feedUlaw, Recorder, rms, turns8k } from "./_audio.ts";
import { nowMicros } from "../../src/voice/track.ts";

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
  // When the turn end reaches us, read on the clock the fed frames are stamped with (the
  // event's own `at` is the server's wall clock, another clock: comparing the two failed once).
  const told = events.next(isTurnEnd).then((e) => ({ e, receivedUs: nowMicros() }));
  const fed = await feedUlaw(caller, first);
  const { e: end, receivedUs } = await told;
  const startedAt = (Date.parse(end.startedAt) * 1000 - fed) / 1e6;
  const endedAt = (Date.parse(end.endedAt!) * 1000 - fed) / 1e6;
  assert(Math.abs(startedAt - 1.5) <= 0.15, `turn started at ${startedAt} s`);
  // The utterance's last voiced 10 ms is at 6.10 s (energy); the turn ends there (±150 ms),
  // not at the 440 ms pause after "calling." (2.80–3.24 s).
  assert(Math.abs(endedAt - 6.1) <= 0.15, `turn ended at ${endedAt} s`);
  // Endpointing: told 500 ms (the default silence) after the last voiced frame, not before.
  assert(
    receivedUs / 1000 - Date.parse(end.endedAt!) >= 480,
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

Deno.test("module: a false interruption (a 200 ms burst over the echo) ducks the reply, then resumes it at full level; no interruption, the reply plays on", async () => {
  await using fx = await startAgentServer({
    agents: { echo: { type: "module", module: "builtin:echo" } },
  });
  const { sid, caller, events } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "echo" });
  const speech = turns8k();
  const utterance = speech.subarray(0, 7_900 * 8);
  await feedUlaw(caller, utterance);
  const replyStart = await heard.next((f) => rms(f.pcm) > 1000);
  await heard.next((_, i) => i >= replyStart + 75, replyStart);
  const turnsBefore = events.events.filter(isTurnEnd).length;
  // 200 ms of utterance 2's speech: a turn start and a barge-in onset, but less than the
  // 400 ms that commit an interruption.
  await feedUlaw(caller, speech.subarray(8_300 * 8, 8_500 * 8));
  await feedUlaw(caller, new Int16Array(8_000 * 1));
  const burst = await events.next((e): e is TurnEvent =>
    isTurnEnd(e) && events.events.filter(isTurnEnd).indexOf(e) === turnsBefore
  ) as TurnEvent;
  const onsetMs = Date.parse(burst.startedAt);
  const resumedMs = Date.parse(burst.at);
  // Over a second and a half of the reply after the burst was over.
  await heard.next((f) => f.timestamp / 1000 > resumedMs + 1_400, replyStart);
  assertEquals(events.events.filter((e) => e.type === "interruption"), []);

  // The reply as heard, each window aligned on the part of the turn it echoes (found by
  // correlation, so a frame the playout skipped under load does not shift the rest): its
  // gain is its level over the level of that part.
  const played = heard.timeline(replyStart - 20, 8000);
  const t0 = heard.frames[replyStart - 20].timestamp / 1000;
  // Where the reply starts in the turn it echoes (coarsely, over 2 s of it), then per window
  // exactly, within ±60 ms of that.
  const base = bestLagCorrelation(utterance.subarray(12_000, 28_000), played, {
    maxLag: 24_000,
    minOverlap: 16_000,
  });
  assert(base.r >= 0.9, `caller heard the echo with r = ${base.r.toFixed(3)}`);
  const gain = (fromMs: number, toMs: number) => {
    const from = Math.round((fromMs - t0) * 8);
    const got = played.subarray(from, Math.round((toMs - t0) * 8));
    if (got.length < 400 || rms(got) < 50) return undefined;
    const expected = from - base.lag + 12_000;
    const match = bestLagCorrelation(got, utterance, {
      minLag: Math.max(0, expected - 480),
      maxLag: Math.min(utterance.length - got.length, expected + 480),
      minOverlap: got.length,
      step: 1,
    });
    if (match.r < 0.8) return undefined;
    return rms(got) / rms(utterance.subarray(match.lag, match.lag + got.length));
  };
  // Ducked somewhere between the onset and the turn's end (the duck starts once the VAD
  // heard the onset and ends after a little silence), full level again after it.
  let ducked = Infinity;
  for (let ms = onsetMs; ms + 100 <= resumedMs; ms += 50) {
    ducked = Math.min(ducked, gain(ms, ms + 100) ?? Infinity);
  }
  // 200 ms windows (a frame the playout skipped under load shifts what follows).
  const resumedGains: number[] = [];
  for (let ms = resumedMs + 300; ms + 200 <= resumedMs + 1_300; ms += 200) {
    const g = gain(ms, ms + 200);
    if (g !== undefined) resumedGains.push(g);
  }
  resumedGains.sort((a, b) => a - b);
  const resumed = resumedGains.length >= 3 ? resumedGains[resumedGains.length >> 1] : undefined;
  assert(ducked < 0.5, `not ducked during the burst: gain ${ducked}`);
  assert(
    resumed !== undefined && resumed > 0.8 && resumed < 1.25,
    `not resumed at full level: gains ${resumedGains.map((g) => g.toFixed(2)).join(", ")}`,
  );
  await fx.voice.calls.hangup(sid);
  await heard.done;
});
