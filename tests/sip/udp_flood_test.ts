/**
 * SIP parsing and RTP do not share fate (issue 17): a live sipp call playing g711a.pcap
 * loses no uplink frame while another process floods the SIP port with malformed datagrams
 * (the flood was 130,000 in 30 s; here ~5,000/s for the length of the call).
 */
import { assert, assertEquals } from "@std/assert";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { readPcapRtp } from "../_lib/pcap.ts";
import {
  callerArgs,
  haveSipp,
  readCallTracks,
  scenario,
  sipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

Deno.test("a live call loses no uplink audio while the SIP port is flooded with malformed datagrams", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  let uplinkObjects = 0;
  let uplinkBytes = 0;
  using _route = readCallTracks(fx, ["uplink"], (o) => {
    uplinkObjects++;
    uplinkBytes += o.payload.length;
  });
  const call = sipp(callerArgs(fx.port, ["-sf", scenario("uac_pcap.xml")], 0), 90_000);
  await waitForStatus(fx, "in_progress", 30_000);
  const flood = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      new URL("./_sip_flood.ts", import.meta.url).pathname,
      String(fx.port),
      "40000",
      "5000",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const [result, flooded] = await Promise.all([call, flood]);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  assertEquals(new TextDecoder().decode(flooded.stdout).trim(), "40000");
  await waitForStatus(fx, "completed");
  const stats = fx.gateway.stats;
  console.log(
    `flood: ${stats.received} parsed (${stats.malformed} malformed), ${stats.dropped} dropped unread; uplink ${uplinkObjects} frames`,
  );
  assert(stats.dropped + stats.malformed > 1000, "the flood reached the gateway");
  // Every frame sipp sent (the capture's 236 A-law packets of 30 ms, re-framed to 20 ms
  // objects on the uplink) came up: all of its audio, sample for sample.
  const sent = readPcapRtp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"), 8);
  const sentBytes = sent.reduce((n, p) => n + p.rtpPayload.length, 0);
  assertEquals(uplinkBytes, sentBytes, `uplink ${uplinkBytes} of ${sentBytes} A-law samples`);
  assertEquals(uplinkObjects, sentBytes / 160);
});
