/**
 * Interop through our relay with npm:@moq/net 0.3.4, a real third-party draft-14 peer over
 * WebTransport (its WebSocket fallback is disabled, and the relay answers its CLIENT_SETUP
 * with draft-14, the only IETF version it offers that we speak).
 *
 * @moq/net quirks these tests work around (traced against 0.3.4 under Deno 2.9.6):
 * - Its publisher starts every subscription at the latest group whatever the filter says, so
 *   tests subscribe before a @moq/net publisher writes its first group.
 * - Under Deno its WebTransport group streams never FIN; the relay ends an upstream group
 *   shortly after the next one starts, so the newest group stays open until the track ends.
 *   Tests read a known number of frames instead of waiting for a group's end.
 * - Its subscriber's `readFrameSequence()` drops the rest of a group as soon as a newer group
 *   is buffered; tests read with `recvGroup()`, which hands over every group.
 * - Its final PUBLISH_DONE / PUBLISH_NAMESPACE_DONE / UNSUBSCRIBE are written asynchronously and
 *   lost if the session is closed at once, so a clean leave waits until the relay has taken
 *   them (the namespace withdrawn, the session's subscriptions at zero) before `conn.close()`.
 * - Writers pace themselves on delivery: each group is written once the reader has the one
 *   before, as the relay ends an upstream group (which never FINs) when the next one starts.
 * - It logs through `console.debug`, which is silenced while each test runs.
 *
 * @module
 */
import { Broadcast, Path, Time } from "@moq/net";
import type { Connection, Group, Track } from "@moq/net";
import { assert, assertEquals } from "@std/assert";
import { Relay } from "../../src/relay/relay.ts";
import { listenMoq } from "../../src/relay/transport/mod.ts";
import { MoqClient } from "../../src/relay/client.ts";
import type { Session } from "../../src/relay/wire/draft14/session.ts";
import type { TrackConsumer } from "../../src/relay/model/mod.ts";
import {
  encodeTimestampExtension,
  joinTimestamp,
} from "../../src/relay/wire/draft14/extensions.ts";
import { testCertificate, testLogger } from "../_lib/relay_fixture.ts";
import { connectMoqNet, quietDebug, tolerateMoqNetClosingBug } from "../_lib/moq_net.ts";
import { pace, Progress, waitFor } from "../_lib/wait.ts";
import type { TlsCertificate } from "../../src/server/certificate.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A relay on loopback that also hands the test its server sessions, in accept order. */
interface ObservedRelay extends AsyncDisposable {
  readonly relay: Relay;
  readonly port: number;
  readonly cert: TlsCertificate;
  readonly sessions: Session[];
  /** The relay's session with a connection made by {@linkcode moqnet}. */
  sessionOf(conn: Connection.Established): Session;
  /** A raw-QUIC {@linkcode MoqClient}, closed with the relay. */
  client(): Promise<MoqClient>;
  /** A @moq/net connection over WebTransport, closed with the relay. */
  moqnet(): Promise<Connection.Established>;
}

async function startObservedRelay(): Promise<ObservedRelay> {
  const cert = await testCertificate();
  const { log } = testLogger();
  const relay = new Relay({ log });
  const endpoint = listenMoq({
    hostname: "127.0.0.1",
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
  });
  const sessions: Session[] = [];
  // Relay.serve() without hiding the sessions: the tests read their stats.
  const serving = (async () => {
    for await (const transport of endpoint) {
      relay.accept(transport).then((s) => sessions.push(s), () => {});
    }
  })();
  const port = endpoint.addr.port;
  const clients: MoqClient[] = [];
  const conns: Connection.Established[] = [];
  const sessionOf = new Map<Connection.Established, Session>();
  // Connections are made one at a time, each until the relay has its session, so the n-th
  // session accepted belongs to the n-th connection.
  let connecting: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(connect: () => Promise<T>): Promise<[T, Session]> => {
    const run = connecting.then(async (): Promise<[T, Session]> => {
      const before = sessions.length;
      const peer = await connect();
      await waitFor("the relay to accept the session", () => sessions.length > before);
      return [peer, sessions[before]];
    });
    connecting = run.catch(() => {}); // the failure is the caller's; the next connect goes on
    return run;
  };
  return {
    relay,
    port,
    cert,
    sessions,
    sessionOf(conn) {
      const session = sessionOf.get(conn);
      if (!session) throw new Error("Not a connection of this relay's moqnet()");
      return session;
    },
    async client() {
      const [client] = await oneAtATime(() =>
        MoqClient.connect({
          hostname: "127.0.0.1",
          port,
          caCerts: [cert.certPem],
          log: testLogger().log,
        })
      );
      clients.push(client);
      return client;
    },
    async moqnet() {
      const [conn, session] = await oneAtATime(() =>
        connectMoqNet(`https://127.0.0.1:${port}/moq`, cert.sha256Hex)
      );
      conns.push(conn);
      sessionOf.set(conn, session);
      return conn;
    },
    async [Symbol.asyncDispose]() {
      for (const conn of conns) conn.close();
      await Promise.all(conns.map((c) => c.closed.catch(() => {})));
      for (const c of clients) c.close();
      await Promise.all(clients.map((c) => c.closed));
      await relay.close(50);
      endpoint.close();
      await serving;
    },
  };
}

