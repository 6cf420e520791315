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
 * the store as the calls end.
 *
 * A node fences itself: once a lease has passed since it sent its last renewal that Redis
 * took (by its own monotonic clock, so never later than Redis expires the key), it calls
 * `onFenced` (stop every leg: another node may reap its calls and take their sids any time
 * now) and stays not {@linkcode NodeLease.held} (not ready, no new calls) until a renewal
 * works again. It cannot tell being cut off from a Redis outage that hits every node, so a
 * Redis outage longer than the lease ends the calls in progress. A node that renews again
 * after failures releases the legs of its calls the store says ended meanwhile
 * (`onRecovered`). A node that shuts down lets its lease run out: restarted within the lease
 * under the same `nodeId`, it reconciles its own calls as a single node does.
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
   * Called once per outage when a lease has passed since this node sent its last renewal that
   * Redis took: its lease may have expired in Redis, so another node may end its calls as lost
   * and take their sids; it must stop their legs now. Called whether or not Redis is up for the
   * others (this node cannot tell).
   */
  readonly onFenced?: () => Promise<void>;
  /**
   * This node's monotonic clock in ms [`performance.now`]: it only measures how long ago this
   * node did something (renewed, began renewing without failures), never a deadline another
   * node reads, which Redis keeps (`PX` keys expire by Redis's own clock). Tests inject a
   * skewed one.
   */
  readonly clock?: () => number;
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
  /** This node's monotonic clock (ms): lease ages never depend on its wall clock. */
  readonly #now: () => number;
  /** When the last renewal that Redis took was sent, and since when renewals have not failed. */
  #renewedAt = -Infinity;
  #healthySince: number | undefined;
  /** Fires a lease after {@linkcode #renewedAt}: re-armed by each renewal. */
  #fence: ReturnType<typeof setTimeout> | undefined;
  /** This outage's fencing was done (`onFenced`). */
  #fenced = false;
  #ticking: Promise<void> | undefined;
  #fencing: Promise<void> | undefined;
  #closed = false;
  /** Calls ended because their node was lost, in total (for tests and metrics). */
  #reaped = 0;

  private constructor(options: NodeLeaseOptions) {
    this.#o = options;
    this.#now = options.clock ?? (() => performance.now());
    this.#timer = setInterval(() => this.#tick(), Math.max(100, Math.floor(options.leaseMs / 3)));
  }

  /** Takes the lease (rejects when Redis does not take it) and starts renewing it. */
  static async join(options: NodeLeaseOptions): Promise<NodeLease> {
    const lease = new NodeLease(options);
    try {
      await lease.#renew();
      await options.redis.sadd(`${options.prefix}nodes`, options.info.nodeId);
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

  /**
   * Whether this node's lease is current (its last renewal Redis took was sent within the
   * lease, by this node's monotonic clock): for readiness, and to take new calls.
   */
  get held(): boolean {
    return this.#now() - this.#renewedAt < this.#o.leaseMs;
  }

  /** Whether this node fenced itself in the current outage (its legs were stopped). */
  get fenced(): boolean {
    return this.#fenced;
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
    clearTimeout(this.#fence);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#ticking;
    await this.#fencing;
  }

  #tick(): void {
    if (this.#closed || this.#ticking) return;
    this.#ticking = (async () => {
      try {
        const recovering = this.#healthySince === undefined;
        await this.#renew();
        if (recovering) await this.#recovered();
        await this.#reapLost();
      } catch (error) {
        if (this.#healthySince !== undefined) {
          this.#o.log.warn("Cannot renew the cluster lease", { error: (error as Error).message });
        }
        this.#healthySince = undefined;
      } finally {
        this.#ticking = undefined;
      }
    })();
  }

  async #renew(): Promise<void> {
    const { redis, prefix, info, leaseMs } = this.#o;
    // Timed from before the command: Redis expires the key a lease after it took it, which is
    // no earlier than a lease after this.
    const sentAt = this.#now();
    await redis.set(`${prefix}node:${info.nodeId}`, JSON.stringify(info), "PX", leaseMs);
    if (this.#closed || sentAt < this.#renewedAt) return;
    this.#renewedAt = sentAt;
    this.#healthySince ??= sentAt;
    this.#fenced = false;
    clearTimeout(this.#fence);
    this.#fence = setTimeout(() => this.#fenceSelf(), Math.max(0, sentAt + leaseMs - this.#now()));
  }

  /**
   * A lease has passed since the last renewal Redis took: another node may reap this node's
   * calls now; `onFenced` stops their legs (once per outage).
   */
  #fenceSelf(): void {
    if (this.#closed || this.#fenced) return;
    // A timer may fire a little before the clock reads its delay as passed: wait the rest.
    const left = this.#renewedAt + this.#o.leaseMs - this.#now();
    if (left > 0) return void (this.#fence = setTimeout(() => this.#fenceSelf(), Math.ceil(left)));
    this.#fenced = true;
    this.#o.log.warn("The cluster lease ran out: this node fences itself (its legs stop)", {
      nodeId: this.#o.info.nodeId,
      leaseMs: this.#o.leaseMs,
    });
    this.#fencing = (async () => {
      try {
        await this.#o.onFenced?.();
      } catch (error) {
        this.#o.log.error("Fencing failed", { error });
      } finally {
        this.#fencing = undefined;
      }
    })();
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

  /** Ends the calls of every node whose lease expired, one reaper per lost node. */
  async #reapLost(): Promise<void> {
    const { redis, prefix, info, leaseMs, log } = this.#o;
    if (this.#healthySince === undefined || this.#now() - this.#healthySince < leaseMs) return;
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
