import { assert, assertEquals, assertRejects } from "@std/assert";
import { Core } from "sip.js";
import type { CallProgress } from "../../src/calls/gateway.ts";
import { SipError } from "../../src/sip/error.ts";
import type { DialOptions } from "../../src/sip/outbound.ts";
import { transfer, type TransferDeps } from "../../src/sip/transfer.ts";
import { confirmedLeg, inboundLeg } from "./_fakes.ts";
import { decodeAlaw } from "../../src/codecs/g711.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { readPcapRtp } from "../_lib/pcap.ts";
import {
  callerArgs,
  concatBytes,
  haveSipp,
  readCallTracks,
  scenario,
  spawnEchoUas,
  spawnSipp,
  startGateway,
  waitForCall,
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
  const ended = await waitForCall(fx, call.sid, "completed");
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
  await using target = await spawnEchoUas();
  await using fx = await startGateway({
    uasPort: target.port,
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const tracks: Record<string, Uint8Array[]> = { uplink: [], downlink: [] };
  const capabilities: Record<string, string | undefined> = {};
  using _route = readCallTracks(fx, ["uplink", "downlink"], (o, info) => {
    capabilities[info.name] = info.capability;
    tracks[info.name].push(o.payload.slice());
  });
  await using peer = spawnSipp(caller(fx.port, "uac_refer_refuse.xml"));
  const call = await waitForStatus(fx, "in_progress");
  await fx.calls.transfer(call.sid, { to: "+14155550123" });
  // The service returns once the transfer is recorded; the gateway goes on in the background.
  await fx.waitFor(() =>
    fx.logs.some((l) => l.includes("B2BUA transfer answered")) ? call : undefined
  );
  assert(fx.logs.some((l) => l.includes("REFER refused") && l.includes("REFER 405")));
  // The capability is seen with the downlink's first object: the target's echo of what the
  // gateway sent it, which can come after the answer is logged.
  await fx.waitFor(() => capabilities.downlink ? call : undefined);
  assertEquals(capabilities.downlink, "voice/g711_alaw", "the target's leg publishes the downlink");

  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-2000));
  const targetOut = await target.done;
  assertEquals(targetOut.code, 0, "the target got our BYE when the caller hung up");
  const ended = await waitForCall(fx, call.sid, "completed");
  assertEquals(ended.sid, call.sid);
  assertEquals(ended.endReason, "caller_hangup");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  // Exactly one call: the transfer leg is a leg of this call, not a call of its own.
  assertEquals(new Set(fx.events.map((e) => e.sid)).size, 1);

  // Caller (pcap) → uplink → target's leg → target (echo) → target's leg → downlink.
  const capture = readPcapRtp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"), 8);
  const expected = decodeAlaw(concatBytes(capture.map((p) => p.rtpPayload)));
  const up = decodeAlaw(concatBytes(tracks.uplink));
  // The target's leg sent A-law silence until the caller's audio reached it (RTP never stops
  // while nothing plays); echoed, that silence leads the downlink: skip it.
  const isSilence = (p: Uint8Array) => p.every((b) => b === 0xd5);
  const firstSound = tracks.downlink.findIndex((p) => !isSilence(p));
  const down = decodeAlaw(concatBytes(tracks.downlink.slice(Math.max(0, firstSound))));
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

// --- in memory: the transfer logic below the SIP boundary -----------------------------------

function transferDeps(dialed: { to: string; options: DialOptions; progress: CallProgress }[] = []) {
  const ended: string[] = [];
  const infos: string[] = [];
  const deps: TransferDeps = {
    log: { info: (message) => void infos.push(message) },
    publicAddress: "127.0.0.1",
    targetUri: (to) => new Core.URI("sip", to, "127.0.0.1", 5999),
    dial: (call, progress, options) => {
      dialed.push({ to: call.to, options, progress });
      return Promise.resolve(inboundLeg(`${call.sid}-target`).leg);
    },
    terminate: (leg, reason) => {
      ended.push(`${leg.sid} ${reason}`);
      leg.transition({ name: "terminated", reason });
      return Promise.resolve();
    },
  };
  return { deps, ended, infos };
}

function notify(session: Core.Session, sipfrag: string): void {
  session.delegate?.onNotify?.({
    accept: () => ({}),
    message: { body: sipfrag },
  } as unknown as Core.IncomingNotifyRequest);
}

Deno.test("transfer (unit): REFER carries Refer-To, Referred-By and a Contact (RFC 3515); NOTIFY 200 ends the leg transferred", async () => {
  const { leg, fake } = confirmedLeg();
  const { deps, ended } = transferDeps();
  const done = transfer(deps, leg, "+14155550123");
  assertEquals(fake.refers.length, 1);
  const headers = fake.refers[0].headers;
  assert(headers.includes("Refer-To: <sip:+14155550123@127.0.0.1:5999>"), headers.join("|"));
  assert(headers.some((h) => h.startsWith("Referred-By: ")), headers.join("|"));
  assert(headers.includes("Contact: <sip:clutchcall@127.0.0.1:5060>"), headers.join("|"));
  fake.refers[0].delegate?.onAccept?.({} as Core.IncomingResponse);
  notify(fake.session, "SIP/2.0 100 Trying");
  assertEquals(ended, []);
  notify(fake.session, "SIP/2.0 200 OK");
  await done;
  assertEquals(ended, ["CA1 transferred"]);
});

Deno.test("transfer (unit): a REFER answered 202 whose NOTIFY never comes settles (487) when the leg ends", async () => {
  const { leg, fake } = confirmedLeg();
  const { deps } = transferDeps();
  const done = transfer(deps, leg, "+14155550123");
  fake.refers[0].delegate?.onAccept?.({} as Core.IncomingResponse);
  leg.transition({ name: "terminated", reason: "hangup" });
  const error = await assertRejects(() => done, SipError);
  assertEquals(error.status, 487);
});

Deno.test("transfer (unit): a second transfer while one is under way is 491; one on an unanswered leg is 481", async () => {
  const { leg } = confirmedLeg();
  const { deps } = transferDeps();
  const first = transfer(deps, leg, "+14155550123");
  assertEquals((await assertRejects(() => transfer(deps, leg, "+1415"), SipError)).status, 491);
  const { leg: ringing } = inboundLeg("CA2");
  assertEquals((await assertRejects(() => transfer(deps, ringing, "+1415"), SipError)).status, 481);
  leg.transition({ name: "terminated", reason: "hangup" });
  await assertRejects(() => first, SipError);
});

Deno.test("transfer (unit): a refused REFER dials the target on the same sid with the caller's codec and the tracks swapped; it resolves when the target answers", async () => {
  const { leg, fake } = confirmedLeg();
  const dialed: { to: string; options: DialOptions; progress: CallProgress }[] = [];
  const { deps } = transferDeps(dialed);
  const done = transfer(deps, leg, "+14155550123");
  fake.refers[0].delegate?.onReject?.({ message: { statusCode: 405 } } as Core.IncomingResponse);
  await waitUntil(() => leg.state.name === "confirmed" && leg.state.transfer?.kind === "b2bua");
  assertEquals(dialed.length, 1);
  assertEquals(dialed[0].options.codecs, ["g711_ulaw"]);
  assertEquals(dialed[0].options.tracks, { publish: "downlink", play: "uplink" });
  await dialed[0].progress.answered();
  await done;
  // The target hanging up ends the caller's leg too.
  await dialed[0].progress.ended("caller_hangup");
  assert(leg.isTerminated);
});

Deno.test("transfer (unit): a gateway-side transfer whose target does not answer rejects with its status, and the call goes on", async () => {
  const { leg, fake } = confirmedLeg();
  const dialed: { to: string; options: DialOptions; progress: CallProgress }[] = [];
  const { deps } = transferDeps(dialed);
  const done = transfer(deps, leg, "+14155550123");
  notify(fake.session, "SIP/2.0 603 Declined");
  await waitUntil(() =>
    dialed.length === 1 && leg.state.name === "confirmed" && !!leg.state.transfer
  );
  await dialed[0].progress.ended("busy", { sipStatus: 486 });
  assertEquals((await assertRejects(() => done, SipError)).status, 486);
  assertEquals(leg.state.name, "confirmed");
  assertEquals(leg.state.name === "confirmed" && leg.state.transfer, undefined);
});

/** Waits for `check` across turns of the event loop (no timing involved). */
async function waitUntil(check: () => boolean): Promise<void> {
  for (let turn = 0; !check(); turn++) {
    if (turn > 1000) throw new Error("Condition never held");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