// @moq/net 0.3.4 opens a group stream from a promise nobody awaits when its connection closes
// under a publisher: only that rejection is ignored (see tests/_lib/moq_net.ts).
tolerateMoqNetClosingBug();

/** What frame `i` of group `g` carries, so every frame is distinguishable. */
const payloadOf = (g: number, i: number) => `g${g}f${i}`;

/**
 * Reads `count` objects from our client's track as `{group, id, text, extensions}`, where
 * `extensions` is the block the relay forwards (timestamp first, then the other headers);
 * `progress` counts the objects read.
 */
async function readOurs(track: TrackConsumer, count: number, progress = new Progress()) {
  const seen: { group: number; id: number; text: string; extensions?: Uint8Array }[] = [];
  while (seen.length < count) {
    const group = await track.nextGroup();
    if (!group) break;
    for (let o; seen.length < count && (o = await group.readObject());) {
      seen.push({
        group: group.id,
        id: o.id,
        text: decoder.decode(o.payload),
        extensions: joinTimestamp(o.timestamp, o.extensions),
      });
      progress.add();
    }
  }
  return seen;
}

/**
 * Reads `groups` groups of `frames` frames each from a @moq/net subscription, as
 * `"g<group>f<frame>:<payload>"` strings sorted by group; `progress` counts the frames read.
 */
async function readMoqnet(
  sub: Track.Subscriber,
  groups: number,
  frames: number,
  progress = new Progress(),
) {
  const got: { sequence: number; frames: string[] }[] = [];
  while (got.length < groups) {
    const group: Group.Consumer | undefined = await sub.recvGroup();
    if (!group) break;
    const entry = { sequence: group.sequence, frames: [] as string[] };
    got.push(entry);
    for (let i = 0; i < frames; i++) {
      const frame = await group.readFrameSequence();
      if (!frame) break;
      entry.frames.push(`g${group.sequence}f${frame.sequence}:${decoder.decode(frame.payload)}`);
      progress.add();
    }
  }
  return got.sort((a, b) => a.sequence - b.sequence);
}

function expectedMoqnet(groups: number, frames: number, firstGroup = 0) {
  return Array.from({ length: groups }, (_, k) => {
    const g = firstGroup + k;
    return {
      sequence: g,
      frames: Array.from({ length: frames }, (_, i) => `g${g}f${i}:${payloadOf(g, i)}`),
    };
  });
}

/** Writes `frames` frames into a new @moq/net group, timestamped `1000 + 100g + i` ms. */
function writeMoqnetGroup(track: Track.Producer, frames: number): number {
  const group = track.appendGroup();
  const g = group.sequence;
  for (let i = 0; i < frames; i++) {
    group.writeFrame({
      payload: encoder.encode(payloadOf(g, i)),
      timestamp: Time.Timestamp.fromMillis(1000 + 100 * g + i),
    });
  }
  group.close();
  return g;
}

