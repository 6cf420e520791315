import { assert, assertEquals } from "@std/assert";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { haveSipp, scenario, sipp, startGateway } from "./_harness.ts";

Deno.test("inbound: a sipp call from the trunk becomes an inbound call that walks to in_progress and completes on BYE", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway();
  const result = await sipp([
    "-sn",
    "uac",
    "-s",
    "+14155550199",
    "-m",
    "1",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    `127.0.0.1:${fx.port}`,
  ]);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status" && e.call.status === "completed");
    return e?.type === "status" ? e.call : undefined;
  });
  assertEquals(call.direction, "inbound");
  assertEquals(call.to, "+14155550199");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("inbound: sipp playing g711a.pcap publishes A-law audio on voice/<sid>/uplink and its RFC 4733 digit becomes a dtmf event", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  let uplinkObjects = 0;
  let capability: string | undefined;
  let payloadBytes = 0;
  using _route = fx.origin.route("voice/*", async (track) => {
    if (track.info.name !== "uplink") return track.close();
    capability = track.info.capability;
    for (;;) {
      const group = await track.nextGroup();
      if (!group) break;
      for (;;) {
        const object = await group.readObject();
        if (!object) break;
        uplinkObjects++;
        payloadBytes += object.payload.length;
      }
    }
  });
  const result = await sipp([
    "-sf",
    scenario("uac_pcap.xml"),
    "-s",
    "+14155550199",
    "-m",
    "1",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    "-mp",
    "0",
    `127.0.0.1:${fx.port}`,
  ], 60_000);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status" && e.call.status === "completed");
    return e?.type === "status" ? e.call : undefined;
  });
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(capability, "voice/g711_alaw");
  // g711a.pcap holds ~8 s of 20 ms A-law frames (160 bytes each).
  assert(uplinkObjects > 300, `uplink objects: ${uplinkObjects}`);
  assert(payloadBytes > 300 * 160, `uplink bytes: ${payloadBytes}`);
  const digits = fx.events.filter((e) => e.type === "dtmf").map((e) =>
    (e as { digits: string }).digits
  );
  assertEquals(digits, ["1"]);
});
