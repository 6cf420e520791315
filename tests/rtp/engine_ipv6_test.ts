/**
 * The io_uring engine's source filter over IPv6, through real sockets on loopback: a session
 * on `::1` (and one on `::`, dual-stack, whose IPv4 peers arrive IPv4-mapped) with its remote
 * fixed by signalling. Spoofed RTP from another port or another address is dropped in the
 * shard and counted; the real peer's audio passes, and the session's audio reaches it.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { NativeRtpEngine, rtpEngineUnavailable, RtpSession } from "../../src/rtp/mod.ts";
import { frames, payloads, RawPeer, TEST_PORTS, waitFor } from "./_udp.ts";

const ioUring = rtpEngineUnavailable("io_uring");
const ci = Deno.env.get("CI") === "true";

/**
 * The peer sends 20 frames (SSRC 0x1111, in sequence); after its 5th, each spoofer sends 5
 * in-sequence frames of the peer's own SSRC and sequence numbers, and the peer one frame of
 * an unnegotiated payload type. The peer's frames are sent after the spoofs, from one socket
 * each, so once all 20 are delivered every spoof before them was judged.
 */
async function spoof(session: RtpSession, peer: RawPeer, spoofers: RawPeer[]) {
  const got = frames(session, 20);
  for (let i = 0; i < 20; i++) {
    await peer.send(session.localPort, { sequenceNumber: 1000 + i });
    if (i === 4) {
      for (const s of spoofers) {
        for (let k = 1; k <= 5; k++) await s.send(session.localPort, { sequenceNumber: 1004 + k });
      }
      await peer.send(session.localPort, { sequenceNumber: 1005, payloadType: 8 });
    }
  }
  return await got;
}

/** A session on `engine` bound on `hostname` that takes RTP from `remote` only (not symmetric). */
function fixedRemote(
  engine: NativeRtpEngine,
  hostname: string,
  remote: Deno.NetAddr | {
    hostname: string;
    port: number;
  },
): Promise<RtpSession> {
  return RtpSession.open({
    hostname,
    portRange: TEST_PORTS,
    payloads,
    engine,
    symmetric: false,
    remote,
  });
}

/** The session's audio reaches `peer`, sent from the session's port on `from`. */
async function audioReaches(session: RtpSession, peer: RawPeer, from: string): Promise<void> {
  for (let i = 0; i < 3; i++) session.sendAudio(new Uint8Array(160).fill(i), 160);
  await waitFor(() => peer.received.length >= 3, 10_000, "the session's audio at the peer");
  assertEquals({ ...peer.received[0].from }, {
    transport: "udp",
    hostname: from,
    port: session.localPort,
  });
}

/** A test on a one-shard io_uring engine (skipped where io_uring cannot run, except in CI). */
function uringTest(name: string, fn: (engine: NativeRtpEngine) => Promise<void>): void {
  Deno.test({
    name,
    ignore: ioUring !== undefined && !ci,
    async fn() {
      assertEquals(ioUring, undefined, `io_uring must work in CI: ${ioUring}`);
      await using engine = NativeRtpEngine.open("io_uring", { shards: 1 });
      await fn(engine);
    },
  });
}

uringTest(
  "io_uring on ::1 with the remote fixed drops spoofed RTP from another port in the shard, counts it, and passes the peer's audio both ways",
  async (engine) => {
    using peer = new RawPeer(0, "::1");
    using other = new RawPeer(0, "::1");
    await using session = await fixedRemote(engine, "::1", { hostname: "::1", port: peer.port });
    const got = await spoof(session, peer, [other]);
    assertEquals(got.map((f) => f.sequence), Array.from({ length: 20 }, (_, i) => 1000 + i));
    assert(got.every((f) => f.ssrc === 0x1111));
    const { wrongSource, unknownPayloadType, staleSsrc } = session.stats;
    assertEquals({ wrongSource, unknownPayloadType, staleSsrc }, {
      wrongSource: 5,
      unknownPayloadType: 1,
      staleSsrc: 0,
    });
    assertEquals(engine.stats(0).rxFiltered, 6); // the shard dropped them: JS saw the 20
    // And back: the session's audio leaves its IPv6 socket for the peer.
    await audioReaches(session, peer, "::1");
    assertEquals(other.received.length, 0);
  },
);

uringTest(
  "io_uring dual-stack on :: takes an IPv4 peer arriving IPv4-mapped as its IPv4 remote, and drops spoofs from its port on ::1 and from another IPv4 port",
  async (engine) => {
    using peer = new RawPeer(0, "127.0.0.1");
    // The same port on another address (IPv6 loopback), and another port on the peer's.
    using samePort = new RawPeer(peer.port, "::1");
    using otherPort = new RawPeer(0, "127.0.0.1");
    await using session = await fixedRemote(engine, "::", {
      hostname: "127.0.0.1",
      port: peer.port,
    });
    const got = await spoof(session, peer, [samePort, otherPort]);
    assertEquals(got.map((f) => f.sequence), Array.from({ length: 20 }, (_, i) => 1000 + i));
    assert(got.every((f) => f.ssrc === 0x1111));
    const { wrongSource, unknownPayloadType } = session.stats;
    assertEquals({ wrongSource, unknownPayloadType }, { wrongSource: 10, unknownPayloadType: 1 });
    assertEquals(engine.stats(0).rxFiltered, 11);
    // Back to the IPv4 peer from the IPv6 socket (sent IPv4-mapped).
    await audioReaches(session, peer, "127.0.0.1");
  },
);
