import { assert, assertEquals } from "@std/assert";
import { speak } from "../../src/agents/mod.ts";
import { decodeAlaw } from "../../src/codecs/g711.ts";
import { isRtcpPacket, parseRtp } from "../../src/rtp/packet.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { callerArgs, freeUdpPort, haveSipp, scenario, sipp } from "../sip/_harness.ts";
import { startAgentServer } from "./_fixture.ts";

const PROMPT = "Press nine to hang up.";

Deno.test("PSTN call into builtin:ivr: sipp → inbound route {agent} → the prompt reaches the caller's media port (correlated with the TTS), digit 9 (RFC 4733 from sipp's pcap) hangs up", async () => {
  if (!haveSipp()) return;
  const sipPort = freeUdpPort();
  await using fx = await startAgentServer({
    agents: {
      menu: {
        type: "module",
        module: "builtin:ivr",
        options: { prompt: PROMPT, digits: { "9": { hangup: true } } },
      },
    },
    sip: {
      listen: { host: "127.0.0.1", port: sipPort },
      publicAddress: "127.0.0.1",
      trunks: [{ name: "loop", address: "127.0.0.1:5999", allowFrom: ["127.0.0.1"] }],
      inbound: [{ match: "*", action: { agent: "menu" } }],
    },
  });
  // The caller's SDP names this socket as its media port: it records every RTP packet the
  // gateway sends the caller (sipp itself only sends, from -mp: the digit).
  const media = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const recPort = (media.addr as Deno.NetAddr).port;
  const received: { seq: number; pcm: Int16Array }[] = [];
  const recording = (async () => {
    try {
      for (;;) {
        const [bytes] = await media.receive();
        if (isRtcpPacket(bytes)) continue;
        const packet = parseRtp(bytes);
        if (packet.payloadType === 8) {
          received.push({ seq: packet.sequenceNumber, pcm: decodeAlaw(packet.payload) });
        }
      }
    } catch (error) {
      // Closed: the test is done.
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        throw error;
      }
    }
  })();
  // After 6 s sipp presses 9 and waits for the IVR's BYE.
  const result = await sipp(
    callerArgs(sipPort, [
      "-sf",
      scenario("uac_ivr.xml"),
      "-set",
      "rec_port",
      String(recPort),
      "-d",
      "6000",
    ]),
    60_000,
  );
  media.close();
  await recording;
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);

  // The digit picked its branch: the IVR hung up (sipp got its BYE; the call says so).
  const { calls } = await fx.voice.calls.list({});
  assertEquals(calls.length, 1);
  const ended = await fx.voice.calls.get(calls[0].sid);
  // sipp's scenario never hangs up itself: its exit code 0 says the BYE came from us.
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);

  // What the caller was sent, in RTP sequence order, correlates with the prompt's TTS.
  received.sort((a, b) => ((a.seq - b.seq + 0x8000) & 0xffff) - 0x8000);
  const heard = new Int16Array(received.length * 160);
  received.forEach((p, i) => heard.set(p.pcm.subarray(0, 160), i * 160));
  const spoken = await speak(PROMPT, { sampleRate: 8000 });
  const c = bestLagCorrelation(spoken, heard, {
    maxLag: Math.max(0, heard.length - spoken.length),
    minOverlap: spoken.length - 800,
  });
  assert(c.r >= 0.9, `the caller was sent the prompt with r = ${c.r.toFixed(3)} (lag ${c.lag})`);
});
