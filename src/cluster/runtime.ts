/**
 * A node of the cluster as the server runs it: the Redis call store, the node's lease (and
 * the reaping of lost nodes' calls), the event bus and the request forwarder.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { CallService } from "../calls/service.ts";
import { connectOrThrow, RedisCallStore, redisClient } from "../calls/redis_store.ts";
import type { ClusterConfig } from "./config.ts";
import { EventBus } from "./event_bus.ts";
import { createForwarder, FORWARDED_HEADER, forwardRequest } from "./forward.ts";
import { PROBLEM_BASE, type ProblemDetails } from "../api/problem.ts";
import { type NodeInfo, NodeLease } from "./node_lease.ts";
import { RelayCascade } from "./cascade.ts";
import { type ClusterRecording, RecordingMirror } from "./recordings.ts";
import type { Origin } from "../relay/model/origin.ts";
import type { MoqClient } from "../relay/client.ts";

/** What the cascade needs of this node's relay (see `./cascade.ts`). */
export interface ClusterRelay {
  /** The relay's origin. */
  readonly origin: Origin;
  /** Opens a MoQT session to a peer node's relay; undefined disables cascading. */
  readonly connect?: (peer: NodeInfo) => Promise<MoqClient>;
}

/** A cluster node being started (see {@linkcode openClusterStore}). */
export class ClusterNode implements AsyncDisposable {
  /** The shared call store, owned by the calls runtime once handed to it. */
  readonly store: RedisCallStore;
  readonly config: ClusterConfig;
  readonly #redis: Redis;
  readonly #log: Logger;
  #bus: EventBus | undefined;
  #lease: NodeLease | undefined;
  #cascade: RelayCascade | undefined;
  #recordings: RecordingMirror | undefined;
  /** This node runs a SIP gateway (set on join). */
  #sip = true;
  #closed = false;

  /** Use {@linkcode openClusterStore}. */
  constructor(config: ClusterConfig, store: RedisCallStore, redis: Redis, log: Logger) {
    this.config = config;
    this.store = store;
    this.#redis = redis;
    this.#log = log;
  }

  /** Routes to mount before the Calls API: requests for another node's call go there. */
  forwarder(): Hono {
    return createForwarder({
      nodeId: this.config.nodeId,
      ownerOf: (sid) => this.store.ownerOf(sid),
      peer: async (nodeId) => await this.#lease?.peer(nodeId),
      gatewayNode: () => this.#sip ? Promise.resolve(undefined) : this.#gatewayNode(),
      notReady: () =>
        this.#lease && !this.#lease.held ? "The cluster lease is not renewed" : undefined,
      log: this.#log,
    });
  }

