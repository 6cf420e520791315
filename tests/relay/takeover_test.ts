/**
 * Same-credential takeover through a real relay over real QUIC on loopback (issues 10, 11,
 * 17): a peer that reconnects on a new session and PUBLISHes (or PUBLISH_NAMESPACEs) what its
 * dead session still publishes takes the track over at once — the subscribers stay subscribed
 * and read the new session's groups — while a peer of another identity, or one not authorized
 * for the call, is still refused.
 */
import { assertEquals, assertGreater, assertRejects } from "@std/assert";
import { createTokenVerifier, moqAuthorizer, signToken } from "../../src/auth/mod.ts";
import { MoqClient } from "../../src/relay/client.ts";
import type { TrackConsumer, TrackProducer } from "../../src/relay/model/mod.ts";
import { TrackError } from "../../src/relay/model/mod.ts";
import { type RelayFixture, startRelay, testLogger, until } from "../_lib/relay_fixture.ts";
import { probe } from "../auth/_moq_probe.ts";
import { PublishNamespaceErrorCode } from "../../src/relay/wire/draft14/mod.ts";

const SECRET = "takeover-test-secret-0123456789-abcdefghijklmnop";
const NS = ["voice", "CA1"];
const INFO = { namespace: NS, name: "uplink", capability: "voice/opus" };

const verifier = await createTokenVerifier({ hs256Secret: SECRET });

function token(subject: string, sids: string[] = ["CA1"]): Promise<string> {
  return signToken({
    hs256Secret: SECRET,
    scopes: ["media:publish", "media:subscribe"],
    voice: { sids },
    subject,
  });
}

async function authRelay(): Promise<RelayFixture> {
  return await startRelay({
    authorizeConnection: moqAuthorizer(verifier),
    subscribeTimeoutMs: 500,
  });
}

async function connect(fx: RelayFixture, jwt: string): Promise<MoqClient> {
  return await MoqClient.connect({
    hostname: "127.0.0.1",
    port: fx.port,
    caCerts: [fx.cert.certPem],
    token: jwt,
    log: testLogger().log,
  });
}

/** Writes one group of one object whose first byte is `mark`. */
function send(track: TrackProducer, groupId: number, mark: number): void {
  const group = track.appendGroup(groupId);
  group.write({ id: 0, payload: Uint8Array.of(mark) });
  group.close();
}

/** The next object whose first byte is `mark`, and the id of the group it came in. */
async function receive(reader: TrackConsumer, mark: number): Promise<number> {
  for (;;) {
    const group = await reader.nextGroup();
    if (!group) throw new Error(`Track ended before object ${mark} came`);
    for (let o; (o = await group.readObject());) if (o.payload[0] === mark) return group.id;
  }
}

/** Resolves when the relay no longer reads `track` from its publisher (UNSUBSCRIBE came). */
function unsubscribed(track: TrackProducer): Promise<void> {
  return new Promise((resolve) => {
    if (track.consumers === 0) resolve();
    track.onUnused(resolve);
  });
}

Deno.test("a same-identity re-PUBLISH from a new session takes the track over while the old session is still open, and the subscriber reads on without resubscribing", async () => {
  await using fx = await authRelay();
  const alice = await token("client:alice");
  await using oldSession = await connect(fx, alice);
  await using listener = await connect(fx, await token("agent:echo"));
  const oldTrack = await oldSession.publish(INFO);
  using reader = await listener.subscribe(NS, "uplink");
  send(oldTrack, 500, 1);
  const oldGroup = await receive(reader, 1);

  // The reconnect: same token subject, a new QUIC session, group ids restarting at 0.
  await using newSession = await connect(fx, alice);
  const newTrack = await newSession.publish(INFO);
  await unsubscribed(oldTrack); // the relay ended the old session's publication
  send(newTrack, 0, 2);
  const newGroup = await receive(reader, 2);

  assertGreater(newGroup, oldGroup, "group ids keep moving forward for the subscriber");
  assertEquals(oldSession.session.state, "established", "the old session was still open");
  // The old session's end, later, does not end the new publication.
  oldSession.close();
  await oldSession.closed;
  await until(() => fx.relay.sessionCount === 2);
  send(newTrack, 1, 3);
  await receive(reader, 3);
  assertEquals(fx.relay.origin.trackCount, 1);
  assertEquals(fx.relay.trackStats.receiving, 1, "only the new session's track is received");
});

