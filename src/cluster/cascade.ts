/**
 * Relay cascading: a namespace published on one node (a MoQT PUBLISH_NAMESPACE from a client)
 * is announced to every other node through Redis, and each of them serves it in its own origin
 * by subscribing upstream to the publishing node over raw QUIC (`moq-00`). However many
 * subscribers a node has for a track, it holds one upstream subscription (the origin shares
 * one pulled track per name) over one MoQT session per peer node.
 *
 * ```text
 * namespaces    hash JSON(namespace) → node id      (the namespace → node map)
 * announce      pub/sub channel {namespace, node, active}
 * ```
 *
 * Cascaded tracks carry no capability in this node's origin: in-process routes (the calls
 * service, plugins) act only on their own node's tracks, never on a copy of another node's.
 * Tracks a node publishes whole (PUBLISH, or in process: a call's legs) are not announced;
 * they stay on the node that owns the call.
 *
 * Uses only the relay's public API: {@linkcode Origin} (publishNamespace, watchNamespaces,
 * the producer/consumer handles) and {@linkcode MoqClient}.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { Origin, Registration } from "../relay/model/origin.ts";
import type { TrackConsumer, TrackProducer } from "../relay/model/track.ts";
import { TrackError } from "../relay/model/track_error.ts";
import type { MoqClient } from "../relay/client.ts";
import type { NodeInfo } from "./node_lease.ts";

/** Options for {@linkcode RelayCascade.start}. */
export interface RelayCascadeOptions {
  /** This node's relay origin. */
  readonly origin: Origin;
  /** A connected client; the cascade subscribes on a duplicate. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly nodeId: string;
  /** A live node's info (undefined: its lease expired). */
  readonly peer: (nodeId: string) => Promise<NodeInfo | undefined>;
  /** Opens a MoQT session to a peer's relay (raw QUIC, with a token the peer accepts). */
  readonly connect: (peer: NodeInfo) => Promise<MoqClient>;
  readonly log: Logger;
}

interface Announcement {
  readonly namespace: readonly string[];
  readonly node: string;
  readonly active: boolean;
}

/**
 * This node's side of the cascade.
 *
 * @example
 * ```ts ignore
 * import { RelayCascade } from "./cascade.ts";
 * await using cascade = await RelayCascade.start({ origin: relay.origin, redis, prefix, nodeId, peer, connect, log });
 * ```
 */
export class RelayCascade implements AsyncDisposable {
  readonly #o: RelayCascadeOptions;
  readonly #subscriber: Redis;
  /** Remote namespaces served here, by JSON key. */
  readonly #remote = new Map<string, { node: string; registration: Registration }>();
  /**
   * Keys whose registration is this cascade's own copy of a remote namespace: set before
   * registering, because the origin tells watchers synchronously (an echo must not be announced
   * as this node's, or two nodes would each serve the namespace from the other).
   */
  readonly #copies = new Set<string>();
  /** One MoQT session per peer node. */
  readonly #sessions = new Map<string, Promise<MoqClient>>();
  #watch: Registration | undefined;
  #closed = false;
  /** Upstream subscriptions opened (for tests and stats). */
  #upstreams = 0;

  private constructor(options: RelayCascadeOptions, subscriber: Redis) {
    this.#o = options;
    this.#subscriber = subscriber;
  }

  /** Subscribes to announcements, loads the namespace map and announces this node's namespaces. */
  static async start(options: RelayCascadeOptions): Promise<RelayCascade> {
    const { redis, prefix, log } = options;
    const subscriber = redis.duplicate();
    subscriber.on("error", (error: Error) => log.debug("Cascade connection error", { error }));
    await subscriber.connect();
    const cascade = new RelayCascade(options, subscriber);
    subscriber.on("message", (_channel: string, message: string) => cascade.#onMessage(message));
    await subscriber.subscribe(`${prefix}announce`);
    for (const [key, node] of Object.entries(await redis.hgetall(`${prefix}namespaces`))) {
      cascade.#announced({ namespace: JSON.parse(key), node, active: true });
    }
    cascade.#watch = options.origin.watchNamespaces([], (event) => {
      const key = JSON.stringify(event.namespace);
      if (cascade.#copies.has(key)) return; // our own copy of another node's namespace
      cascade.#announce(event.namespace, event.active);
    });
    return cascade;
  }

  /** How many upstream subscriptions this node opened to other nodes. */
  get upstreams(): number {
    return this.#upstreams;
  }

