/**
 * RTP flows to the caller while nothing plays (issue 15: 236 packets in, 0 out in a 10 s
 * call, which carriers' RTP-inactivity timers and NATs drop): the leg sends silence at the
 * negotiated ptime. sipp echoes every RTP packet it receives (`-rtp_echo`), so what comes
 * back up the uplink is what sipp received: counted, and checked to be A-law silence.
 */
import { assert, assertEquals } from "@std/assert";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import {
  callerArgs,
  haveSipp,
  readCallTracks,
  scenario,
  spawnSipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

Deno.test("a call with nothing played still sends sipp RTP: A-law silence at the negotiated ptime", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const echoed: Uint8Array[] = [];
  using _route = readCallTracks(fx, ["uplink"], (o) => echoed.push(o.payload.slice()));
  await using peer = spawnSipp(
    callerArgs(
      fx.port,
      ["-sf", scenario("uac_echo.xml"), "-d", "4000", "-rtp_echo"],
    ),
  );
  await waitForStatus(fx, "in_progress");
  // Nothing is published on the downlink: what sipp gets, and echoes, is the leg's filler.
  await fx.waitFor(() => echoed.length >= 50 ? ({} as never) : undefined, 20_000);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  await waitForStatus(fx, "completed");
  console.log(`sipp received and echoed ${echoed.length} RTP packets with nothing played`);
  // 20 ms of A-law silence each (ptime 20, the offer's default): 160 bytes of 0xD5.
  assert(echoed.every((p) => p.length === 160 && p.every((b) => b === 0xd5)));
});
