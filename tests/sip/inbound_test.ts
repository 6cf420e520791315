import { assert, assertEquals, assertThrows } from "@std/assert";
import type { Call } from "../../src/calls/call.ts";
import type { InboundRoute } from "../../src/sip/config.ts";
import { SipError } from "../../src/sip/error.ts";
import { planInbound, resolveAction } from "../../src/sip/inbound.ts";
import { parseRequest, PCMU_OFFER } from "./_fakes.ts";
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
  sipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";
import { FlakyStore } from "../_lib/flaky_store.ts";

Deno.test("inbound: a sipp call from the trunk becomes an inbound call that walks to in_progress and completes on BYE", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway();
  const result = await sipp(callerArgs(fx.port, ["-sn", "uac"]));
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
  assertEquals(call.direction, "inbound");
  assertEquals(call.to, "+14155550199");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(fx.gateway.activeLegs, 0);
});

/** Uplink audio vs. the capture's audio: r at the best lag must be at least this. */
const CAPTURE_MIN_R = 0.95;

Deno.test("inbound: sipp playing g711a.pcap publishes A-law audio on voice/<sid>/uplink that correlates ≥ 0.95 with the capture, and its RFC 4733 digit becomes a dtmf event", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  let uplinkObjects = 0;
  let capability: string | undefined;
  let payloadBytes = 0;
  const uplink: Uint8Array[] = [];
  using _route = readCallTracks(fx, ["uplink"], (o, info) => {
    capability = info.capability;
    uplinkObjects++;
    payloadBytes += o.payload.length;
    uplink.push(o.payload.slice());
  });
  const result = await sipp(callerArgs(fx.port, ["-sf", scenario("uac_pcap.xml")], 0), 60_000);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(capability, "voice/g711_alaw");
  // g711a.pcap holds ~8 s of 20 ms A-law frames (160 bytes each).
  assert(uplinkObjects > 300, `uplink objects: ${uplinkObjects}`);
  assert(payloadBytes > 300 * 160, `uplink bytes: ${payloadBytes}`);
  // The audio itself: the capture's RTP payloads, decoded, against what came up.
  const capture = readPcapRtp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"), 8);
  const expected = decodeAlaw(concatBytes(capture.map((p) => p.rtpPayload)));
  const received = decodeAlaw(concatBytes(uplink));
  const { r, lag, overlap } = bestLagCorrelation(expected, received, {
    minLag: -4000,
    maxLag: 4000,
    minOverlap: expected.length * 0.9,
  });
  console.log(
    `uplink vs capture: ${received.length}/${expected.length} samples, r=${
      r.toFixed(4)
    } at lag ${lag} over ${overlap}`,
  );
  assert(
    r >= CAPTURE_MIN_R,
    `uplink correlates ${r.toFixed(3)} at lag ${lag}, want ≥ ${CAPTURE_MIN_R}`,
  );
  // A control that shows r is not a property of any speech: the capture reversed.
  const reversed = bestLagCorrelation(expected.slice().reverse(), received, {
    minLag: -4000,
    maxLag: 4000,
    minOverlap: expected.length * 0.9,
  });
  assert(reversed.r < 0.3, `reversed capture correlates ${reversed.r.toFixed(3)}`);
  const digits = fx.events.filter((e) => e.type === "dtmf").map((e) =>
    (e as { digits: string }).digits
  );
  assertEquals(digits, ["1"]);
  // Nobody attached a bridge: the leg's on-box VAD still reports when the caller talks, as
  // alternating speech start/stop events timed inside the call.
  const speech = fx.events.filter((e) => e.type === "speech" && e.sid === call.sid) as {
    state: "start" | "stop";
    at: string;
  }[];
  assert(speech.length >= 1 && speech[0].state === "start", JSON.stringify(speech));
  assert(speech.every((e, i) => e.state === (i % 2 === 0 ? "start" : "stop")), "alternating");
  const answered = Date.parse(call.times.in_progress!);
  assert(speech.every((e) => Date.parse(e.at) >= answered - 1000), "timed inside the call");
});

// --- in memory: routing an INVITE -----------------------------------------------------------

