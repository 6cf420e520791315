/**
 * Load and leak tests: many sipp calls with RTP through the gateway on the pure-Deno path.
 * The full load of the issue (50 calls/s, 500 concurrent, 60 s) is `bench/sip_load.ts`.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { heldRtpPorts } from "../../src/rtp/port_allocator.ts";
import type { MediaLegFactory } from "../../src/sip/media.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { type Fixture, haveSipp, startGateway } from "./_harness.ts";
import { sippLoad } from "./_sipp_load.ts";
import { gc, rerunWithExposedGc } from "../_lib/gc.ts";

/** Every per-call table of the gateway, the calls service, the origin and RTP. */
function tables(fx: Fixture): Record<string, number> {
  return {
    ...fx.gateway.tables(),
    ...Object.fromEntries(Object.entries(fx.calls.tables()).map(([k, v]) => [`calls.${k}`, v])),
    originTracks: fx.origin.trackCount,
    rtpPorts: heldRtpPorts(),
  };
}

const ZERO_TABLES = (fx: Fixture) => Object.fromEntries(Object.keys(tables(fx)).map((k) => [k, 0]));

Deno.test("load: sipp at 10 calls/s with RTP, 50 concurrent, 100 calls: zero failed calls, every call completed", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
    sip: { invitesPerSecond: 1000, inbound: [{ match: "*", action: { plugin: "none" } }] },
  });
  const result = await sippLoad({
    port: fx.port,
    scenario: "uac_pcap.xml",
    rate: 10,
    limit: 50,
    calls: 100,
    timeoutMs: 120_000,
  });
  assertEquals(result.failed, 0, result.stderr.slice(-3000));
  assertEquals(result.code, 0, result.stdout.slice(-2000));
  const completed = () =>
    fx.events.filter((e) => e.type === "status" && e.call.status === "completed").length;
  await fx.waitFor(() => completed() >= 100 ? {} as never : undefined).catch(() => {});
  assertEquals(completed(), 100);
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("leak: after 200 sipp calls with RTP at 20 calls/s every per-call table drains to zero and no call's media is retained", async () => {
  if (!haveSipp()) return;
  if (!gc) {
    // Only a forced GC tells a retained object from garbage: rerun in a child with it exposed.
    await rerunWithExposedGc(new URL(import.meta.url), "leak: after 200 sipp calls");
    return;
  }
  const legs: WeakRef<object>[] = [];
  await using fx = await startGateway({
    media: (origin) => {
      const factory = rtpMedia({ origin, hostname: "127.0.0.1" });
      const tracked: MediaLegFactory = async (init) => {
        const leg = await factory(init);
        legs.push(new WeakRef(leg));
        return leg;
      };
      return tracked;
    },
    sip: { invitesPerSecond: 1000, inbound: [{ match: "*", action: { plugin: "none" } }] },
  });
  const result = await sippLoad({
    port: fx.port,
    scenario: "uac_pcap_short.xml",
    rate: 20,
    limit: 100,
    calls: 200,
    timeoutMs: 120_000,
  });
  assertEquals(result.failed, 0, result.stderr.slice(-3000));
  assertEquals(legs.length, 200);
  // Retransmission windows (64·T1) and sip.js's transaction timers end on their own: wait
  // for them (bounded only so that a leak fails instead of hanging).
  await fx.waitFor(
    () => Object.values(tables(fx)).every((n) => n === 0) ? {} as never : undefined,
    90_000,
  ).catch(() => {});
  assertEquals(tables(fx), ZERO_TABLES(fx));
  // The harness keeps every event for assertions; events hold calls, not media.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const retained = legs.filter((ref) => ref.deref() !== undefined).length;
  assertEquals(retained, 0, "media legs of ended calls still reachable");
});
