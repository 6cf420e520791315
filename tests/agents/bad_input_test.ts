import { assert, assertEquals } from "@std/assert";
import type { AgentEvent } from "../../src/sdk/mod.ts";
import { startAgentServer } from "./_fixture.ts";
import { b64, type BotConnection, startTwilioBot } from "./_twilio_bot.ts";
import { startRealtimeServer } from "./_realtime_server.ts";
import { feedUlaw, Recorder, rms, tone, ulaw } from "./_audio.ts";

/** What each misbehaving bot does once it got `start`. */
const MISBEHAVIOUR: Record<
  string,
  (conn: BotConnection, streamSid: string) => void | Promise<void>
> = {
  garbage: (conn) => conn.sendRaw("{not json"),
  huge: (conn) =>
    conn.sendRaw(JSON.stringify({ event: "media", media: { payload: "A".repeat(10 << 20) } })),
  binary: (conn) => conn.sendRaw(new Uint8Array([1, 2, 3])),
  badbase64: (conn, streamSid) =>
    conn.send({ event: "media", streamSid, media: { payload: "%%%" } }),
  closes: (conn) => conn.close(1011),
};

Deno.test("bad bots: garbage JSON, a 10 MB message, binary frames, bad base64, a bot closing mid-call, an unreachable bot and an erroring Realtime server each end only their agent (agent failed, with why); the calls go on and a healthy agent call never notices; odd payloads play and 100,000 marks are all echoed", async () => {
  const bot = startTwilioBot((conn) => {
    conn.next((m) => m.event === "start").then(({ message }) => {
      const start = message.start as { streamSid: string; customParameters: { mode: string } };
      const mode = start.customParameters.mode;
      if (mode === "marks") {
        // 100,000 marks: each echoed once its (empty) audio has played; nothing fails.
        (async () => {
          for (let i = 0; i < 100_000; i++) {
            conn.send({ event: "mark", streamSid: start.streamSid, mark: { name: `m${i}` } });
            if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
          }
        })();
        return;
      }
      if (mode === "odd") {
        // Odd-sized and not-really-µ-law payloads are played, not refused (any byte is µ-law).
        const noise = crypto.getRandomValues(new Uint8Array(1601));
        conn.send({ event: "media", streamSid: start.streamSid, media: { payload: b64(noise) } });
        conn.send({
          event: "media",
          streamSid: start.streamSid,
          media: { payload: b64(ulaw(tone(333))) },
        });
        return;
      }
      MISBEHAVIOUR[mode]?.(conn, start.streamSid);
    });
  });
  await using _bot = bot;
  await using rt = startRealtimeServer({ reply: ulaw(tone(500)) });
  const agents: Record<string, unknown> = {
    healthy: { type: "media-streams", url: bot.url, parameters: { mode: "healthy" } },
    odd: { type: "media-streams", url: bot.url, parameters: { mode: "odd" } },
    marks: { type: "media-streams", url: bot.url, parameters: { mode: "marks" } },
    unreachable: { type: "media-streams", url: "ws://127.0.0.1:9/nobody" },
    rterror: { type: "openai-realtime", url: rt.url },
  };
  for (const mode of Object.keys(MISBEHAVIOUR)) {
    agents[mode] = { type: "media-streams", url: bot.url, parameters: { mode } };
  }
  await using fx = await startAgentServer({ agents });

  // The healthy call: its bot must keep getting every 20 ms frame throughout.
  const healthy = await fx.liveCall("g711_ulaw");
  await fx.voice.agents.attach({ sid: healthy.sid, agent: "healthy" });
  const feeding = new AbortController();
  const fed = feedUlaw(healthy.caller, tone(60_000, 300, 3000), feeding.signal);
  const healthyBot = await bot.connection(0);
  await healthyBot.next((m) => m.event === "media");

  const reasons: Record<string, string> = {};
  const heapBefore = Deno.memoryUsage().heapUsed;
  for (const mode of [...Object.keys(MISBEHAVIOUR), "unreachable", "rterror"]) {
    const { sid, events } = await fx.liveCall("g711_ulaw");
    await fx.voice.agents.attach({ sid, agent: mode });
    if (mode === "rterror") {
      const conn = await rt.connection();
      await conn.next((m) => m.type === "session.update");
      conn.send({
        type: "error",
        error: { type: "server_error", code: "server_error", message: "The server had an error" },
      });
    }
    const failed = await events.next((e): e is AgentEvent =>
      e.type === "agent" && (e as AgentEvent).state === "failed"
    ) as AgentEvent;
    reasons[mode] = failed.reason ?? "";
    const call = await fx.voice.calls.get(sid);
    assertEquals(call.status, "in_progress", `${mode}: the call survives`);
    assertEquals(call.agent.name, undefined, `${mode}: the failed agent is unbound`);
    await fx.voice.calls.hangup(sid);
  }
  assert(/invalid JSON/.test(reasons.garbage), reasons.garbage);
  assert(/10485\d+-byte message/.test(reasons.huge), reasons.huge);
  assert(/binary frame/.test(reasons.binary), reasons.binary);
  assert(/not base64/.test(reasons.badbase64), reasons.badbase64);
  assert(/closed the connection \(code 1011/.test(reasons.closes), reasons.closes);
  assert(/cannot open agent/.test(reasons.unreachable), reasons.unreachable);
  assert(/server_error: The server had an error/.test(reasons.rterror), reasons.rterror);

  // Odd payloads are played; the agent stays.
  const odd = await fx.liveCall("g711_ulaw");
  const oddIndex = bot.connections.length;
  await fx.voice.agents.attach({ sid: odd.sid, agent: "odd" });
  await bot.connection(oddIndex);
  const oddHeard = new Recorder(odd.caller);
  await oddHeard.next((f) => rms(f.pcm) > 1000);
  assertEquals((await fx.voice.calls.get(odd.sid)).agent.name, "odd");

  const marked = await fx.liveCall("g711_ulaw");
  const marksIndex = bot.connections.length;
  await fx.voice.agents.attach({ sid: marked.sid, agent: "marks" });
  const marksBot = await bot.connection(marksIndex);
  await marksBot.next((m) => m.event === "mark" && (m.mark as { name: string }).name === "m99999");
  assertEquals(marksBot.received.filter((r) => r.message.event === "mark").length, 100_000);
  assertEquals((await fx.voice.calls.get(marked.sid)).agent.name, "marks");
  await fx.voice.calls.hangup(marked.sid);

  // The healthy call's bot got its frames in order, none missing, while all that happened.
  feeding.abort();
  await fed;
  const chunks = healthyBot.received.filter((r) => r.message.event === "media")
    .map((r) => Number((r.message.media as { chunk: string }).chunk));
  chunks.forEach((c, i) => assertEquals(c, i + 1));
  assertEquals(healthyBot.violations, []);
  assertEquals((await fx.voice.calls.get(healthy.sid)).agent.name, "healthy");
  const heapGrowth = Deno.memoryUsage().heapUsed - heapBefore;
  console.log(`heap growth over the bad bots: ${(heapGrowth / 2 ** 20).toFixed(1)} MiB`);
  await fx.voice.calls.hangup(healthy.sid);
  await fx.voice.calls.hangup(odd.sid);
});