/** A @moq/net publisher of one namespace and its tracks, with a clean leave. */
async function moqnetPublisher(fx: ObservedRelay, sid: string, ...names: string[]) {
  const conn = await fx.moqnet();
  const broadcast = new Broadcast.Producer();
  const tracks = names.map((name) => broadcast.createTrack(name));
  conn.publish(Path.from(`voice/${sid}`), broadcast);
  await waitFor(
    "the relay to learn the namespace",
    () => fx.relay.origin.namespaces().some((ns) => ns.join("/") === `voice/${sid}`),
  );
  return {
    conn,
    tracks,
    /** The relay's session with this publisher. */
    session: fx.sessionOf(conn),
    async leave() {
      const session = fx.sessionOf(conn);
      for (const track of tracks) track.close();
      broadcast.close();
      await waitFor(
        "the relay to take PUBLISH_DONE and PUBLISH_NAMESPACE_DONE",
        () =>
          session.stats.receiving === 0 &&
          !fx.relay.origin.namespaces().some((ns) => ns.join("/") === `voice/${sid}`),
      );
      conn.close();
      await conn.closed;
    },
  };
}

/** Closes `closers` (subscriptions, broadcasts), waits until the relay took the UNSUBSCRIBEs, then leaves. */
async function leaveMoqnet(
  fx: ObservedRelay,
  conn: Connection.Established,
  ...closers: { close(): void }[]
) {
  const session = fx.sessionOf(conn);
  for (const c of closers) c.close();
  await waitFor("the relay to take the UNSUBSCRIBEs", () => session.stats.serving === 0);
  conn.close();
  await conn.closed;
}

Deno.test("a @moq/net publisher's frames reach our subscriber in order with their timestamps", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA1", "uplink");
  const [uplink] = publisher.tracks;
  const subscriber = await fx.client();
  const reader = await subscriber.subscribe(["voice", "CA1"], "uplink");
  const progress = new Progress();
  const pending = readOurs(reader, 30, progress);
  for (let g = 0; g < 3; g++) {
    writeMoqnetGroup(uplink, 10);
    await progress.reached(10 * (g + 1), `group ${g} at our subscriber`);
  }
  const got = await pending;
  assertEquals(
    got.map((o) => `${o.group}/${o.id}/${o.text}`),
    Array.from({ length: 30 }, (_, k) => {
      const g = Math.floor(k / 10), i = k % 10;
      return `${g}/${i}/${payloadOf(g, i)}`;
    }),
  );
  for (const o of got) {
    const ms = 1000 + 100 * o.group + o.id;
    assertEquals(
      o.extensions,
      encodeTimestampExtension(ms),
      "the timestamp extension passes through",
    );
  }
  reader.close();
  await publisher.leave();
});

Deno.test("our publisher's PUBLISHed track reaches a @moq/net subscriber, every group from object 0", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await fx.client();
  const downlink = await publisher.publish({
    namespace: ["voice", "CA2"],
    name: "downlink",
    capability: "voice/opus",
  });
  const writeGroup = (frames: number) => {
    const group = downlink.appendGroup();
    for (let i = 0; i < frames; i++) {
      group.write({ id: i, payload: encoder.encode(payloadOf(group.id, i)) });
    }
    group.close();
  };
  // Group 0 exists before @moq/net subscribes: the relay replays the newest group from object
  // 0, which a @moq/net subscriber requires (it rejects a group stream that starts later).
  writeGroup(10);
  const conn = await fx.moqnet();
  const broadcast = conn.consume(Path.from("voice/CA2"));
  const sub = broadcast.subscribe("downlink");
  assertEquals(await readMoqnet(sub, 1, 10), expectedMoqnet(1, 10));
  const progress = new Progress();
  const pending = readMoqnet(sub, 2, 10, progress);
  writeGroup(10);
  await progress.reached(10, "group 1 at the @moq/net subscriber");
  writeGroup(10);
  assertEquals(await pending, expectedMoqnet(2, 10, 1));
  downlink.close(); // PUBLISH_DONE upstream, then downstream: the subscription ends cleanly
  assertEquals(await sub.closed, null);
  assertEquals(await sub.recvGroup(), undefined);
  await leaveMoqnet(fx, conn, broadcast);
});

