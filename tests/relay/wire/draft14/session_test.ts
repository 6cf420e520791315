/**
 * Unit tests of the draft-14 session's state machine and its publisher/subscriber halves,
 * over an in-memory transport pair (tests/relay/*_test.ts cover the same over real QUIC).
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { MoqError } from "../../../../src/relay/error.ts";
import { Origin, TrackError, TrackProducer } from "../../../../src/relay/model/mod.ts";
import { Session } from "../../../../src/relay/wire/draft14/session.ts";
import { transition } from "../../../../src/relay/wire/draft14/session_state.ts";
import { sessionErrorCode } from "../../../../src/relay/wire/draft14/error_codes.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { memoryTransports } from "../../../_lib/memory_transport.ts";
import { encodeDatagram } from "../../../../src/relay/wire/draft14/datagram.ts";

const log = createLogger({ level: "error" });

/** A client and a server session over one in-memory connection, set up. */
async function sessionPair() {
  const { client: ct, server: st } = memoryTransports();
  const serverOrigin = new Origin({ subscribeTimeoutMs: 0 });
  const clientOrigin = new Origin({ subscribeTimeoutMs: 0 });
  const server = new Session(st, { role: "server", origin: serverOrigin, log });
  const client = new Session(ct, { role: "client", origin: clientOrigin, log });
  await Promise.all([server.ready, client.ready]);
  return {
    client,
    server,
    serverOrigin,
    clientTransport: ct,
    serverTransport: st,
    async [Symbol.asyncDispose]() {
      client.close();
      server.close();
      await Promise.all([client.closed, server.closed]);
    },
  };
}

Deno.test("session states move only along the diagram's edges", () => {
  assertEquals(transition("setup", "established"), "established");
  assertEquals(transition("established", "draining"), "draining");
  assertEquals(transition("draining", "closed"), "closed");
  assertEquals(transition("setup", "closed"), "closed");
  for (
    const [from, to] of [
      ["closed", "established"],
      ["draining", "established"],
      ["setup", "draining"],
      ["closed", "closed"],
    ] as const
  ) {
    assertThrows(() => transition(from, to), TypeError);
  }
});

Deno.test("a session pair sets up, and closing is final and idempotent", async () => {
  const { client, server } = await sessionPair();
  assertEquals([client.state, server.state], ["established", "established"]);
  client.close("no_error", "bye");
  client.close("protocol_violation", "ignored: already closed");
  const [mine, theirs] = await Promise.all([client.closed, server.closed]);
  assertEquals([client.state, server.state], ["closed", "closed"]);
  assertEquals(mine.kind, "no_error");
  assertEquals([theirs.kind, sessionErrorCode(theirs), theirs.message], ["no_error", 0, "bye"]);
});

Deno.test("GOAWAY moves the server to draining and closes after the grace", async () => {
  const { client, server } = await sessionPair();
  server.goaway("", 0);
  assertEquals(server.state, "draining");
  const closed = await server.closed;
  assertEquals(closed.kind, "goaway_timeout");
  await client.closed;
});

Deno.test("a PUBLISHed track reaches the server's origin, objects and timestamps intact", async () => {
  await using pair = await sessionPair();
  const producer = new TrackProducer({ namespace: ["voice", "CAu"], name: "uplink" });
  await pair.client.publish(producer.consume());
  const consumer = await pair.serverOrigin.subscribe(["voice", "CAu"], "uplink");
  const group = producer.appendGroup();
  group.write({ id: 0, payload: Uint8Array.of(1, 2), timestamp: 1_000_000 });
  group.close();
  const received = await (await consumer.nextGroup())!.readObject();
  assertEquals([received?.payload, received?.timestamp], [Uint8Array.of(1, 2), 1_000_000]);
});

Deno.test("the server ending a PUBLISHed track unsubscribes it; the client's later end is no violation", async () => {
  await using pair = await sessionPair();
  const producer = new TrackProducer({ namespace: ["voice", "CAh"], name: "uplink" });
  const unused = new Promise<void>((resolve) => producer.onUnused(resolve));
  await pair.client.publish(producer.consume());
  pair.serverOrigin.closeTracks(["voice", "CAh"]); // a hangup
  await unused; // the client stopped sending the track on the server's UNSUBSCRIBE
  producer.close();
  // A round trip on the control stream proves the server has read whatever came before it.
  const next = new TrackProducer({ namespace: ["voice", "CAh2"], name: "uplink" });
  await pair.client.publish(next.consume());
  assertEquals([pair.client.state, pair.server.state], ["established", "established"]);
});

Deno.test("publishing on a closed session is refused at once", async () => {
  const pair = await sessionPair();
  pair.client.close();
  await pair.client.closed;
  const producer = new TrackProducer({ namespace: ["voice", "CAx"], name: "uplink" });
  await assertRejects(() => pair.client.publish(producer.consume()), TrackError, "closed");
  await pair[Symbol.asyncDispose]();
});

Deno.test("subscribing to a track nobody publishes fails with not_found, the session stays", async () => {
  await using pair = await sessionPair();
  const track = new TrackProducer({ namespace: ["voice", "CAnone"], name: "downlink" });
  const error = await assertRejects(() => pair.client.subscribe(track), TrackError);
  assertEquals(error.reason, "not_found");
  assertEquals(pair.client.state, "established");
});

Deno.test("a peer breaking the protocol closes the session with the neutral kind", async () => {
  const { client, server } = await sessionPair();
  // The server's halves report a violation through the session (as a decoder error would).
  server.close("duplicate_track_alias", "Track alias 3 is in use");
  const closed = await client.closed;
  assert(closed instanceof MoqError);
  assertEquals([closed.kind, sessionErrorCode(closed)], ["duplicate_track_alias", 0x5]);
});

Deno.test("datagrams for a subscription that did not accept the lane are dropped", async () => {
  await using pair = await sessionPair();
  const track = pair.serverOrigin.publishTrack({ namespace: ["voice", "CAn"], name: "uplink" });
  const consumer = new TrackProducer({ namespace: ["voice", "CAn"], name: "uplink" });
  const reader = consumer.consume();
  await pair.client.subscribe(consumer); // no datagram lane asked for
  // A publisher breaking the negotiation: an OBJECT_DATAGRAM for the subscription's alias (0).
  pair.serverTransport.sendDatagram(encodeDatagram({
    trackAlias: 0,
    groupId: 5,
    objectId: 0,
    publisherPriority: 0,
    endOfGroup: false,
    status: 0,
    payload: Uint8Array.of(9),
  }));
  const group = track.appendGroup(6);
  group.write({ id: 0, payload: Uint8Array.of(1) });
  group.close();
  const first = (await reader.nextGroup())!;
  assertEquals(first.id, 6, "the datagram's group 5 never appeared");
  assertEquals((await first.readObject())?.payload, Uint8Array.of(1));
});
