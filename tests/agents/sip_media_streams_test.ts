import { assert, assertEquals } from "@std/assert";
import type { Call } from "../../src/sdk/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { callerArgs, haveSipp, sipp } from "../sip/_harness.ts";
import { alawFrames, rtpPcap, uacScenario } from "../plugins/asr-tap/_sipp.ts";
import { startAgentServer } from "./_fixture.ts";
import { b64, botHeard, startTwilioBot } from "./_twilio_bot.ts";
import { turns8k, ulaw } from "./_audio.ts";
import { inboundToAgent, recordRtp } from "./_sip.ts";

Deno.test("media-streams over a PCMA sipp leg: the bot gets µ-law transcoded from the caller's A-law (r ≥ 0.9) and a dtmf message for the caller's RFC 4733 digit; its reply reaches sipp's media port as A-law (r ≥ 0.9); stop at the BYE", async () => {
  if (!haveSipp()) return;
  const speech = turns8k();
  // The bot's reply: 3 s of the fixture's first utterance, sent as soon as the stream starts.
  const reply = speech.subarray(12_000, 36_000);
  await using bot = startTwilioBot((conn) => {
    conn.next((m) => m.event === "start").then(({ message }) => {
      conn.send({
        event: "media",
        streamSid: message.streamSid,
        media: { payload: b64(ulaw(reply)) },
      });
      conn.send({ event: "mark", streamSid: message.streamSid, mark: { name: "reply" } });
    });
  });
  await using fx = await startAgentServer({
    agents: { bot: { type: "media-streams", url: bot.url } },
    sip: inboundToAgent("bot"),
  });
  const sipPort = fx.server.sipPort!;
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-agents-sipp-" });
  const media = recordRtp(8);
  try {
    await Deno.writeFile(`${dir}/turns.pcap`, rtpPcap(alawFrames(speech), 0x2222, 8));
    await Deno.writeTextFile(
      `${dir}/uac.xml`,
      uacScenario(`${dir}/turns.pcap`, 14_500, {
        codec: "PCMA",
        recordPort: true,
        dtmfPcap: "/usr/share/sip-tester/dtmf_2833_5.pcap",
        // Silent while the bot's reply plays: the gateway sends to the SDP's port (ours) until
        // it learns sipp's own source from its first packets.
        leadMs: 4_000,
      }),
    );
    const result = await sipp(
      callerArgs(sipPort, ["-sf", `${dir}/uac.xml`, "-set", "rec_port", String(media.port)]),
      90_000,
    );
    assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const heard = await media.stop();

  const conn = await bot.connection();
  // The caller hung up: the bot's last message is stop, for that call.
  const stop = await conn.next((m) => m.event === "stop");
  const { calls } = await fx.voice.calls.list({});
  assertEquals(calls.length, 1);
  const call: Call = await fx.voice.calls.get(calls[0].sid);
  assertEquals([call.status, call.capabilities[0]], ["completed", "voice/g711_alaw"]);
  assertEquals((stop.message.stop as { callSid: string }).callSid, call.sid);
  assertEquals(conn.received[conn.received.length - 1].message.event, "stop");
  const start = conn.received[1].message.start as Record<string, unknown>;
  assertEquals(start.callSid, call.sid);
  assertEquals(start.mediaFormat, { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 });
  assertEquals(conn.violations, []);

  // The digit sipp pressed (RFC 4733 from its pcap) reached the bot as Twilio's dtmf message.
  const dtmf = conn.received.filter((r) => r.message.event === "dtmf")
    .map((r) => r.message.dtmf);
  assertEquals(dtmf, [{ track: "inbound_track", digit: "5" }]);

  // What the bot heard, placed by its timestamps: the caller's A-law, as µ-law.
  const up = bestLagCorrelation(speech, botHeard(conn, speech.length + 16_000), {
    minLag: -8000,
    maxLag: 8000,
    minOverlap: 40_000,
  });
  assert(up.r >= 0.9, `the bot heard the caller with r = ${up.r.toFixed(3)}`);
  // The mark came back once the reply had played.
  await conn.next((m) => m.event === "mark" && (m.mark as { name: string }).name === "reply");

  // What sipp's media port was sent: the bot's reply, as A-law.
  const down = bestLagCorrelation(reply, heard, {
    maxLag: Math.max(0, heard.length - reply.length),
    minOverlap: reply.length - 800,
  });
  assert(down.r >= 0.9, `the caller was sent the bot's reply with r = ${down.r.toFixed(3)}`);
});
