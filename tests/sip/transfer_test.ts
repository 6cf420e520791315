import { assert, assertEquals } from "@std/assert";
import { decodeAlaw } from "../../src/codecs/g711.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { readPcapRtp } from "../_lib/pcap.ts";
import {
  callerArgs,
  freeUdpPort,
  haveSipp,
  scenario,
  spawnSipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

/** The target's echo of the caller's audio, on the call's downlink, vs. the capture. */
const BRIDGE_MIN_R = 0.9;

const caller = (fxPort: number, name: string, ...extra: string[]) =>
  callerArgs(fxPort, ["-sf", scenario(name), ...extra]);

Deno.test("transfer: a peer that accepts REFER reports progress by NOTIFY sipfrag (100, 200); the gateway hangs up and the call ends transferred", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway();
  await using peer = spawnSipp(caller(fx.port, "uac_refer_accept.xml"));
  const call = await waitForStatus(fx, "in_progress");
  await fx.calls.transfer(call.sid, { to: "+14155550123" });
  const out = await peer.done;
  // sipp checked: REFER with a Refer-To, both NOTIFYs answered 200, then our BYE.
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-2000));
  const ended = await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "completed" ? c : undefined;
  });
  assertEquals(ended.endReason, "transferred");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  const transfers = fx.events.filter((e) => e.type === "transfer" && e.sid === call.sid).map((e) =>
    (e as { transfer: { to?: string } }).transfer.to
  );
  assert(transfers.includes("+14155550123"), `transfer events: ${JSON.stringify(transfers)}`);
  assert(fx.logs.some((l) => l.includes("REFER progress") && l.includes('"status":100')));
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("transfer: a peer that refuses REFER (405) is bridged by the gateway to a new leg to the target on the same sid; the caller's audio reaches the target and the target's comes back on the downlink (r ≥ 0.9)", async () => {
  if (!haveSipp()) return;
  const uasPort = freeUdpPort();
  await using target = spawnSipp([
    "-sf",
    scenario("uas_answer_pcma.xml"),
    "-i",
    "127.0.0.1",
    "-p",
    String(uasPort),
    "-m",
    "1",
    "-mp",
    String(freeUdpPort()),
    "-rtp_echo",
  ]);
  await using fx = await startGateway({
    uasPort,
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const tracks: Record<string, Uint8Array[]> = { uplink: [], downlink: [] };
  const capabilities: Record<string, string | undefined> = {};
  using _route = fx.origin.route("voice/*", async (track) => {
    const into = tracks[track.info.name];
    if (!into) return track.close();
    capabilities[track.info.name] = track.info.capability;
    for (;;) {
      const group = await track.nextGroup();
      if (!group) break;
      for (;;) {
        const object = await group.readObject();
        if (!object) break;
        into.push(object.payload.slice());
      }
    }
  });
  await using peer = spawnSipp(caller(fx.port, "uac_refer_refuse.xml"));
  const call = await waitForStatus(fx, "in_progress");
  await fx.calls.transfer(call.sid, { to: "+14155550123" });
  // The service returns once the transfer is recorded; the gateway goes on in the background.
  await fx.waitFor(() =>
    fx.logs.some((l) => l.includes("B2BUA transfer answered")) ? call : undefined
  );
  assert(fx.logs.some((l) => l.includes("REFER refused") && l.includes("REFER 405")));
  assertEquals(capabilities.downlink, "voice/g711_alaw", "the target's leg publishes the downlink");

  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-2000));
  const targetOut = await target.done;
  assertEquals(targetOut.code, 0, "the target got our BYE when the caller hung up");
  const ended = await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "completed" ? c : undefined;
  });
  assertEquals(ended.sid, call.sid);
  assertEquals(ended.endReason, "caller_hangup");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  // Exactly one call: the transfer leg is a leg of this call, not a call of its own.
  assertEquals(new Set(fx.events.map((e) => e.sid)).size, 1);

  // Caller (pcap) → uplink → target's leg → target (echo) → target's leg → downlink.
  const capture = readPcapRtp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"), 8);
  const expected = decodeAlaw(concat(capture.map((p) => p.rtpPayload)));
  const up = decodeAlaw(concat(tracks.uplink));
  const down = decodeAlaw(concat(tracks.downlink));
  const opts = { minLag: -8000, maxLag: 8000, minOverlap: expected.length * 0.8 };
  const u = bestLagCorrelation(expected, up, opts);
  const d = bestLagCorrelation(expected, down, opts);
  console.log(
    `uplink r=${u.r.toFixed(3)} (lag ${u.lag}), downlink via target r=${
      d.r.toFixed(3)
    } (lag ${d.lag}, ${down.length} samples)`,
  );
  assert(u.r >= BRIDGE_MIN_R, `uplink r=${u.r.toFixed(3)}`);
  assert(d.r >= BRIDGE_MIN_R, `downlink via the target r=${d.r.toFixed(3)}`);
  assertEquals(fx.gateway.activeLegs, 0);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
