/**
 * The paths through sip.js that hostile testing found throwing, each driven by a raw UDP
 * peer against a real gateway: the process-wide "unhandledrejection" and "error" events must
 * see nothing while they run.
 */
import { assert, assertEquals } from "@std/assert";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { startGateway, waitForCall } from "./_harness.ts";
import { firstLine, okTo, rawInvite, rawPeer } from "./_raw_peer.ts";

/** Records every unhandled rejection and uncaught error while the test runs. */
function watchUncaught(): Disposable & { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (event: PromiseRejectionEvent) => {
    seen.push(event.reason);
    event.preventDefault();
  };
  const onError = (event: ErrorEvent) => {
    seen.push(event.error);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return {
    seen,
    [Symbol.dispose]() {
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("error", onError);
    },
  };
}

const statusOf = (text: string) => Number(text.slice(8, 11));

Deno.test("sip.js paths: an INVITE answered 200 but never ACKed whose RTP times out ends media_timeout, and the BYE follows the ACK timeout (RFC 3261 §13.3.1.4)", async () => {
  using uncaught = watchUncaught();
  using peer = rawPeer();
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { plugin: "listener" } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", inactivityTimeoutMs: 300 }),
  });
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  const invite = rawInvite(fx.port, peer.port);
  await peer.send(invite.text, to);
  await peer.waitFor((all) => all.some((d) => d.text.startsWith("SIP/2.0 200")), "the 200 OK");
  // No ACK, no RTP. The call was never answered (no ACK): it fails, and says why it ended.
  const sid = fx.events.find((e) => e.type === "status")!.sid;
  const call = await waitForCall(fx, sid, "failed", 20_000);
  assertEquals(call.endReason, "media_timeout");
  // The BYE may only go once sip.js's 2xx transaction times out (64·T1, T1 = 500 ms: 32 s).
  await peer.waitFor((all) => all.some((d) => d.text.startsWith("BYE ")), "the BYE", 90_000);
  const bye = peer.received.find((d) => d.text.startsWith("BYE "))!;
  await peer.send(okTo(bye.text), to);
  const before = peer.received.indexOf(bye);
  assert(
    peer.received.slice(0, before).filter((d) => d.text.startsWith("SIP/2.0 200")).length > 1,
    `the 2xx was retransmitted before the BYE: ${peer.received.map(firstLine)}`,
  );
  assertEquals(uncaught.seen, []);
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("sip.js paths: an INVITE whose body has no Content-Type (so no Content-Disposition either) gets 400, and sip.js's 2xx timer never fires on a half-made dialog", async () => {
  using uncaught = watchUncaught();
  using peer = rawPeer();
  await using fx = await startGateway();
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  const invite = rawInvite(fx.port, peer.port, { bodyHeaders: [] });
  await peer.send(invite.text, to);
  await peer.waitFor((all) => all.some((d) => statusOf(d.text) >= 200), "a final response");
  const finals = peer.received.filter((d) => statusOf(d.text) >= 200).map(firstLine);
  assertEquals(finals[0], "SIP/2.0 400 Missing Content-Type");
  // Past sip.js's first 2xx retransmission (T1): a half-made dialog's timer would have thrown.
  const marker = rawInvite(fx.port, peer.port);
  await peer.send(marker.text, to);
  await peer.waitFor(
    (all) => all.some((d) => d.text.includes(marker.callId) && statusOf(d.text) === 200),
    "the next call's 200",
  );
  assertEquals(uncaught.seen, []);
  assertEquals(
    fx.events.filter((e) => e.type === "status" && e.call.status === "dialing").length,
    1,
  );
});

Deno.test("sip.js paths: an SDP body with a Content-Type but no Content-Disposition is a session offer (RFC 3261 §13.2.1) and the call is answered", async () => {
  using uncaught = watchUncaught();
  using peer = rawPeer();
  await using fx = await startGateway();
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  for (const type of ["Content-Type: application/sdp", "c: application/sdp"]) {
    const invite = rawInvite(fx.port, peer.port, { bodyHeaders: [type] });
    await peer.send(invite.text, to);
    await peer.waitFor(
      (all) => all.some((d) => d.text.includes(invite.callId) && statusOf(d.text) >= 200),
      `a final response (${type})`,
    );
    const final = peer.received.find((d) =>
      d.text.includes(invite.callId) && statusOf(d.text) >= 200
    )!;
    assertEquals(firstLine(final), "SIP/2.0 200 OK", type);
  }
  assertEquals(uncaught.seen, []);
});
