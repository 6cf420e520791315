/**
 * A relay shard's Worker: one {@linkcode Relay} (its own origin) on its own UDP port, serving
 * WebTransport (`/moq`) and raw QUIC (`moq-00`) like the main thread's relay, plus a
 * {@linkcode ShardRouter} for the calls placed on other shards. Started by `./pool.ts`; see
 * `./protocol.ts` for the messages.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { Relay } from "../relay.ts";
import { listenMoq, type MoqEndpoint } from "../transport/endpoint.ts";
import { MoqClient } from "../client.ts";
import { createTokenVerifier } from "../../auth/verifier.ts";
import { moqAuthorizer } from "../../auth/moqt.ts";
import { createLogger, type Logger } from "../../log/mod.ts";
import { CrossShardLinks } from "./cross.ts";
import { ShardRouter } from "./router.ts";
import { ShardAuth } from "./auth.ts";
import type { FromShard, ShardInit, ToShard } from "./protocol.ts";
import { sidOf } from "../../voice/sid.ts";
import { relayTally } from "../../metrics/tally.ts";
import { forwardingSink } from "./log_forward.ts";

interface Running {
  readonly relay: Relay;
  readonly endpoint: MoqEndpoint;
  readonly links: CrossShardLinks;
  readonly router: ShardRouter;
  readonly log: Logger;
}

let running: Running | undefined;
let ports: readonly number[] = [];
// The certificates other shards may present: the newest and the one before it (a reload
// reaches the shards one by one).
let trust: string[] = [];

function post(message: FromShard): void {
  self.postMessage(message);
}

async function start(init: ShardInit): Promise<Running> {
  // Its records go to the main thread's logger (the server's sink), not this Worker's stdout.
  const log = createLogger({
    level: init.logLevel,
    json: true,
    sink: forwardingSink(post),
    fields: { shard: init.index },
  });
  trust = [init.cert];
  const shardAuth = await ShardAuth.create(init.shardSecret);
  const verifier = init.verifier &&
    shardAuth.accepting(await createTokenVerifier(init.verifier));
  const relay = new Relay({
    authorizeConnection: verifier && moqAuthorizer(verifier),
    log: log.child({ component: "relay" }),
    subscribeTimeoutMs: init.subscribeTimeoutMs,
    maxInFlightGroups: init.maxInFlightGroups,
    requestWindow: init.requestWindow,
  });
  const endpoint = listenMoq({
    hostname: init.hostname,
    port: init.port,
    cert: init.cert,
    key: init.key,
    onError: (error) => log.debug("QUIC handshake failed", { error }),
  });
  relay.serve(endpoint);
  const links = new CrossShardLinks({
    connect: async (index) => {
      const port = ports[index];
      if (!port) throw new Error(`Cannot reach relay shard ${index}: its port is unknown`);
      return await MoqClient.connect({
        hostname: init.connectHost,
        port,
        caCerts: trust,
        token: await shardAuth.mint(init.index),
      });
    },
    log,
  });
  const router = new ShardRouter({ self: init.index, origin: relay.origin, links, log });
  // A leg that PUBLISHes here for a call of another shard: its track goes on to that shard.
  router.pushForeignTracks((sid) => router.remoteShardOf(sid) ?? init.index);
  // A namespace announced here for a call of another shard: announced there, served from here.
  router.pushForeignNamespaces((sid) => router.remoteShardOf(sid) ?? init.index);
  // The tracks of this shard's own calls are told to the main thread (no media: the calls
  // service learns a client leg's answer and end from its uplink's life).
  let nextTrack = 0;
  relay.origin.route("*", (consumer) => {
    const sid = sidOf(consumer.info.namespace);
    consumer.close();
    if (sid === undefined || !router.ownsCall(sid)) return;
    const id = nextTrack++;
    const { name, capability = "" } = consumer.info;
    post({ type: "track", id, sid, name, capability });
    consumer.closed.then((error) => post({ type: "trackEnded", id, error: error?.message }));
  });
  return { relay, endpoint, links, router, log };
}

async function handle(message: ToShard): Promise<void> {
  switch (message.type) {
    case "init":
      try {
        running = await start(message);
        post({ type: "ready", port: running.endpoint.addr.port });
      } catch (error) {
        post({ type: "failed", message: (error as Error).message });
      }
      return;
    case "peers":
      ports = message.ports;
      return;
    case "certificate":
      trust = [message.cert, ...trust].slice(0, 2);
      running?.endpoint.reloadCertificate(message);
      return;
    case "place":
      running?.router.placed(message.sid, message.shard);
      return;
    case "release":
      running?.router.released(message.sid);
      running?.relay.origin.closeTracks(["voice", message.sid]);
      return;
    case "lost":
      running?.router.lost(message.shard);
      return;
    case "stats":
      post({
        type: "stats",
        id: message.id,
        sessions: running?.relay.sessionCount ?? 0,
        tracks: running?.relay.origin.trackCount ?? 0,
        cross: running?.links.counters() ?? {
          pulledTracks: 0,
          pushedTracks: 0,
          objectsIn: 0,
          bytesIn: 0,
          objectsOut: 0,
          bytesOut: 0,
        },
        // This Worker's own copy of the tally module: its relay's figures only.
        objects: relayTally.objects,
        droppedGroups: relayTally.droppedGroups,
      });
      return;
    case "close":
      try {
        if (running) {
          running.router.close();
          running.links.close();
          await running.relay.close(message.graceMs);
          running.endpoint.close();
        }
      } finally {
        // The main thread waits for this, then terminates the Worker whatever happened.
        post({ type: "closed" });
      }
      return;
    case "hang":
      // Fault injection (tests): this thread stops until the main thread lets it go.
      Atomics.wait(new Int32Array(message.hold), 0, 0);
      return;
    case "crash":
      // Fault injection (tests): an uncaught error, as a bug in the shard would raise.
      setTimeout(() => {
        throw new Error(message.reason);
      });
      return;
  }
}

self.onmessage = (event: MessageEvent<ToShard>) => {
  handle(event.data).catch((error) =>
    running?.log.error("Relay shard message failed", { type: event.data.type, error })
  );
};
