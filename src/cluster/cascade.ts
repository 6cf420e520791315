/**
 * Relay cascading: what is published on one node is reachable from every other node of the
 * cluster. Each node subscribes upstream to the publishing node over raw QUIC (`moq-00`);
 * however many subscribers a node has for a track, it holds one upstream subscription (the
 * origin shares one pulled track per name) over one MoQT session per peer node.
 *
 * Two kinds of publication are cascaded:
 * - namespaces (a MoQT PUBLISH_NAMESPACE from a client): every track in them is served from
 *   the publishing node;
 * - tracks published whole (MoQT PUBLISH, or in process: a call's legs, e.g. the SIP leg's
 *   `voice/<sid>/uplink`): each such track, and only it, is served from its node. A call
 *   whose SIP leg is on B and whose bridge is on C so gets B's uplink on C and C's downlink
 *   on B. A subscription to a name not announced yet in a namespace that holds other nodes'
 *   tracks waits (bounded: `announceWaitMs`) for that name's announcement, and goes on as soon
 *   as it comes (a call's legs appear on their nodes one after the other): no subscriber has
 *   to poll.
 *
 * ```text
 * namespaces    hash JSON(namespace) → node id          (the namespace → node map)
 * tracks        hash JSON([namespace, name]) → node id  (the published track → node map)
 * announce      pub/sub channel {namespace, name?, node, active}
 * ```
 *
 * A copy of another node's track keeps its capability (a bridge needs it to pick a codec)
 * but is not handed to this node's capability routes: in-process routes (the calls service,
 * plugins) act only on their own node's tracks, never on a copy of another node's, and a copy
 * is never announced as this node's own.
 *
 * Uses only the relay's public API: {@linkcode Origin} (publishNamespace, watchNamespaces,
 * route, the producer/consumer handles) and {@linkcode MoqClient}.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { Origin, Registration } from "../relay/model/origin.ts";
import type { TrackConsumer, TrackProducer } from "../relay/model/track.ts";
import { TrackError } from "../relay/model/track_error.ts";
import { copyTrack } from "../relay/model/copy_track.ts";
import type { MoqClient } from "../relay/client.ts";
import { SessionCache } from "../relay/session_cache.ts";
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
  /**
   * Told of each track another node publishes whole, with a promise that settles when it ends
   * there (with the abort's error, if any): e.g. the calls service answers a `client:` call
   * it rings when the client's uplink appears on another node.
   */
  readonly onRemoteTrack?: (track: RemoteTrack, ended: Promise<Error | undefined>) => void;
  /**
   * How long a subscription to a name not (yet) announced in a namespace that holds other
   * nodes' tracks waits for its announcement before it is `not_found`, ms [5000, the
   * origin's own bound for a namespace not published yet].
   */
  readonly announceWaitMs?: number;
  readonly log: Logger;
}

interface Announcement {
  readonly namespace: readonly string[];
  /** Set for a track published whole; absent for a namespace. */
  readonly name?: string;
  readonly node: string;
  readonly active: boolean;
  /** A track's capability, when it appears. */
  readonly capability?: string;
  /** Why a track ended, when it was aborted (absent: closed normally). */
  readonly error?: string;
}

/** A track published whole on another node, as {@linkcode RelayCascadeOptions.onRemoteTrack} sees it. */
export interface RemoteTrack {
  readonly namespace: readonly string[];
  readonly name: string;
  readonly capability?: string;
  /** The node publishing it. */
  readonly node: string;
}

/** A node's lease expired (told by the node that reaped it). */
interface NodeGone {
  readonly gone: string;
}

/** Remote tracks published whole in one namespace, served here while there is one. */
interface RemoteTracks {
  /** Track name → the node publishing it. */
  readonly names: Map<string, string>;
  /** Track name → ends what `onRemoteTrack` was told (with the abort, if any). */
  readonly ends: Map<string, (error: Error | undefined) => void>;
  readonly registration: Registration;
}

