/**
 * Interop: a bot built with the OpenAI Agents SDK's Twilio transport
 * (`@openai/agents-extensions` TwilioRealtimeTransportLayer + `RealtimeSession`), unchanged,
 * served as a Media Streams WebSocket; its model is the local Realtime server. The engine
 * must be a Twilio it cannot tell apart.
 */
import { assert, assertEquals } from "@std/assert";
import { TwilioRealtimeTransportLayer } from "@openai/agents-extensions";
import { RealtimeAgent, RealtimeSession } from "@openai/agents-realtime";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { startAgentServer } from "./_fixture.ts";
import { startRealtimeServer } from "./_realtime_server.ts";
import { feedUlaw, Recorder, rms, turns8k, ulaw } from "./_audio.ts";

Deno.test("the OpenAI Agents SDK's Twilio transport runs unchanged against the media-streams adapter: the caller reaches its Realtime model (r ≥ 0.9) and its reply reaches the caller (r ≥ 0.9)", async () => {
  const speech = turns8k();
  const reply = speech.subarray(8_000 * 8, 11_000 * 8);
  await using rt = startRealtimeServer({ reply: ulaw(reply) });
  const sessions: RealtimeSession[] = [];
  const connected = Promise.withResolvers<void>();
  await using bot = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.addEventListener("open", async () => {
      const transport = new TwilioRealtimeTransportLayer({ twilioWebSocket: socket as never });
      const session = new RealtimeSession(
        new RealtimeAgent({ name: "support", instructions: "Be brief." }),
        { transport },
      );
      sessions.push(session);
      await session.connect({ apiKey: "test-key", url: rt.url });
      connected.resolve();
    });
    return response;
  });
  await using fx = await startAgentServer({
    agents: { sdk: { type: "media-streams", url: `ws://127.0.0.1:${bot.addr.port}/media` } },
  });
  const { sid, caller } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "sdk" });
  await connected.promise;
  const conn = await rt.connection();
  // Utterance 1 and its silence: the Realtime server's VAD ends the turn and answers.
  await feedUlaw(caller, speech.subarray(0, 7_900 * 8));
  const first = await heard.next((f) => rms(f.pcm) > 1000);
  await heard.next((_, i) => i >= first + reply.length / 160 + 25, first);
  const down = bestLagCorrelation(reply, heard.timeline(Math.max(0, first - 25)), {
    maxLag: 16_000,
    minOverlap: reply.length - 800,
  });
  assert(down.r >= 0.9, `the caller heard the SDK bot's reply with r = ${down.r.toFixed(3)}`);
  const input = new Int16Array(conn.input.reduce((n, p) => n + p.length, 0));
  conn.input.reduce((at, p) => (input.set(p, at), at + p.length), 0);
  const up = bestLagCorrelation(speech.subarray(0, 7_000 * 8), input, {
    minLag: -16_000,
    maxLag: 16_000,
    minOverlap: 40_000,
  });
  assert(up.r >= 0.9, `the SDK's model heard the caller with r = ${up.r.toFixed(3)}`);
  assertEquals(conn.violations, []);
  await fx.voice.calls.hangup(sid);
  await heard.done;
  for (const s of sessions) s.close();
});
