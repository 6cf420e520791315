import { assert, assertEquals } from "@std/assert";
import { speak } from "../../src/agents/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { callerArgs, haveSipp, scenario, sipp } from "../sip/_harness.ts";
import { startAgentServer } from "./_fixture.ts";
import { inboundToAgent, recordRtp } from "./_sip.ts";

const PROMPT = "Press nine to hang up.";

Deno.test("PSTN call into builtin:ivr: sipp → inbound route {agent} → the prompt reaches the caller's media port (correlated with the TTS), digit 9 (RFC 4733 from sipp's pcap) hangs up", async () => {
  if (!haveSipp()) return;
  await using fx = await startAgentServer({
    agents: {
      menu: {
        type: "module",
        module: "builtin:ivr",
        options: { prompt: PROMPT, digits: { "9": { hangup: true } } },
      },
    },
    sip: inboundToAgent("menu"),
  });
  const sipPort = fx.server.sipPort!;
  // The caller's SDP names this socket as its media port: it records every RTP packet the
  // gateway sends the caller (sipp itself only sends, from -mp: the digit).
  const media = recordRtp(8);
  // After 6 s sipp presses 9 and waits for the IVR's BYE.
  const result = await sipp(
    callerArgs(sipPort, [
      "-sf",
      scenario("uac_ivr.xml"),
      "-set",
      "rec_port",
      String(media.port),
      "-d",
      "6000",
    ]),
    60_000,
  );
  const heard = await media.stop();
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);

  // The digit picked its branch: the IVR hung up (sipp got its BYE; the call says so).
  const { calls } = await fx.voice.calls.list({});
  assertEquals(calls.length, 1);
  const ended = await fx.voice.calls.get(calls[0].sid);
  // sipp's scenario never hangs up itself: its exit code 0 says the BYE came from us.
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);

  // What the caller was sent, in RTP sequence order, correlates with the prompt's TTS.
  const spoken = await speak(PROMPT, { sampleRate: 8000 });
  const c = bestLagCorrelation(spoken, heard, {
    maxLag: Math.max(0, heard.length - spoken.length),
    minOverlap: spoken.length - 800,
  });
  assert(c.r >= 0.9, `the caller was sent the prompt with r = ${c.r.toFixed(3)} (lag ${c.lag})`);
});
