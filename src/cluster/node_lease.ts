/**
 * A node's membership in the cluster: a lease in Redis that the node renews, the other nodes'
 * leases to find where a call lives, and the reaping of a node whose lease expired.
 *
 * ```text
 * node:<id>     NodeInfo JSON, PX leaseMs, renewed every leaseMs / 3
 * nodes         set of every node id that ever joined and was not reaped yet
 * reap:<id>     the node reaping <id> (SET NX PX leaseMs: one reaper at a time)
 * ```
 *
 * A node counts another as lost only after its own lease has been renewed without a failure
 * for a whole lease period: after a Redis restart (or this node's own outage) every lease may
 * look expired, and the live nodes need one lease period to renew theirs before anyone reaps.
 * A lost node's live calls (`callsOwnedBy`) end through `onNodeLost`; its sids are freed by
 * the store as the calls end. A node that was cut off from Redis and renews again releases the
 * legs of its calls that ended meanwhile (`onRecovered`: a partitioned node must not keep media
 * running for calls the others declared lost); one still cut off once its lease ran out stops
 * its legs at once when another node (asked over HTTP) is ready, i.e. Redis is up for the
 * others (`onCutOff`). A node that shuts down lets its lease run out: restarted within
 * the lease under the same `nodeId`, it reconciles its own calls as a single node does.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { Call } from "../calls/call.ts";

/** What a node tells the others about itself. */
export interface NodeInfo {
  readonly nodeId: string;
  /** `host:port` of its MoQT endpoint. */
  readonly moq: string;
  /** Base URL of its HTTP API. */
  readonly http: string;
  /** When it joined (ISO 8601). */
  readonly startedAt: string;
  /** It places calls to phone numbers (it runs a SIP gateway). */
  readonly sip?: boolean;
}

/** Options for {@linkcode NodeLease.join}. */
export interface NodeLeaseOptions {
  /** A connected client (the lease uses it for its own commands). */
  readonly redis: Redis;
  readonly prefix: string;
  readonly info: NodeInfo;
  readonly leaseMs: number;
  readonly log: Logger;
  /** The live calls a node owns (the store's `callsOwnedBy`). */
  readonly callsOwnedBy: (nodeId: string) => Promise<Call[]>;
  /** Ends one call of a lost node; resolves once the store took it. */
  readonly onNodeLost: (call: Call, nodeId: string) => Promise<void>;
  /** Called once per reaping of a lost node, after its calls (e.g. to forget its namespaces). */
  readonly onNodeGone?: (nodeId: string) => Promise<void>;
  /**
   * Called when this node renews its lease again after renewals failed (it was cut off from
   * Redis, or Redis restarted): the others may have declared it lost meanwhile, so it must
   * release the legs of its calls that the store says ended.
   */
  readonly onRecovered?: () => Promise<void>;
  /**
   * Called once per outage when this node's lease has run out (by half a lease) while another
   * node (a witness, asked over HTTP at `/readyz`) still holds its own: Redis is up for the others, so they end
   * this node's calls as lost, and this node must stop their legs now rather than keep media
   * running. Not called when no other node is ready (Redis is down for everyone: nobody
   * reaps, the calls go on).
   */
  readonly onCutOff?: () => Promise<void>;
}

/**
 * The lease this node holds, and the reaper of the others'.
 *
 * @example
 * ```ts ignore
 * import { NodeLease } from "./node_lease.ts";
 * await using lease = await NodeLease.join({ redis, prefix: "clutchcall:", info, leaseMs: 10000, log, callsOwnedBy, onNodeLost });
 * console.log((await lease.peer("voice-b"))?.http);
 * ```
 */
export class NodeLease implements AsyncDisposable {
  readonly #o: NodeLeaseOptions;
  readonly #timer: ReturnType<typeof setInterval>;
  /** Last successful renewal (ms), and since when renewals have not failed. */
  #renewedAt = 0;
  #healthySince: number | undefined;
  #ticking: Promise<void> | undefined;
  #closed = false;
  /** Calls ended because their node was lost, in total (for tests and metrics). */
  #reaped = 0;
  /** The other nodes as last read from Redis: the witnesses when this node is cut off. */
  #peers: NodeInfo[] = [];
  /** This outage's cut-off was told (`onCutOff`), or is being checked. */
  #cutOff = false;

  private constructor(options: NodeLeaseOptions) {
    this.#o = options;
    this.#timer = setInterval(() => this.#tick(), Math.max(100, Math.floor(options.leaseMs / 3)));
  }

  /** Takes the lease (rejects when Redis does not take it) and starts renewing it. */
  static async join(options: NodeLeaseOptions): Promise<NodeLease> {
    const lease = new NodeLease(options);
    try {
      await lease.#renew();
      await options.redis.sadd(`${options.prefix}nodes`, options.info.nodeId);
      await lease.#refreshPeers();
    } catch (error) {
      lease.close();
      throw error;
    }
    options.log.info("Joined the cluster", { ...options.info, leaseMs: options.leaseMs });
    return lease;
  }

  /** This node's id. */
  get nodeId(): string {
    return this.#o.info.nodeId;
  }

