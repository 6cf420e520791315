import { assert, assertEquals } from "@std/assert";
import { decodeAlaw, encodeAlaw } from "../../src/codecs/g711.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { callerArgs, haveSipp, sipp } from "../sip/_harness.ts";
import { alawFrames, rtpPcap, uacScenario } from "../plugins/asr-tap/_sipp.ts";
import { startAgentServer } from "./_fixture.ts";
import { startRealtimeServer } from "./_realtime_server.ts";
import { turns8k } from "./_audio.ts";
import { inboundToAgent } from "./_sip.ts";

Deno.test("openai-realtime over a PCMA sipp leg: session.update asks for audio/pcma (the leg's own G.711, untranscoded), the caller's A-law is appended (r ≥ 0.9), and the server's reply goes down the SIP leg as A-law (r ≥ 0.9)", async () => {
  if (!haveSipp()) return;
  const speech = turns8k();
  // The server's reply (after its VAD heard utterance 1 end): 2 s of utterance 2, A-law.
  const reply = speech.subarray(8_000 * 8, 10_000 * 8);
  await using rt = startRealtimeServer({ reply: encodeAlaw(reply) });
  await using fx = await startAgentServer({
    agents: {
      rt: { type: "openai-realtime", url: rt.url, turnDetection: { type: "server_vad" } },
    },
    sip: inboundToAgent("rt"),
  });
  const sipPort = fx.server.sipPort!;
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-agents-sipp-rt-" });
  await Deno.writeFile(`${dir}/turns.pcap`, rtpPcap(alawFrames(speech), 0x3333, 8));
  await Deno.writeTextFile(
    `${dir}/uac.xml`,
    uacScenario(`${dir}/turns.pcap`, 14_500, { codec: "PCMA" }),
  );
  const calling = sipp(callerArgs(sipPort, ["-sf", `${dir}/uac.xml`]), 90_000);
  try {
    // The agent connected: the call is up; read what its downlink carries to the SIP leg.
    const conn = await rt.connection();
    const { calls } = await fx.voice.calls.list({});
    assertEquals(calls.length, 1);
    const sid = calls[0].sid;
    const downlink = await fx.moq.subscribe(["voice", sid], "downlink");
    const sent: Int16Array[] = [];
    const reading = (async () => {
      for (let group = await downlink.nextGroup(); group; group = await downlink.nextGroup()) {
        for (let o = await group.readObject(); o; o = await group.readObject()) {
          sent.push(decodeAlaw(o.payload));
        }
      }
    })();
    const result = await calling;
    assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
    await reading;

    const update = (await conn.next((m) => m.type === "session.update")).message;
    // deno-lint-ignore no-explicit-any -- a JSON message, checked field by field
    const session = update.session as Record<string, any>;
    assertEquals(session.audio.input.format, { type: "audio/pcma" });
    assertEquals(session.audio.output.format, { type: "audio/pcma" });
    assertEquals(conn.violations, []);
    assertEquals((await fx.voice.calls.get(sid)).capabilities[0], "voice/g711_alaw");

    // What the server was appended: the caller's A-law as sipp sent it.
    const input = new Int16Array(conn.input.reduce((n, p) => n + p.length, 0));
    conn.input.reduce((at, p) => (input.set(p, at), at + p.length), 0);
    const up = bestLagCorrelation(speech, input, {
      minLag: -16_000,
      maxLag: 16_000,
      minOverlap: 40_000,
    });
    assert(up.r >= 0.9, `the realtime server heard the caller with r = ${up.r.toFixed(3)}`);

    // What went down the leg: the reply, untranscoded A-law.
    const down = new Int16Array(sent.reduce((n, p) => n + p.length, 0));
    sent.reduce((at, p) => (down.set(p, at), at + p.length), 0);
    const c = bestLagCorrelation(reply, down, {
      maxLag: Math.max(0, down.length - reply.length),
      minOverlap: reply.length - 800,
    });
    assert(c.r >= 0.9, `the SIP leg was sent the reply with r = ${c.r.toFixed(3)}`);
  } finally {
    // Waits for sipp either way; its outcome was asserted above (or the test already failed).
    await calling.then(() => {}, (error) => console.error("sipp failed:", error));
    await Deno.remove(dir, { recursive: true });
  }
});