  /** Remote namespaces this node serves, with the node publishing each. */
  remoteNamespaces(): { namespace: readonly string[]; node: string }[] {
    return [...this.#remote].map(([key, { node }]) => ({ namespace: JSON.parse(key), node }));
  }

  /** Forgets every namespace of `nodeId` (its lease expired), here and in the map. */
  async forgetNode(nodeId: string): Promise<void> {
    const { redis, prefix } = this.#o;
    for (const [key, node] of Object.entries(await redis.hgetall(`${prefix}namespaces`))) {
      if (node !== nodeId) continue;
      await redis.hdel(`${prefix}namespaces`, key);
      const withdrawn: Announcement = { namespace: JSON.parse(key), node, active: false };
      await redis.publish(`${prefix}announce`, JSON.stringify(withdrawn));
    }
    this.#sessions.get(nodeId)?.then((client) => client.close(), () => undefined);
    this.#sessions.delete(nodeId);
  }

  /** Stops announcing and serving remote namespaces; closes the sessions to peers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    for (const { registration } of this.#remote.values()) registration.close();
    this.#remote.clear();
    this.#copies.clear();
    for (const session of this.#sessions.values()) {
      session.then((client) => client.close(), () => undefined);
    }
    this.#sessions.clear();
    this.#subscriber.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** A namespace of this node's own sessions appeared or went away: tell the others. */
  #announce(namespace: readonly string[], active: boolean): void {
    const { redis, prefix, nodeId, log } = this.#o;
    const key = JSON.stringify(namespace);
    const message: Announcement = { namespace, node: nodeId, active };
    const write = active
      ? redis.hset(`${prefix}namespaces`, key, nodeId)
      : redis.hget(`${prefix}namespaces`, key).then((owner) =>
        owner === nodeId ? redis.hdel(`${prefix}namespaces`, key) : 0
      );
    write.then(() => redis.publish(`${prefix}announce`, JSON.stringify(message))).catch(
      (error: Error) =>
        log.warn("Cannot announce a namespace to the cluster", {
          namespace: namespace.join("/"),
          active,
          error: error.message,
        }),
    );
  }

  #onMessage(message: string): void {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(message) as Announcement;
    } catch (error) {
      this.#o.log.warn("Ignoring a malformed namespace announcement", { error });
      return;
    }
    if (!Array.isArray(announcement.namespace) || typeof announcement.node !== "string") return;
    this.#announced(announcement);
  }

  /** Another node announced or withdrew a namespace. */
  #announced({ namespace, node, active }: Announcement): void {
    if (this.#closed || node === this.#o.nodeId) return;
    const key = JSON.stringify(namespace);
    const current = this.#remote.get(key);
    if (!active) {
      if (current?.node !== node) return;
      this.#remote.delete(key);
      current.registration.close();
      this.#copies.delete(key);
      return;
    }
    if (current?.node === node) return;
    this.#copies.add(key);
    current?.registration.close();
    const registration = this.#o.origin.publishNamespace(namespace, {
      serve: (track) => this.#serve(node, track),
    });
    this.#remote.set(key, { node, registration });
  }

  /** Feeds `track` from the same track on `node` (one upstream subscription). */
  async #serve(node: string, track: TrackProducer): Promise<void> {
    const { namespace, name } = track.info;
    const client = await this.#session(node);
    let upstream: TrackConsumer;
    try {
      upstream = await client.subscribe(namespace, name);
    } catch (error) {
      if (error instanceof TrackError) throw error;
      throw new TrackError(
        "internal",
        `Cannot subscribe upstream to node "${node}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#upstreams++;
    // The local track ending (its last subscriber left) ends the upstream subscription.
    track.closed.then(() => upstream.close());
    void pipe(upstream, track).catch((error: Error) => {
      this.#o.log.debug("Cascaded track ended with an error", {
        namespace: namespace.join("/"),
        name,
        node,
        error: error.message,
      });
    });
  }

  /** The MoQT session to `node`, opened once and reopened after it closes. */
  #session(node: string): Promise<MoqClient> {
    let session = this.#sessions.get(node);
    if (!session) {
      session = (async () => {
        const info = await this.#o.peer(node);
        if (!info) {
          throw new TrackError("not_found", `Cannot cascade: node "${node}" is not alive`);
        }
        const client = await this.#o.connect(info);
        client.closed.then(() => {
          if (this.#sessions.get(node) === session) this.#sessions.delete(node);
        });
        return client;
      })();
      this.#sessions.set(node, session);
      session.catch(() => {
        if (this.#sessions.get(node) === session) this.#sessions.delete(node);
      });
    }
    return session;
  }
}

/**
 * Copies groups and objects from `upstream` into `track` as they arrive, each group on its own
 * (a late object of one group never holds up the next), and ends `track` as upstream ends.
 */
async function pipe(upstream: TrackConsumer, track: TrackProducer): Promise<void> {
  const copies = new Set<Promise<void>>();
  try {
    for (;;) {
      const group = await upstream.nextGroup();
      if (!group) break;
      const out = track.appendGroup(group.id);
      const copy = (async () => {
        try {
          for (;;) {
            const object = group.tryReadObject() ?? await group.readObject();
            if (!object) break;
            out.write(object);
          }
          out.close();
        } catch (error) {
          // Upstream aborted this group (e.g. a reset stream): so does the copy.
          out.abort(error as Error);
        }
      })();
      copies.add(copy);
      copy.finally(() => copies.delete(copy));
    }
    await Promise.all(copies);
    const error = await upstream.closed;
    if (error) track.abort(error);
    else track.close();
  } catch (error) {
    track.abort(error as Error);
    throw error;
  }
}
