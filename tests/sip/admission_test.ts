import { assertEquals } from "@std/assert";
import { createAdmission } from "../../src/sip/admission.ts";
import { parseSipConfig } from "../../src/sip/config.ts";
import type { SipPeer } from "../../src/sip/transport.ts";
import { parseRequest } from "./_fakes.ts";

const config = parseSipConfig({
  trunks: [
    { name: "big", address: "10.0.0.1:5060", allowFrom: ["10.0.0.1", "10.0.0.2"] },
    { name: "small", address: "10.0.1.1:5060", allowFrom: ["10.0.1.1"], invitesPerSecond: 2 },
  ],
});

/** One parsed INVITE (admission reads its method and Call-ID only). */
const INVITE = (() => {
  const id = "adm-1";
  return parseRequest([
    "INVITE sip:+14155550199@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK${id}`,
    `From: <sip:+14155550100@10.0.0.1>;tag=${id}`,
    "To: <sip:+14155550199@127.0.0.1>",
    `Call-ID: ${id}`,
    "CSeq: 1 INVITE",
  ]);
})();
const invite = () => INVITE;

const from = (host: string): SipPeer => ({ transport: "udp", host, port: 5060 });

function admission(clock: { ms: number }) {
  return createAdmission({
    trunks: config.trunks,
    invitesPerSecond: config.invitesPerSecond,
    activeCalls: () => 0,
    maxCalls: 100_000,
    now: () => clock.ms,
  });
}

Deno.test("admission: by default a trunk is not throttled below 200 INVITEs/s, whichever of its addresses they come from", () => {
  assertEquals(config.invitesPerSecond, 200);
  const clock = { ms: 0 };
  const admit = admission(clock);
  let refused = 0;
  // 20 s at 200 calls/s, alternating the trunk's two addresses.
  for (let i = 0; i < 4000; i++) {
    clock.ms = i * 5;
    if (!admit(invite(), from(i % 2 ? "10.0.0.1" : "10.0.0.2")).ok) refused++;
  }
  assertEquals(refused, 0);
});

Deno.test("admission: beyond its own rate a trunk gets 503 with Retry-After, its addresses share one budget, and other trunks are untouched", () => {
  const clock = { ms: 0 };
  const admit = admission(clock);
  // `small` allows 2/s with a burst of 4: the fifth at once is refused.
  const results = Array.from({ length: 5 }, () => admit(invite(), from("10.0.1.1")));
  assertEquals(results.map((r) => r.ok), [true, true, true, true, false]);
  assertEquals(results[4], {
    ok: false,
    status: 503,
    reason: "Service Unavailable",
    headers: ["Retry-After: 1"],
  });
  // The big trunk, at the same moment, still has its burst of 400.
  let big = 0;
  for (let i = 0; i < 400; i++) {
    if (admit(invite(), from(i % 2 ? "10.0.0.1" : "10.0.0.2")).ok) big++;
  }
  assertEquals(big, 400);
  assertEquals(admit(invite(), from("10.0.0.2")).ok, false, "both addresses drew on one budget");
  // Half a second later `small` has one more token.
  clock.ms = 500;
  assertEquals(admit(invite(), from("10.0.1.1")).ok, true);
});

Deno.test("admission: at sip.maxCalls calls up a new INVITE gets 503 with Retry-After: 5; one fewer is admitted", () => {
  const sip = parseSipConfig({
    ...JSON.parse(JSON.stringify({ trunks: config.trunks })),
    maxCalls: 3,
  });
  assertEquals([parseSipConfig({}).maxCalls, sip.maxCalls], [2000, 3]);
  let up = 3;
  const admit = createAdmission({
    trunks: sip.trunks,
    invitesPerSecond: sip.invitesPerSecond,
    activeCalls: () => up,
    maxCalls: sip.maxCalls,
    now: () => 0,
  });
  assertEquals(admit(invite(), from("10.0.0.1")), {
    ok: false,
    status: 503,
    reason: "Service Unavailable",
    headers: ["Retry-After: 5"],
  });
  up = 2;
  assertEquals(admit(invite(), from("10.0.0.1")).ok, true);
});