function invite(to: string, from: string, body: string) {
  return parseRequest([
    `INVITE sip:${to}@127.0.0.1:5060 SIP/2.0`,
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
    `From: <sip:${from}@10.0.0.1>;tag=a`,
    `To: <sip:${to}@127.0.0.1>`,
    "Call-ID: routing-1",
    "CSeq: 1 INVITE",
    "Contact: <sip:caller@127.0.0.1:5070>",
    "Content-Type: application/sdp",
  ], body);
}

const ROUTES: InboundRoute[] = [
  { match: "+1415555*", action: { client: "alice" } },
  { match: "+14155550199", action: { agent: "never: the prefix above matches first" } },
  { match: "*", action: { plugin: "fallback" } },
];

Deno.test("inbound routing (unit): the first route matching the called number wins; the caller becomes E.164", () => {
  const plan = planInbound(invite("+14155550199", "14155550100", PCMU_OFFER), ROUTES, [
    "g711_ulaw",
  ]);
  assertEquals(plan.route.action, { client: "alice" });
  assertEquals([plan.called, plan.from, plan.audio.codec], [
    "+14155550199",
    "+14155550100",
    "g711_ulaw",
  ]);
  const other = planInbound(invite("+33123456789", "anonymous", PCMU_OFFER), ROUTES, ["g711_ulaw"]);
  assertEquals(other.route.action, { plugin: "fallback" });
  assertEquals(other.from, "sip:anonymous@10.0.0.1");
});

Deno.test("inbound routing (unit): no matching route is 404, an offer with no codec we take is 488", () => {
  const noRoute = assertThrows(
    () =>
      planInbound(invite("+4930123", "+14155550100", PCMU_OFFER), ROUTES.slice(0, 2), [
        "g711_ulaw",
      ]),
    SipError,
  );
  assertEquals(noRoute.status, 404);
  const noCodec = assertThrows(
    () => planInbound(invite("+14155550199", "+14155550100", PCMU_OFFER), ROUTES, ["g711_alaw"]),
    SipError,
  );
  assertEquals(noCodec.status, 488);
  const noSdp = assertThrows(
    () => planInbound(invite("+14155550199", "+14155550100", "not sdp"), ROUTES, ["g711_ulaw"]),
    SipError,
  );
  assertEquals(noSdp.status, 488);
});

Deno.test("inbound routing (unit): a webhook that cannot be reached rejects the call with 500 and gateway_error", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const errors: unknown[] = [];
  const action = await resolveAction(
    { webhook: `http://127.0.0.1:${port}/inbound` },
    { sid: "CA1", from: "+14155550100", to: "+14155550199" } as Call,
    { webhookTimeoutMs: 5000, onWebhookError: (e) => errors.push(e) },
  );
  assertEquals(action, {
    reject: 500,
    reason: "Server Internal Error",
    endReason: "gateway_error",
  });
  assertEquals(errors.length, 1);
  const direct = await resolveAction({ agent: "support" }, {} as Call, {
    webhookTimeoutMs: 1,
    onWebhookError: () => {},
  });
  assertEquals(direct, { agent: "support" });
});

Deno.test("inbound: while the call store refuses writes an INVITE gets 503 with Retry-After (never 500), and once it takes writes again calls go through", async () => {
  if (!haveSipp()) return;
  let flaky: FlakyStore | undefined;
  await using fx = await startGateway({ store: (kv) => flaky = new FlakyStore(kv) });
  flaky!.failing = true;
  // The scenario fails unless the final response is 503 carrying a numeric Retry-After.
  const refused = await sipp(callerArgs(fx.port, ["-sf", scenario("uac_refused_503.xml")], 0));
  assertEquals(refused.code, 0, refused.stdout.slice(-1500) + refused.stderr);
  assert(flaky!.writesRefused > 0, "the INVITE reached the store");
  assertEquals(fx.gateway.activeLegs, 0);
  assert(fx.logs.some((line) => line.includes("Refusing an inbound INVITE with 503")));
  assert(!fx.logs.some((line) => line.includes("Inbound INVITE failed")), "not an internal error");
  flaky!.failing = false;
  const result = await sipp(callerArgs(fx.port, ["-sn", "uac"]));
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
});