  /**
   * Joins: publishes this node's call events to the others and theirs to its streams, takes
   * the lease (advertising `moq` and `http` unless the config names others) and starts
   * reaping lost nodes' calls (`failed` / `node_lost`).
   */
  async join(
    calls: CallService,
    bound: { moq: string; http: string; sip?: boolean },
    relay?: ClusterRelay,
    { recordingsDir }: { readonly recordingsDir?: string } = {},
  ): Promise<void> {
    const { nodeId, keyPrefix: prefix, leaseMs, advertise } = this.config;
    this.#sip = bound.sip ?? false;
    this.#bus = await EventBus.start({
      redis: this.#redis,
      prefix,
      nodeId,
      hub: calls.events,
      getCall: async (sid) => (await this.store.getCall(sid))?.call,
      log: this.#log,
    });
    const bus = this.#bus;
    // A client's incoming stream opens with the calls ringing it on every node.
    calls.ringingElsewhere((identity) => bus.ringing(identity));
    this.#lease = await NodeLease.join({
      redis: this.#redis,
      prefix,
      leaseMs,
      log: this.#log,
      info: {
        nodeId,
        moq: advertise.moq ?? bound.moq,
        http: advertise.http ?? bound.http,
        sip: bound.sip ?? false,
        startedAt: new Date().toISOString(),
      },
      callsOwnedBy: (id) => this.store.callsOwnedBy(id),
      onNodeGone: async (id) => await this.#cascade?.forgetNode(id),
      // Cut off from Redis for a while: the others may have ended this node's calls as lost
      // (and forgotten its tracks); release those legs, and announce what still lives here.
      onRecovered: async () => {
        const released = await calls.releaseEndedLegs();
        if (released.length > 0) {
          this.#log.warn("Released the legs of calls ended while this node was cut off", {
            calls: released.length,
          });
        }
        this.#cascade?.reannounce();
      },
      // A lease since its last renewal Redis took: another node may end this node's calls as
      // lost and take their sids; stop their legs now (whether or not Redis is up for others).
      onFenced: () => {
        const released = calls.releaseAllLegs("node_lost");
        if (released.length > 0) {
          this.#log.warn("Released the legs of calls lost with this node's lease", {
            calls: released.length,
          });
        }
        return Promise.resolve();
      },
      onNodeLost: async (call, lost) => {
        const ended = await calls.endOrphaned(call.sid, "node_lost");
        if (ended) this.#log.info("Ended a lost node's call", { sid: call.sid, nodeId: lost });
      },
    });
    if (recordingsDir) {
      this.#recordings = await RecordingMirror.start({
        redis: this.#redis,
        prefix,
        nodeId,
        dir: recordingsDir,
        log: this.#log,
      });
    }
    if (relay?.connect) {
      const lease = this.#lease;
      this.#cascade = await RelayCascade.start({
        origin: relay.origin,
        redis: this.#redis,
        prefix,
        nodeId,
        peer: (id) => lease.peer(id),
        connect: relay.connect,
        // A client ringing here answers by attaching on another node.
        onRemoteTrack: (track, ended) =>
          calls.remoteTrack(track.namespace, track.name, track.capability, ended),
        log: this.#log,
      });
    } else {
      this.#log.warn(
        "Relay cascading is off: the nodes need a shared auth.hs256Secret to mint tokens for each other",
      );
    }
  }

  /**
   * Recordings for `GET /v1/recordings`: every node's once joined (mirrored through Redis),
   * this node's own (`local`) before.
   */
  recordings<T extends { readonly sid: string }>(local: {
    list(): Promise<readonly T[]>;
    get(sid: string): Promise<object | undefined>;
    audio(sid: string): Promise<Response | undefined>;
  }): {
    list(): Promise<readonly (T | ClusterRecording)[]>;
    get(sid: string): Promise<object | undefined>;
    audio(sid: string, request: Request): Promise<Response | undefined>;
  } {
    return {
      list: () => this.#recordings?.list() ?? local.list(),
      get: (sid) => this.#recordings?.get(sid) ?? local.get(sid),
      audio: async (sid, request) =>
        await local.audio(sid) ?? await this.#remoteAudio(sid, request),
    };
  }

  /**
   * The audio of a recording another node holds: the request goes on to that node's advertised
   * HTTP URL with its token (checked again there); a request forwarded already is not forwarded
   * again. Undefined: no node holds it; the holder is gone: 503.
   */
  async #remoteAudio(sid: string, request: Request): Promise<Response | undefined> {
    const mirror = this.#recordings;
    if (!mirror || request.headers.has(FORWARDED_HEADER)) return undefined;
    const recording = await mirror.get(sid);
    if (!recording || recording.node === this.config.nodeId) return undefined;
    const info = await this.#lease?.peer(recording.node);
    if (!info) {
      const problem: ProblemDetails = {
        type: `${PROBLEM_BASE}node-unreachable`,
        title: "The node holding this recording is not alive",
        status: 503,
        detail: `Recording "${sid}" is on node "${recording.node}", whose lease has expired`,
        instance: new URL(request.url).pathname,
      };
      return new Response(JSON.stringify(problem), {
        status: 503,
        headers: { "content-type": "application/problem+json", "retry-after": "5" },
      });
    }
    return await forwardRequest(request, info, { nodeId: this.config.nodeId, log: this.#log });
  }

  /** The relay cascade, when on. */
  get cascade(): RelayCascade | undefined {
    return this.#cascade;
  }

  /**
   * Where this node's MoQT clients should go when it shuts down: another live node's
   * WebTransport URL (`https://<advertise.moq>/moq`), or `""` when there is none.
   */
  async successorUri(): Promise<string> {
    const lease = this.#lease;
    if (!lease) return "";
    try {
      for (const id of await this.#redis.smembers(`${this.config.keyPrefix}nodes`)) {
        if (id === this.config.nodeId) continue;
        const peer = await lease.peer(id);
        if (peer) return `https://${peer.moq}/moq`;
      }
    } catch (error) {
      this.#log.warn("Cannot find a node to move clients to", { error: (error as Error).message });
    }
    return "";
  }

  /** A live node that runs a SIP gateway (for an originate to a phone number), if any. */
  async #gatewayNode(): Promise<NodeInfo | undefined> {
    const lease = this.#lease;
    if (!lease) return undefined;
    const ids = await this.#redis.smembers(`${this.config.keyPrefix}nodes`);
    // Spread over the gateway nodes: start at a random one.
    const start = Math.floor(Math.random() * ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[(start + i) % ids.length];
      if (id === this.config.nodeId) continue;
      const peer = await lease.peer(id);
      if (peer?.sip) return peer;
    }
    return undefined;
  }

  /** Why this node is not ready, or undefined: its lease must be current. */
  notReady(): string | undefined {
    if (!this.#lease) return "Not joined to the cluster yet";
    return this.#lease.held ? undefined : "The cluster lease is not renewed (Redis unreachable?)";
  }

  /** Leaves: stops the bus and the lease (which then runs out). A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bus?.close();
    this.#cascade?.close();
    await this.#recordings?.close();
    await this.#lease?.[Symbol.asyncDispose]();
    this.#redis.disconnect();
    // Normally closed by the calls runtime already (a second close is a no-op).
    this.store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Connects to the cluster's Redis: the call store (owned by this node's calls as their
 * creator) and a second connection for the lease and the event bus.
 *
 * @example
 * ```ts ignore
 * import { openClusterStore } from "./runtime.ts";
 * const node = await openClusterStore(config.cluster, log);
 * const calls = await startCalls({ ..., store: node.store });
 * await node.join(calls.service, { moq: "127.0.0.1:4443", http: "http://127.0.0.1:8080" });
 * ```
 */
export async function openClusterStore(config: ClusterConfig, log: Logger): Promise<ClusterNode> {
  const store = await RedisCallStore.connect({
    url: config.redisUrl,
    prefix: config.keyPrefix,
    nodeId: config.nodeId,
    log,
  });
  const redis = redisClient(config.redisUrl);
  try {
    await connectOrThrow(redis, 5000);
  } catch (error) {
    store.close();
    throw error;
  }
  return new ClusterNode(config, store, redis, log);
}