Deno.test("another identity with the same call's rights cannot take a live track over, and a token for another call cannot publish it at all", async () => {
  await using fx = await authRelay();
  await using aliceSession = await connect(fx, await token("client:alice"));
  await using bobSession = await connect(fx, await token("client:bob"));
  await using strangerSession = await connect(fx, await token("client:alice", ["CA2"]));
  await using listener = await connect(fx, await token("agent:echo"));
  const track = await aliceSession.publish(INFO);
  using reader = await listener.subscribe(NS, "uplink");

  const byBob = await assertRejects(() => bobSession.publish(INFO), TrackError);
  assertEquals(byBob.reason, "unauthorized");
  const byStranger = await assertRejects(() => strangerSession.publish(INFO), TrackError);
  assertEquals(byStranger.reason, "unauthorized");

  assertEquals(track.consumers, 1, "alice's publication was not touched");
  send(track, 0, 9);
  await receive(reader, 9);
  assertEquals(bobSession.session.state, "established", "a refusal is a request error");
});

Deno.test("a takeover storm (two sessions of one identity re-PUBLISHing in turn) leaves one track, one upstream and one subscriber, reading the last publisher", async () => {
  await using fx = await authRelay();
  const alice = await token("client:alice");
  await using a = await connect(fx, alice);
  await using b = await connect(fx, alice);
  await using listener = await connect(fx, await token("agent:echo"));
  let current = await a.publish(INFO);
  using reader = await listener.subscribe(NS, "uplink");
  for (let round = 1; round <= 30; round++) {
    const previous = current;
    current = await (round % 2 ? b : a).publish(INFO);
    await unsubscribed(previous);
    send(current, 0, round);
    await receive(reader, round);
  }
  assertEquals(fx.relay.origin.trackCount, 1);
  assertEquals(fx.relay.trackStats, { serving: 1, receiving: 1 });
});

Deno.test("a same-identity PUBLISH_NAMESPACE from a new session moves the tracks the old one serves: the subscriber reads the new publisher's groups", async () => {
  await using fx = await authRelay();
  const alice = await token("client:alice");
  await using oldSession = await connect(fx, alice);
  await using listener = await connect(fx, await token("agent:echo"));
  const oldTrackOf = await oldSession.publishNamespace(NS);
  const oldTrack = oldTrackOf("uplink", "voice/opus");
  using reader = await listener.subscribe(NS, "uplink");
  send(oldTrack, 7, 1);
  await receive(reader, 1);

  await using newSession = await connect(fx, alice);
  const newTrack = (await newSession.publishNamespace(NS))("uplink", "voice/opus");
  await until(() => newTrack.consumers === 1); // the relay subscribed to the new publisher
  await unsubscribed(oldTrack);
  send(newTrack, 0, 2);
  await receive(reader, 2);
  assertEquals(oldSession.session.state, "established");
  oldSession.close();
  await oldSession.closed;
  send(newTrack, 1, 3);
  await receive(reader, 3);
});

Deno.test("a peer cannot take over a track the server publishes in process, whatever its rights", async () => {
  await using fx = await startRelay();
  const local = fx.relay.origin.publishTrack(INFO);
  const peer = await fx.client();
  const error = await assertRejects(() => peer.publish(INFO), TrackError);
  assertEquals(error.reason, "internal");
  assertEquals(local.done, false);
});

Deno.test("another identity's PUBLISH_NAMESPACE of a namespace a peer publishes is refused with UNAUTHORIZED, and the subscribers stay on the first", async () => {
  await using fx = await authRelay();
  await using alice = await connect(fx, await token("client:alice"));
  await using listener = await connect(fx, await token("agent:echo"));
  const track = (await alice.publishNamespace(NS))("uplink", "voice/opus");
  using reader = await listener.subscribe(NS, "uplink");
  await using bob = await probe("quic", {
    port: fx.port,
    cert: fx.cert,
    setupToken: await token("client:bob"),
  });
  await bob.send({
    type: "publish_namespace",
    requestId: 0,
    namespace: NS,
    parameters: new Map(),
  });
  const reply = await bob.reply("publish_namespace_error", 0);
  assertEquals(
    reply.type === "publish_namespace_error" && reply.errorCode,
    PublishNamespaceErrorCode.UNAUTHORIZED,
  );
  send(track, 0, 4);
  await receive(reader, 4);
  assertEquals(track.consumers, 1, "the relay still reads alice's track");
});