Deno.test("a track offered on the datagram lane reaches a @moq/net subscriber, which never asked for it, on streams", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await fx.client();
  const downlink = await publisher.publish({
    namespace: ["voice", "CA2d"],
    name: "downlink",
    capability: "voice/opus",
    datagrams: true,
  });
  const conn = await fx.moqnet();
  const broadcast = conn.consume(Path.from("voice/CA2d"));
  const sub = broadcast.subscribe("downlink");
  const progress = new Progress();
  const pending = readMoqnet(sub, 2, 10, progress);
  for (let g = 0; g < 2; g++) {
    const group = downlink.appendGroup();
    for (let i = 0; i < 10; i++) {
      group.write({ id: i, payload: encoder.encode(payloadOf(group.id, i)) });
    }
    group.close();
    await progress.reached(10 * (g + 1), `group ${g} at the @moq/net subscriber`);
  }
  // @moq/net sends no datagram-lane parameter, so the relay forwards on group streams: every
  // frame arrives, in order, in whole groups (it reads no datagrams at all).
  assertEquals(await pending, expectedMoqnet(2, 10));
  downlink.close();
  await leaveMoqnet(fx, conn, broadcast);
});

Deno.test("our namespace publisher's track reaches a @moq/net subscriber", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await fx.client();
  const trackOf = await publisher.publishNamespace(["voice", "CA3"]);
  await waitFor("the relay to learn the namespace", () => fx.relay.origin.namespaces().length > 0);
  const conn = await fx.moqnet();
  const broadcast = conn.consume(Path.from("voice/CA3"));
  const sub = broadcast.subscribe("downlink");
  const downlink = trackOf("downlink", "voice/pcm16");
  await waitFor("the relay's upstream SUBSCRIBE", () => downlink.consumers > 0);
  await waitFor(
    "the relay's SUBSCRIBE_OK to @moq/net",
    () => fx.sessions.some((s) => s.transport.kind === "webtransport" && s.stats.serving > 0),
  );
  const progress = new Progress();
  const pending = readMoqnet(sub, 3, 10, progress);
  for (let g = 0; g < 3; g++) {
    const group = downlink.appendGroup();
    for (let i = 0; i < 10; i++) group.write({ id: i, payload: encoder.encode(payloadOf(g, i)) });
    group.close();
    await progress.reached(10 * (g + 1), `group ${g} at the @moq/net subscriber`);
  }
  assertEquals(await pending, expectedMoqnet(3, 10));
  await leaveMoqnet(fx, conn, sub, broadcast);
  await waitFor("the relay to UNSUBSCRIBE upstream", () => downlink.consumers === 0);
});

Deno.test("two @moq/net subscribers share one upstream subscription to a @moq/net publisher", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA4", "uplink");
  const [uplink] = publisher.tracks;
  const subscribers = await Promise.all([fx.moqnet(), fx.moqnet()]);
  const subs = subscribers.map((conn) => {
    const broadcast = conn.consume(Path.from("voice/CA4"));
    return { conn, broadcast, sub: broadcast.subscribe("uplink") };
  });
  await waitFor(
    "both SUBSCRIBEs to be served and the upstream SUBSCRIBE answered",
    () =>
      fx.sessions.filter((s) => s !== publisher.session && s.stats.serving === 1).length === 2 &&
      publisher.session.stats.receiving >= 1,
  );
  assertEquals(publisher.session.stats.receiving, 1, "the relay holds one upstream subscription");
  assertEquals(fx.relay.origin.trackCount, 1);
  const progress = subs.map(() => new Progress());
  const pending = subs.map(({ sub }, k) => readMoqnet(sub, 3, 10, progress[k]));
  for (let g = 0; g < 3; g++) {
    writeMoqnetGroup(uplink, 10);
    await Promise.all(
      progress.map((p, k) => p.reached(10 * (g + 1), `group ${g} at subscriber ${k}`)),
    );
  }
  for (const got of await Promise.all(pending)) assertEquals(got, expectedMoqnet(3, 10));
  assertEquals(publisher.session.stats.receiving, 1, "still one upstream subscription");
  const first = fx.sessionOf(subs[0].conn);
  await leaveMoqnet(fx, subs[0].conn, subs[0].sub, subs[0].broadcast);
  await first.closed; // the relay has dropped everything of the first subscriber's
  assertEquals(publisher.session.stats.receiving, 1, "the other subscriber still needs it");
  await leaveMoqnet(fx, subs[1].conn, subs[1].sub, subs[1].broadcast);
  await waitFor("the upstream UNSUBSCRIBE", () => publisher.session.stats.receiving === 0);
  await publisher.leave();
});