function trackField(namespace: readonly string[], name: string): string {
  return JSON.stringify([namespace, name]);
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
  /** Remote tracks published whole, by namespace JSON key. */
  readonly #remoteTracks = new Map<string, RemoteTracks>();
  /** Namespace keys registered to serve remote tracks (set before registering, as `#copies`). */
  readonly #trackCopies = new Set<string>();
  /** Subscriptions waiting for a track's announcement, by track field: each is woken by it. */
  readonly #awaiting = new Map<string, Set<() => void>>();
  /** Pending map writes per track field: a withdrawal and a re-publish stay in order. */
  readonly #trackWrites = new Map<string, Promise<unknown>>();
  #trackRoute: Registration | undefined;
  /** One MoQT session per peer node. */
  readonly #sessions = new SessionCache((node: string) => this.#connect(node));
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
    for (const [field, node] of Object.entries(await redis.hgetall(`${prefix}tracks`))) {
      const [namespace, name] = JSON.parse(field) as [string[], string];
      cascade.#announced({ namespace, name, node, active: true });
    }
    cascade.#watchLocal();
    return cascade;
  }

  /**
   * Announces this node's namespaces and tracks again (after it was cut off from Redis, the
   * node that reaped it removed them from the maps).
   */
  reannounce(): void {
    if (this.#closed) return;
    this.#watch?.close();
    this.#trackRoute?.close();
    this.#watchLocal();
  }

  /** Announces this node's own namespaces and tracks, those live now and those to come. */
  #watchLocal(): void {
    const { origin } = this.#o;
    this.#watch = origin.watchNamespaces([], (event) => {
      const key = JSON.stringify(event.namespace);
      // Our own copy of another node's namespace, or of tracks published whole on others.
      if (this.#copies.has(key) || this.#trackCopies.has(key)) return;
      this.#announce(event.namespace, event.active);
    });
    // Every track of this node that carries a capability (copies of other nodes' tracks are
    // not routed): announced while it lives.
    this.#trackRoute = origin.route("*", (track) => {
      const { namespace, name } = track.info;
      track.close(); // only its end is needed: `closed` is the track's
      this.#announceTrack({ namespace, name, active: true, capability: track.info.capability });
      track.closed.then((error) =>
        this.#announceTrack({ namespace, name, active: false, error: error?.message })
      );
    });
  }

  /** How many upstream subscriptions this node opened to other nodes. */
  get upstreams(): number {
    return this.#upstreams;
  }

  /** Remote tracks published whole that this node serves, with the node publishing each. */
  remoteTracks(): { namespace: readonly string[]; name: string; node: string }[] {
    return [...this.#remoteTracks].flatMap(([key, { names }]) =>
      [...names].map(([name, node]) => ({ namespace: JSON.parse(key), name, node }))
    );
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
    for (const [field, node] of Object.entries(await redis.hgetall(`${prefix}tracks`))) {
      if (node !== nodeId) continue;
      await redis.hdel(`${prefix}tracks`, field);
      const [namespace, name] = JSON.parse(field) as [string[], string];
      const withdrawn: Announcement = {
        namespace,
        name,
        node,
        active: false,
        error: `Node "${node}" was lost`,
      };
      await redis.publish(`${prefix}announce`, JSON.stringify(withdrawn));
    }
    // Every node drops its session to the lost node: its cascaded tracks end now (not when
    // QUIC's idle timeout notices the silence).
    const gone: NodeGone = { gone: nodeId };
    await redis.publish(`${prefix}announce`, JSON.stringify(gone));
    this.#dropSession(nodeId);
  }

  /** Closes the session to `nodeId`, ending every track cascaded from it. */
  #dropSession(nodeId: string): void {
    this.#sessions.forget(nodeId);
  }

  /** Stops announcing and serving remote namespaces; closes the sessions to peers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    this.#trackRoute?.close();
    for (const { registration } of this.#remote.values()) registration.close();
    this.#remote.clear();
    for (const { registration } of this.#remoteTracks.values()) registration.close();
    this.#remoteTracks.clear();
    this.#trackCopies.clear();
    this.#copies.clear();
    for (const wakers of [...this.#awaiting.values()]) for (const wake of wakers) wake();
    this.#sessions.close();
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

  /** A track of this node appeared or ended: tell the others (in order per track). */
  #announceTrack(
    { namespace, name, active, capability, error }: Omit<Announcement, "node"> & { name: string },
  ): void {
    if (this.#closed) return;
    const { redis, prefix, nodeId, log } = this.#o;
    const field = trackField(namespace, name);
    const message: Announcement = { namespace, name, node: nodeId, active, capability, error };
    const write = async () => {
      if (active) await redis.hset(`${prefix}tracks`, field, nodeId);
      else if (await redis.hget(`${prefix}tracks`, field) === nodeId) {
        await redis.hdel(`${prefix}tracks`, field);
      }
      await redis.publish(`${prefix}announce`, JSON.stringify(message));
    };
    const previous = this.#trackWrites.get(field) ?? Promise.resolve();
    const next = previous.then(write).catch((error: Error) =>
      log.warn("Cannot announce a track to the cluster", {
        track: `${namespace.join("/")}/${name}`,
        active,
        error: error.message,
      })
    );
    this.#trackWrites.set(field, next);
    next.then(() => {
      if (this.#trackWrites.get(field) === next) this.#trackWrites.delete(field);
    });
  }

  #onMessage(message: string): void {
    let announcement: Announcement | NodeGone;
    try {
      announcement = JSON.parse(message) as Announcement | NodeGone;
    } catch (error) {
      this.#o.log.warn("Ignoring a malformed namespace announcement", { error });
      return;
    }
    if ("gone" in announcement) {
      if (typeof announcement.gone === "string" && announcement.gone !== this.#o.nodeId) {
        this.#dropSession(announcement.gone);
      }
      return;
    }
    if (!Array.isArray(announcement.namespace) || typeof announcement.node !== "string") return;
    this.#announced(announcement);
  }

  /** Another node announced or withdrew a namespace or a track. */
  #announced(announcement: Announcement): void {
    const { namespace, name, node, active } = announcement;
    if (this.#closed || node === this.#o.nodeId) return;
    if (typeof name === "string") return this.#announcedTrack({ ...announcement, name });
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
      routed: false,
    });
    this.#remote.set(key, { node, registration });
  }

  /**
   * Another node published or ended a track whole: its namespace is served here (only the
   * tracks other nodes announced in it; any other name is not found) while one is live.
   */
  #announcedTrack(announcement: Announcement & { name: string }) {
    const { namespace, name, node, active, capability, error } = announcement;
    const key = JSON.stringify(namespace);
    let remote = this.#remoteTracks.get(key);
    if (!active) {
      if (remote?.names.get(name) !== node) return;
      remote.names.delete(name);
      remote.ends.get(name)?.(typeof error === "string" ? new Error(error) : undefined);
      remote.ends.delete(name);
      if (remote.names.size === 0) {
        this.#remoteTracks.delete(key);
        remote.registration.close();
        this.#trackCopies.delete(key);
      }
      return;
    }
    if (remote) {
      if (remote.names.get(name) === node) return;
      remote.names.set(name, node);
      this.#tellRemoteTrack(remote, { namespace, name, capability, node });
      this.#wake(namespace, name);
      return;
    }
    const names = new Map([[name, node]]);
    this.#trackCopies.add(key);
    const registration = this.#o.origin.publishNamespace(namespace, {
      serve: (track) => this.#serveAnnounced(key, track),
      routed: false,
    });
    remote = { names, ends: new Map(), registration };
    this.#remoteTracks.set(key, remote);
    this.#tellRemoteTrack(remote, { namespace, name, capability, node });
    this.#wake(namespace, name);
  }

  /**
   * Serves a subscription in a namespace holding other nodes' tracks: from the node that
   * announced its name, waiting (bounded by `announceWaitMs`) for the announcement when it
   * has not come yet — a call's legs appear on their nodes one after the other.
   */
  async #serveAnnounced(key: string, track: TrackProducer): Promise<void> {
    const { namespace, name } = track.info;
    const from = () => this.#remoteTracks.get(key)?.names.get(name);
    if (!from() && !this.#closed) {
      const field = trackField(namespace, name);
      const { promise, resolve } = Promise.withResolvers<void>();
      const timer = setTimeout(resolve, this.#o.announceWaitMs ?? 5000);
      let wakers = this.#awaiting.get(field);
      if (!wakers) this.#awaiting.set(field, wakers = new Set());
      wakers.add(resolve);
      // The subscriber gave up (its track ended) before the announcement came.
      track.closed.then(() => resolve());
      try {
        await promise;
      } finally {
        clearTimeout(timer);
        wakers.delete(resolve);
        if (wakers.size === 0 && this.#awaiting.get(field) === wakers) {
          this.#awaiting.delete(field);
        }
      }
    }
    const node = from();
    if (node && !this.#closed && !track.done) return await this.#serve(node, track);
    throw new TrackError(
      "not_found",
      `Cannot subscribe to track: "${namespace.join("/")}/${name}" is not published`,
    );
  }

  /** Number of subscriptions waiting for a track's announcement (for tests and stats). */
  get awaitingAnnouncements(): number {
    let count = 0;
    for (const wakers of this.#awaiting.values()) count += wakers.size;
    return count;
  }

  /** The announcement of `namespace`/`name` came: the subscriptions waiting for it go on. */
  #wake(namespace: readonly string[], name: string): void {
    const wakers = this.#awaiting.get(trackField(namespace, name));
    if (wakers) { for (const wake of [...wakers]) wake(); }
  }

  #tellRemoteTrack(remote: RemoteTracks, track: RemoteTrack): void {
    const { onRemoteTrack, log } = this.#o;
    if (!onRemoteTrack) return;
    const { promise, resolve } = Promise.withResolvers<Error | undefined>();
    remote.ends.get(track.name)?.(undefined); // replaced by another node's publication
    remote.ends.set(track.name, resolve);
    try {
      onRemoteTrack(track, promise);
    } catch (error) {
      log.warn("A remote track handler failed", { track: track.name, error });
    }
  }

  /** Feeds `track` from the same track on `node` (one upstream subscription). */
  async #serve(node: string, track: TrackProducer): Promise<void> {
    const { namespace, name } = track.info;
    const client = await this.#sessions.get(node);
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
    // Subscribers here need the publisher's capability (a bridge picks its codec from it).
    const capability = upstream.info.capability;
    if (capability) track.setCapability(capability);
    // The local track ending (its last subscriber left) ends the upstream subscription.
    track.closed.then(() => upstream.close());
    void copyTrack(upstream, track).catch((error: Error) => {
      this.#o.log.debug("Cascaded track ended with an error", {
        namespace: namespace.join("/"),
        name,
        node,
        error: error.message,
      });
    });
  }

  /** Opens the MoQT session to a live `node` (the session cache calls it). */
  async #connect(node: string): Promise<MoqClient> {
    const info = await this.#o.peer(node);
    if (!info) throw new TrackError("not_found", `Cannot cascade: node "${node}" is not alive`);
    return await this.#o.connect(info);
  }
}