  /** Whether this node's lease is current (renewed within the lease): for readiness. */
  get held(): boolean {
    return Date.now() - this.#renewedAt < this.#o.leaseMs;
  }

  /** How many calls of lost nodes this node has ended. */
  get reaped(): number {
    return this.#reaped;
  }

  /** A live node's info, or undefined when its lease expired (or it never joined). */
  async peer(nodeId: string): Promise<NodeInfo | undefined> {
    const json = await this.#o.redis.get(`${this.#o.prefix}node:${nodeId}`);
    return json ? JSON.parse(json) as NodeInfo : undefined;
  }

  /** Stops renewing (the lease runs out by itself). A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#ticking;
  }

  #tick(): void {
    if (this.#closed || this.#ticking) return;
    this.#ticking = (async () => {
      try {
        const recovering = this.#healthySince === undefined;
        await this.#renew();
        this.#cutOff = false;
        if (recovering) await this.#recovered();
        await this.#refreshPeers();
        await this.#reapLost();
      } catch (error) {
        if (this.#healthySince !== undefined) {
          this.#o.log.warn("Cannot renew the cluster lease", { error: (error as Error).message });
        }
        this.#healthySince = undefined;
        // Half a lease past its own: a witness still holding its lease then renewed it after
        // this node's renewals began to fail (not merely before an outage hitting both).
        if (!this.#cutOff && Date.now() - this.#renewedAt >= 1.5 * this.#o.leaseMs) {
          this.#cutOff = true;
          await this.#checkCutOff();
        }
      } finally {
        this.#ticking = undefined;
      }
    })();
  }

  async #renew(): Promise<void> {
    const { redis, prefix, info, leaseMs } = this.#o;
    await redis.set(`${prefix}node:${info.nodeId}`, JSON.stringify(info), "PX", leaseMs);
    const now = Date.now();
    this.#renewedAt = now;
    this.#healthySince ??= now;
  }

  /**
   * Renewals work again: back in the node set (a reaper removes a node it found lost with no
   * calls left), then `onRecovered`.
   */
  async #recovered(): Promise<void> {
    const { redis, prefix, info, log } = this.#o;
    await redis.sadd(`${prefix}nodes`, info.nodeId);
    log.info("The cluster lease is renewed again", { nodeId: info.nodeId });
    await this.#o.onRecovered?.();
  }

  async #refreshPeers(): Promise<void> {
    const { redis, prefix, info } = this.#o;
    const ids = (await redis.smembers(`${prefix}nodes`)).filter((id) => id !== info.nodeId);
    if (ids.length === 0) return void (this.#peers = []);
    const values = await redis.mget(ids.map((id) => `${prefix}node:${id}`));
    this.#peers = values.flatMap((json) => json ? [JSON.parse(json) as NodeInfo] : []);
  }

  /**
   * This node's lease ran out: when another node says it is ready (its lease is current, so
   * Redis is up for it), this node is the one cut off and its calls are ended as lost there;
   * `onCutOff`. Otherwise checked again on the next failed renewal.
   */
  async #checkCutOff(): Promise<void> {
    const { log } = this.#o;
    for (const peer of this.#peers) {
      try {
        const response = await fetch(new URL("/readyz", peer.http), {
          signal: AbortSignal.timeout(1000),
        });
        await response.body?.cancel();
        if (!response.ok) continue;
      } catch (error) {
        log.debug("A cluster peer does not answer", { nodeId: peer.nodeId, error });
        continue;
      }
      log.warn("Cut off from Redis while the cluster is up: this node's calls are lost", {
        witness: peer.nodeId,
      });
      await this.#o.onCutOff?.();
      return;
    }
    this.#cutOff = false; // nobody else is up either: Redis is down for all, nobody reaps
  }

  /** Ends the calls of every node whose lease expired, one reaper per lost node. */
  async #reapLost(): Promise<void> {
    const { redis, prefix, info, leaseMs, log } = this.#o;
    if (this.#healthySince === undefined || Date.now() - this.#healthySince < leaseMs) return;
    for (const nodeId of await redis.smembers(`${prefix}nodes`)) {
      if (nodeId === info.nodeId || this.#closed) continue;
      if (await redis.exists(`${prefix}node:${nodeId}`)) continue;
      const won = await redis.set(`${prefix}reap:${nodeId}`, info.nodeId, "PX", leaseMs, "NX");
      if (won !== "OK") continue;
      const calls = await this.#o.callsOwnedBy(nodeId);
      if (calls.length > 0) {
        log.warn("Node lost: ending its calls", { nodeId, calls: calls.length });
      }
      for (const call of calls) {
        await this.#o.onNodeLost(call, nodeId);
        this.#reaped++;
      }
      await this.#o.onNodeGone?.(nodeId);
      // Forgotten only when nothing of it is left (a call it created meanwhile: next round).
      if (
        (await this.#o.callsOwnedBy(nodeId)).length === 0 &&
        !(await redis.exists(`${prefix}node:${nodeId}`))
      ) {
        await redis.srem(`${prefix}nodes`, nodeId);
      }
      await redis.del(`${prefix}reap:${nodeId}`);
    }
  }
}