Deno.test("200 groups from a @moq/net publisher whose streams never FIN all reach a @moq/net subscriber", async () => {
  // Deno's WebTransport client never sends FIN, so each upstream group stream stays open until
  // the relay cancels it when the next group starts; a leak of stream credit on either hop
  // would stall this at about 100 groups.
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA5", "uplink");
  const [uplink] = publisher.tracks;
  const conn = await fx.moqnet();
  const broadcast = conn.consume(Path.from("voice/CA5"));
  const sub = broadcast.subscribe("uplink");
  await waitFor(
    "the subscription to be served",
    () => fx.sessions.some((s) => s !== publisher.session && s.stats.serving === 1),
  );
  const GROUPS = 200;
  const progress = new Progress();
  const pending = readMoqnet(sub, GROUPS, 2, progress);
  for (let g = 0; g < GROUPS; g++) {
    writeMoqnetGroup(uplink, 2);
    await progress.reached(2 * (g + 1), `group ${g} at the @moq/net subscriber`);
  }
  const got = await pending;
  assertEquals(got.length, GROUPS);
  assertEquals(got, expectedMoqnet(GROUPS, 2));
  await leaveMoqnet(fx, conn, sub, broadcast);
  await publisher.leave();
});

Deno.test("when our subscriber leaves the relay unsubscribes from the @moq/net publisher", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA6", "uplink");
  const [uplink] = publisher.tracks;
  const subscriber = await fx.client();
  const reader = await subscriber.subscribe(["voice", "CA6"], "uplink");
  assertEquals(publisher.session.stats.receiving, 1);
  const pending = readOurs(reader, 10);
  writeMoqnetGroup(uplink, 10);
  assertEquals((await pending).length, 10);
  reader.close(); // UNSUBSCRIBE to the relay; the relay's last consumer goes away
  await waitFor("the upstream UNSUBSCRIBE", () => publisher.session.stats.receiving === 0);
  await waitFor("the relay to drop the track", () => fx.relay.origin.trackCount === 0);
  await publisher.leave();
});

Deno.test("when a @moq/net publisher leaves, a @moq/net subscriber's track ends", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA7", "uplink");
  const [uplink] = publisher.tracks;
  const conn = await fx.moqnet();
  const broadcast = conn.consume(Path.from("voice/CA7"));
  const sub = broadcast.subscribe("uplink");
  await waitFor(
    "the subscription to be served",
    () => fx.sessions.some((s) => s !== publisher.session && s.stats.serving === 1),
  );
  const pending = readMoqnet(sub, 1, 3);
  writeMoqnetGroup(uplink, 3);
  assertEquals(await pending, expectedMoqnet(1, 3));
  await publisher.leave(); // PUBLISH_DONE, PUBLISH_NAMESPACE_DONE, then the session closes
  assertEquals(await sub.closed, null, "PUBLISH_DONE ends the subscription cleanly");
  assertEquals(await sub.recvGroup(), undefined);
  assertEquals(fx.relay.origin.trackCount, 0);
  assertEquals(fx.relay.origin.namespaces(), []);
  await leaveMoqnet(fx, conn, broadcast);
});

Deno.test("when a @moq/net publisher drops its session abruptly, our subscriber's track ends", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA8", "uplink");
  const [uplink] = publisher.tracks;
  const subscriber = await fx.client();
  const reader = await subscriber.subscribe(["voice", "CA8"], "uplink");
  const pending = readOurs(reader, 3);
  writeMoqnetGroup(uplink, 3);
  assertEquals((await pending).length, 3);
  // No PUBLISH_DONE or PUBLISH_NAMESPACE_DONE: the lost session must end the track by itself.
  publisher.conn.close();
  await publisher.conn.closed;
  const error = await reader.closed;
  assert(error instanceof Error, "a lost publisher ends the track with an error");
  assertEquals(await reader.nextGroup(), undefined);
  await waitFor(
    "the relay to forget the namespace",
    () => fx.relay.origin.namespaces().length === 0,
  );
});

