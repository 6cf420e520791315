import { assert, assertEquals } from "@std/assert";
import type { AgentEvent, CallJson as Call, TurnEvent } from "../../src/sdk/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { b64, botHeard, startTwilioBot } from "./_twilio_bot.ts";
import { feedUlaw, Recorder, rms, tone, turns8k, ulaw } from "./_audio.ts";

/** RMS per 10 ms (80 samples at 8 kHz). */
function envelope(pcm: Int16Array): Float64Array {
  const out = new Float64Array(Math.floor(pcm.length / 80));
  for (let i = 0; i < out.length; i++) out[i] = rms(pcm.subarray(i * 80, (i + 1) * 80));
  return out;
}

const isAgent = (state: AgentEvent["state"]) => (e: { type: string }): e is AgentEvent =>
  e.type === "agent" && (e as AgentEvent).state === state;

Deno.test("media-streams: a Twilio bot on a client: call gets connected/start/media as Twilio sends them, hears the caller (r ≥ 0.9), and its audio, marks and clear reach the caller as Twilio plays them", async () => {
  await using bot = startTwilioBot();
  await using fx = await startAgentServer({
    agents: { bot: { type: "media-streams", url: bot.url, parameters: { tier: "gold" } } },
  });
  const { sid, caller, events } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);

  // Bind over HTTP: 200 with the agent on the call; a second bind is 409; unknown is 404.
  const bind = (agent: string) =>
    fx.fetch(`/v1/calls/${sid}/agent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ agent, parameters: { lang: "en" } }),
    });
  const bound = await bind("bot");
  assertEquals(bound.status, 200);
  assertEquals(((await bound.json()) as Call).agent, "bot");
  assertEquals((await fx.voice.calls.get(sid)).agent.name, "bot");
  const again = await bind("bot");
  assertEquals(again.status, 409);
  assertEquals((await again.json()).type, "https://clutchcall.dev/problems/conflict");
  const unknown = await bind("nobody");
  assertEquals(unknown.status, 404);
  await unknown.body?.cancel();
  await events.next(isAgent("attached"));

  const conn = await bot.connection();
  const start = (await conn.next((m) => m.event === "start")).message;
  const s = start.start as Record<string, unknown>;
  assertEquals(s.callSid, sid);
  assertEquals(s.customParameters, { tier: "gold", lang: "en" });

  // The caller speaks turns-8k.wav; the bot must hear it, correlated.
  const speech = turns8k();
  const fed = await feedUlaw(caller, speech);
  // Once the engine heard the second turn end, a mark round trip flushes the media before it
  // (the engine sends on one ordered socket).
  await events.next((e) =>
    e.type === "turn" && (e as TurnEvent).state === "end" &&
    Date.parse((e as TurnEvent).startedAt) * 1000 - fed > 7_000_000
  );
  conn.send({ event: "mark", streamSid: s.streamSid, mark: { name: "sync" } });
  await conn.next((m) => m.event === "mark" && (m.mark as { name: string }).name === "sync");
  // Placed by their timestamps (ms since the stream's first frame), as a Twilio bot does.
  const up = bestLagCorrelation(speech, botHeard(conn, speech.length + 16000), {
    minLag: -8000,
    maxLag: 8000,
    minOverlap: 40000,
  });
  assert(up.r >= 0.9, `bot heard the caller with r = ${up.r.toFixed(3)}`);

  // Turn events: starts at 1.5 s and ~8.0 s of the fixture (±150 ms).
  const starts = events.events
    .filter((e): e is TurnEvent => e.type === "turn" && e.state === "start")
    .map((e) => (Date.parse(e.startedAt) * 1000 - fed) / 1e6);
  assert(Math.abs(starts[0] - 1.5) <= 0.15, `first turn at ${starts[0]} s`);
  assert(starts.some((t) => Math.abs(t - 8.0) <= 0.15), `turns at ${starts.join(", ")} s`);

  // The bot speaks: the first utterance in odd-sized chunks, a tone, then a mark.
  const reply = speech.subarray(12_000, 12_000 + 24_000);
  const replyUlaw = ulaw(reply);
  const before = heard.frames.length;
  for (let at = 0; at < replyUlaw.length; at += 1237) {
    conn.send({
      event: "media",
      streamSid: s.streamSid,
      media: { payload: b64(replyUlaw.subarray(at, at + 1237)) },
    });
  }
  conn.send({ event: "media", streamSid: s.streamSid, media: { payload: b64(ulaw(tone(1000))) } });
  conn.send({ event: "mark", streamSid: s.streamSid, mark: { name: "after-tone" } });
  const mark = await conn.next((m) =>
    m.event === "mark" && (m.mark as { name: string }).name === "after-tone"
  );
  assertEquals((mark.message.mark as { name: string }).name, "after-tone");
  // Everything queued before the mark had been played when it came back: the caller's last
  // frame of the tone was due (its slot + 20 ms) no later than the mark's arrival.
  const toneFrames = await heard.next((f) => rms(f.pcm) < 100, heard.frames.length - 1)
    .then(() =>
      heard.frames.map((f, i) => ({ f, i })).filter(({ f, i }) => i >= before && rms(f.pcm) > 2000)
    );
  const lastTone = toneFrames[toneFrames.length - 1].f;
  assert(
    lastTone.timestamp / 1000 + 20 <= mark.at + 1,
    `mark came back ${
      (lastTone.timestamp / 1000 + 20 - mark.at).toFixed(1)
    } ms before its audio was played`,
  );
  const down = bestLagCorrelation(reply, heard.timeline(before), {
    maxLag: 16000,
    minOverlap: 16000,
  });
  assert(down.r >= 0.9, `caller heard the bot with r = ${down.r.toFixed(3)}`);

  // clear: 3 s of tone, cut once the caller hears it; silent within 40 ms of the clear.
  const toneStart = heard.frames.length;
  conn.send({
    event: "media",
    streamSid: s.streamSid,
    media: { payload: b64(ulaw(tone(3000, 600))) },
  });
  conn.send({ event: "mark", streamSid: s.streamSid, mark: { name: "pending" } });
  const firstTone = await heard.next((f) => rms(f.pcm) > 2000, toneStart);
  await heard.next((_, i) => i >= firstTone + 10, firstTone);
  const clearedAt = performance.timeOrigin + performance.now();
  conn.send({ event: "clear", streamSid: s.streamSid });
  const echoed = await conn.next((m) =>
    m.event === "mark" && (m.mark as { name: string }).name === "pending"
  );
  assert(echoed.at >= clearedAt);
  const silentFrom = await heard.next((f) => f.timestamp / 1000 > clearedAt + 200, firstTone);
  let lastLoud = -Infinity;
  for (let i = firstTone; i < silentFrom; i++) {
    const f = heard.frames[i];
    for (let j = 0; j < f.pcm.length; j++) {
      if (Math.abs(f.pcm[j]) > 300) lastLoud = f.timestamp / 1000 + j / 8;
    }
  }
  assert(
    lastLoud - clearedAt <= 40,
    `downlink still playing ${(lastLoud - clearedAt).toFixed(1)} ms after clear`,
  );

  // Detach: the bot gets stop last; the call goes on without an agent.
  const detached = await fx.fetch(`/v1/calls/${sid}/agent`, { method: "DELETE" });
  assertEquals(detached.status, 200);
  assertEquals(((await detached.json()) as Call).agent, undefined);
  const stop = await conn.next((m) => m.event === "stop");
  assertEquals((stop.message.stop as { callSid: string }).callSid, sid);
  assertEquals(conn.received[conn.received.length - 1].message.event, "stop");
  const gone = await events.next(isAgent("detached"));
  assertEquals(gone.reason, "api");
  assertEquals((await fx.voice.calls.get(sid)).status, "in_progress");
  const twice = await fx.fetch(`/v1/calls/${sid}/agent`, { method: "DELETE" });
  assertEquals(twice.status, 409);
  await twice.body?.cancel();
  assertEquals(conn.violations, []);
  await fx.voice.calls.hangup(sid);
  await heard.done;
  assertEquals(fx.server.agentTables().bindings, 0);
});

Deno.test("media-streams over an Opus client: leg: the bot gets the caller transcoded to 8 kHz µ-law (r ≥ 0.9), and its µ-law reply reaches the Opus caller (r ≥ 0.9, loudness contour r ≥ 0.9)", async () => {
  await using bot = startTwilioBot();
  await using fx = await startAgentServer({
    agents: { bot: { type: "media-streams", url: bot.url } },
  });
  // The caller's application writes µ-law; its uplink track carries Opus (48 kHz).
  const { sid, caller } = await fx.liveCall("g711_ulaw", "opus");
  assertEquals((await fx.voice.calls.get(sid)).capabilities, ["voice/opus"]);
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "bot" });
  const conn = await bot.connection();
  const start = (await conn.next((m) => m.event === "start")).message;
  const streamSid = start.streamSid;
  assertEquals(
    (start.start as { mediaFormat: unknown }).mediaFormat,
    { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
  );

  const speech = turns8k().subarray(0, 7_000 * 8);
  await feedUlaw(caller, speech);
  conn.send({ event: "mark", streamSid, mark: { name: "sync" } });
  await conn.next((m) => m.event === "mark" && (m.mark as { name: string }).name === "sync");
  const up = bestLagCorrelation(speech, botHeard(conn, speech.length + 16_000), {
    minLag: -8000,
    maxLag: 8000,
    minOverlap: 40_000,
  });
  assert(up.r >= 0.9, `bot heard the Opus caller with r = ${up.r.toFixed(3)}`);

  const reply = speech.subarray(12_000, 36_000);
  const before = heard.frames.length;
  conn.send({ event: "media", streamSid, media: { payload: b64(ulaw(reply)) } });
  conn.send({ event: "mark", streamSid, mark: { name: "reply" } });
  await conn.next((m) => m.event === "mark" && (m.mark as { name: string }).name === "reply");
  // The frames up to the mark's slot plus the Opus path's delay (half a second more).
  const until = heard.frames.length + 25;
  await heard.next((_, i) => i >= until, before);
  // The waveform through µ-law → Opus → µ-law correlates as well as the uplink's (r ≈ 0.94).
  // (It once measured r = 0.25 here: bestLagCorrelation's 8-sample coarse grid missed the peak,
  // see tests/_lib/correlate_test.ts; the downlink was sound.) Its loudness contour (RMS per
  // 10 ms) is checked too.
  const got = heard.timeline(before);
  const wave = bestLagCorrelation(reply, got, {
    maxLag: got.length - reply.length,
    minOverlap: reply.length - 100,
  });
  assert(wave.r >= 0.9, `the Opus caller heard the bot's reply with r = ${wave.r.toFixed(3)}`);
  const env = envelope(reply);
  const heardEnv = envelope(got);
  const down = bestLagCorrelation(env, heardEnv, {
    maxLag: heardEnv.length - env.length,
    minOverlap: env.length - 10,
    step: 1,
  });
  assert(down.r >= 0.9, `the Opus caller heard the bot's contour with r = ${down.r.toFixed(3)}`);
  assertEquals(conn.violations, []);
  await fx.voice.calls.hangup(sid);
  await heard.done;
});
