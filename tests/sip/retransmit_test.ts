/**
 * RFC 3261 §17 UDP retransmission against a raw UDP peer that plays dead: the gateway's
 * INVITE is re-sent (timer A) until a provisional arrives, and its non-2xx final response to
 * an INVITE is re-sent (timer G) until the ACK. The gateway runs with T1 = 100 ms; the
 * assertions are on counts and ordering (intervals grow), never on exact times.
 */
import { assert, assertEquals } from "@std/assert";
import { startGateway } from "./_harness.ts";
import { firstLine, header, rawPeer, responseTo } from "./_raw_peer.ts";

/** Asserts each gap between consecutive arrivals is longer than the one before. */
function assertGrowingGaps(times: number[]): void {
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  for (let i = 1; i < gaps.length; i++) {
    assert(gaps[i] > gaps[i - 1], `retransmission gaps should grow: ${gaps.map(Math.round)}`);
  }
}

Deno.test("retransmit: an unanswered outbound INVITE is re-sent at growing intervals (timer A) until a provisional arrives", async () => {
  using peer = rawPeer();
  await using fx = await startGateway({ uasPort: peer.port });
  const invites = () => peer.received.filter((d) => d.text.startsWith("INVITE "));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });

  await peer.waitFor(() => invites().length >= 4, "4 copies of the INVITE");
  const copies = invites().slice(0, 4);
  // The same request each time: one branch, one CSeq, identical bytes.
  for (const copy of copies) assertEquals(copy.text, copies[0].text);
  assertGrowingGaps(copies.map((d) => d.at));

  // A provisional stops timer A; a 486 then ends the transaction and we get the ACK.
  const invite = copies[0];
  await peer.send(
    responseTo(invite.text, "100 Trying", "raw1").replace(/;tag=raw1/, ""),
    invite.from,
  );
  const stoppedAt = invites().length;
  await peer.send(responseTo(invite.text, "486 Busy Here", "raw1"), invite.from);
  await peer.waitFor((all) => all.some((d) => d.text.startsWith("ACK ")), "the ACK to the 486");
  const ended = await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "failed" ? c : undefined;
  });
  assertEquals([ended.endReason, ended.sipStatus], ["busy", 486]);
  // The gateway stopped retransmitting: no further INVITE goes out (one may be in flight).
  await fx.waitFor(() => fx.gateway.tables().retransmitting === 0 ? ended : undefined);
  assert(
    invites().length <= stoppedAt + 1,
    `INVITEs after the 100: ${invites().length - stoppedAt}`,
  );
  const ackAt = peer.received.findIndex((d) => d.text.startsWith("ACK "));
  assertEquals(peer.received.slice(ackAt).filter((d) => d.text.startsWith("INVITE ")).length, 0);
  assertEquals(
    header(peer.received[ackAt].text, "Via").match(/branch=([^;\s]+)/)?.[1],
    header(invite.text, "Via").match(/branch=([^;\s]+)/)?.[1],
  );
});

Deno.test("retransmit: a non-2xx final response to an INVITE is re-sent at growing intervals (timer G) until the ACK", async () => {
  using peer = rawPeer();
  await using fx = await startGateway();
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  const branch = `z9hG4bK${crypto.randomUUID().slice(0, 8)}`;
  const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch}`;
  const common = [
    `Via: ${via}`,
    "Max-Forwards: 70",
    `From: <sip:+14155550100@127.0.0.1:${peer.port}>;tag=rawcaller`,
    `To: <sip:+14155550199@127.0.0.1:${fx.port}>`,
    `Call-ID: ${branch}@127.0.0.1`,
  ];
  // Only G.729 offered: the gateway cannot negotiate and answers 488 in the transaction.
  const sdp = [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 40000 RTP/AVP 18",
    "a=rtpmap:18 G729/8000",
    "",
  ].join("\r\n");
  await peer.send(
    [
      `INVITE sip:+14155550199@127.0.0.1:${fx.port} SIP/2.0`,
      ...common,
      "CSeq: 1 INVITE",
      `Contact: <sip:+14155550100@127.0.0.1:${peer.port}>`,
      "Content-Type: application/sdp",
      `Content-Length: ${sdp.length}`,
      "",
      sdp,
    ].join("\r\n"),
    to,
  );
  const finals = () => peer.received.filter((d) => d.text.startsWith("SIP/2.0 488"));
  await peer.waitFor(() => finals().length >= 4, "4 copies of the 488");
  const copies = finals().slice(0, 4);
  for (const copy of copies) assertEquals(copy.text, copies[0].text);
  assertGrowingGaps(copies.map((d) => d.at));
  // Nothing but a 100 Trying before the first 488.
  const before = peer.received.slice(0, peer.received.indexOf(copies[0])).map(firstLine);
  assertEquals(before.filter((l) => !l.startsWith("SIP/2.0 100")), []);

  const toTag = /;tag=([^;\s]+)/.exec(header(copies[0].text, "To"))?.[1];
  assert(toTag, "the 488 carries a To tag");
  await peer.send(
    [
      `ACK sip:+14155550199@127.0.0.1:${fx.port} SIP/2.0`,
      `Via: ${via}`,
      "Max-Forwards: 70",
      `From: <sip:+14155550100@127.0.0.1:${peer.port}>;tag=rawcaller`,
      `To: <sip:+14155550199@127.0.0.1:${fx.port}>;tag=${toTag}`,
      `Call-ID: ${branch}@127.0.0.1`,
      "CSeq: 1 ACK",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
    to,
  );
  const ackedAt = finals().length;
  // The gateway stopped retransmitting: at most one copy was already in flight.
  await fx.waitFor(() => fx.gateway.tables().retransmitting === 0 ? ({} as never) : undefined);
  assert(finals().length <= ackedAt + 1, `488s after the ACK: ${finals().length - ackedAt}`);
  assertEquals(fx.gateway.activeLegs, 0);
});
