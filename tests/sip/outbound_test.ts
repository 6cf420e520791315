import { assert, assertEquals, assertThrows } from "@std/assert";
import { parseSipConfig } from "../../src/sip/config.ts";
import { SipError } from "../../src/sip/error.ts";
import { endReasonOf, routeOutbound } from "../../src/sip/outbound.ts";
import {
  hangUp,
  haveSipp,
  originate,
  scenario,
  spawnSippUas,
  startGateway,
  waitForCall,
} from "./_harness.ts";

const uas = (...args: string[]) => spawnSippUas(["-m", "1", ...args]);

Deno.test("outbound: originate to a sipp UAS walks dialing → ringing → in_progress → completed", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("-sn", "uas");
  await using fx = await startGateway({ uasPort: peer.port });
  // The built-in uas answers right away and the caller hangs up.
  const call = await originate(fx);
  const ended = await hangUp(fx, call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "in_progress", "completed"]);
});

Deno.test("outbound: a 486 from the far end fails the call as busy with the SIP status", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("-sf", scenario("uas_busy.xml"));
  await using fx = await startGateway({ uasPort: peer.port });
  const ended = await originate(fx, { until: "failed" });
  const call = ended;
  assertEquals([ended.endReason, ended.sipStatus], ["busy", 486]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "failed"]);
  assertEquals((await peer.done).code, 0);
});

Deno.test("outbound: a UAS that never answers gets CANCEL after the ring timeout and the call is no_answer", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("-sf", scenario("uas_no_answer.xml"));
  await using fx = await startGateway({ uasPort: peer.port, sip: { ringTimeoutMs: 1000 } });
  const ended = await originate(fx, { until: "no_answer" });
  assertEquals(ended.endReason, "no_answer");
  // sipp exits 0 only once it saw the CANCEL and the ACK to its 487.
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
});

Deno.test("outbound: hangup while ringing sends CANCEL and the call completes as canceled", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("-sf", scenario("uas_no_answer.xml"));
  await using fx = await startGateway({ uasPort: peer.port });
  const call = await originate(fx, { until: "ringing" });
  const ended = await hangUp(fx, call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr).slice(-1500));
  assertEquals([ended.status, ended.endReason], ["completed", "canceled"]);
  assert(fx.gateway.activeLegs === 0);
});

Deno.test("outbound: a per-call ringTimeoutMs (POST /v1/calls) overrides sip.ringTimeoutMs: CANCEL and no_answer after it", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("-sf", scenario("uas_no_answer.xml"));
  // The gateway's own ring timeout is 10 minutes: only the call's can end it in this test.
  await using fx = await startGateway({ uasPort: peer.port, sip: { ringTimeoutMs: 600_000 } });
  const call = await fx.calls.originate({
    from: "+14155550100",
    to: "+14155550123",
    ringTimeoutMs: 1000,
  });
  assertEquals(call.ringTimeoutMs, 1000);
  const ended = await waitForCall(fx, call.sid, "no_answer", 30_000);
  assertEquals(ended.endReason, "no_answer");
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
});

// --- in memory: routing and end reasons ------------------------------------------------------

Deno.test("outbound routing (unit): E.164 through the trunk whose prefix matches; sip: through the trunk it names or an allowed host; anything else refused", () => {
  const config = parseSipConfig({
    trunks: [
      { name: "us", address: "10.0.0.1:5060", outboundNumbers: ["+1"] },
      { name: "tcp", address: "10.0.0.2:5070", transport: "tcp", outboundNumbers: ["+44"] },
    ],
    allowDirectSip: ["pbx.example"],
  });
  const us = routeOutbound(config, "+14155550123");
  assertEquals([us.trunk?.name, us.ruri.toString()], ["us", "sip:+14155550123@10.0.0.1:5060"]);
  const uk = routeOutbound(config, "+442071234567");
  assertEquals(uk.ruri.toString(), "sip:+442071234567@10.0.0.2:5070;transport=tcp");
  assertEquals(routeOutbound(config, "sip:alice@10.0.0.2:5070").trunk?.name, "tcp");
  assertEquals(routeOutbound(config, "sip:bob@pbx.example").trunk, undefined);
  const status = (to: string) => assertThrows(() => routeOutbound(config, to), SipError).status;
  assertEquals(status("+33123456789"), 404);
  assertEquals(status("sip:mallory@198.51.100.7"), 403);
  assertEquals(status("sip:alice@10.0.0.2:9999"), 403, "a trunk's host on another port");
  assertEquals(status("sip:"), 400);
});

Deno.test("outbound end reasons (unit): 486/600 busy, 603 declined, 408/480 no_answer, 487 canceled, others rejected", () => {
  const cases: [number, string][] = [
    [486, "busy"],
    [600, "busy"],
    [603, "declined"],
    [408, "no_answer"],
    [480, "no_answer"],
    [487, "canceled"],
    [404, "rejected"],
    [503, "rejected"],
  ];
  for (const [status, reason] of cases) assertEquals(endReasonOf(status), reason, String(status));
});