Deno.test("a subscriber leaving while a large @moq/net object is in flight leaves the publisher's session up", async () => {
  // The relay cancels the upstream group streams of a track nobody wants any more; a read
  // cut off mid-object by our own cancel is not the publisher's protocol violation.
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const publisher = await moqnetPublisher(fx, "CA9", "uplink");
  const [uplink] = publisher.tracks;
  const big = new Uint8Array(256 * 1024);
  for (let round = 0; round < 5; round++) {
    const subscriber = await fx.client();
    const reader = await subscriber.subscribe(["voice", "CA9"], "uplink");
    const first = reader.nextGroup();
    let sending = true;
    const sender = (async () => {
      while (sending) {
        const group = uplink.appendGroup();
        group.writeFrame({ payload: big, timestamp: Time.Timestamp.now() });
        group.close();
        await pace(5); // a steady sender (and a turn of the event loop) while the subscriber leaves
      }
    })();
    assert(await first, "a group arrived");
    reader.close(); // mid-object, most likely: the relay drops the track and its streams
    await waitFor("the upstream UNSUBSCRIBE", () => publisher.session.stats.receiving === 0);
    sending = false;
    await sender;
    // Every upstream stream of the dropped track has been cancelled and its read has ended, so
    // a cut-off read that were taken for the publisher's fault would have closed it by now.
    await waitFor(
      "the relay to end the cancelled upstream streams",
      () => fx.relay.dataStreams.open === 0,
    );
    assertEquals(publisher.session.state, "established", `round ${round}`);
  }
  await publisher.leave();
});

Deno.test("@moq/net announced() learns published namespaces through SUBSCRIBE_NAMESPACE", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const watcher = await fx.moqnet();
  const announcements = watcher.announced(Path.from("voice"));
  const seen = new Set<string>();
  const announcedAs = async (path: string) => {
    while (!seen.has(path)) {
      const event = await announcements.next();
      assert(event, "the announcement stream ended early");
      if (event.active) seen.add(String(event.path));
    }
  };
  // One namespace published while the watch may still be on its way, one once the watcher
  // heard of the first (so the watch is answered), one outside the prefix.
  const early = await fx.client();
  await early.publishNamespace(["voice", "early"]);
  await announcedAs("early");
  const late = await fx.client();
  await late.publishNamespace(["voice", "late"]);
  await late.publishNamespace(["other", "x"]);
  await announcedAs("late");
  assertEquals([...seen].sort(), ["early", "late"]);
  // The publisher leaving withdraws its namespace: PUBLISH_NAMESPACE_DONE reaches the watcher.
  late.close();
  for (;;) {
    const event = await announcements.next();
    assert(event, "the announcement stream ended before the withdrawal");
    if (!event.active && String(event.path) === "late") break;
  }
  announcements.close();
});

Deno.test("a second @moq/net publisher of the same namespace (a reconnect) takes our subscriber's track over from the first, which is unsubscribed; the first leaving later does not end it", async () => {
  using _quiet = quietDebug();
  await using fx = await startObservedRelay();
  const first = await moqnetPublisher(fx, "CA9", "uplink");
  const subscriber = await fx.client();
  const reader = await subscriber.subscribe(["voice", "CA9"], "uplink");
  const progress = new Progress();
  const before = readOurs(reader, 5, progress);
  writeMoqnetGroup(first.tracks[0], 5);
  const fromFirst = await before;
  assertEquals(fromFirst.map((o) => o.group), [0, 0, 0, 0, 0]);

  const second = await moqnetPublisher(fx, "CA9", "uplink");
  await waitFor(
    "the relay to subscribe to the second publisher",
    () => second.session.stats.receiving === 1,
  );
  await waitFor(
    "the relay to unsubscribe from the first",
    () => first.session.stats.receiving === 0,
  );
  const after = readOurs(reader, 5);
  writeMoqnetGroup(second.tracks[0], 5); // its own group 0
  const fromSecond = await after;
  assertEquals(fromSecond.map((o) => o.text), [0, 1, 2, 3, 4].map((i) => payloadOf(0, i)));
  assert(fromSecond[0].group > 0, "the second publisher's group 0 follows the first's ids");

  first.conn.close();
  await first.conn.closed.catch(() => {}); // an abrupt leave
  const last = readOurs(reader, 5);
  const g = writeMoqnetGroup(second.tracks[0], 5);
  assertEquals((await last).map((o) => o.text), [0, 1, 2, 3, 4].map((i) => payloadOf(g, i)));
  reader.close();
  await second.leave();
});
