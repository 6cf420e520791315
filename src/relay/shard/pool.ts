/**
 * Relay shards on one machine (issue 11): `Deno.QuicEndpoint` cannot share a UDP port, so the
 * relay's work is spread over Workers, one port each, and calls are placed on a shard when they
 * are first seen.
 *
 * ```text
 *                 main thread                        Worker k (k = 1 … n-1)
 *  HTTP/Calls, SIP, plugins, agents                 Relay k, origin k, port base+k
 *  shard 0 = the main relay (port base)  ◀─moq-00─▶  ShardRouter k ─moq-00─▶ other shards
 *  ShardPool: placement, routers, links
 * ```
 *
 * - Shard 0 is the main thread's own relay, so with `relay.shards = 1` nothing changes, and
 *   in-process legs of a call on shard 0 cost nothing extra.
 * - A call is placed (see `./placement.ts`) when the server first sees its sid (created, its
 *   first track, its connect info asked); clients are given its shard's URL
 *   (`GET /v1/relay/placement/{sid}`); every shard learns the placement.
 * - A subscriber on a shard that does not own the call is served by pulling from the owner
 *   (`./router.ts`, one upstream SUBSCRIBE per track); a PUBLISH there is pushed on to the
 *   owner (so a client that ignores the placement still works, at one crossing per object);
 *   the main thread's in-process legs
 *   (SIP gateway, agents, bridges, recorder) keep using the main origin: what they publish for
 *   a call of shard k is pushed there, what they subscribe is pulled from there. Each crossing
 *   is counted (`./cross.ts`): for a SIP or agent call on shard k both directions cross once.
 * - The Workers tell the main thread about the tracks of their own calls (no media): the calls
 *   service learns a client leg's answer and end from them; with a plugin enabled (they route by
 *   capability in the main origin), the server also pulls each such track into the main origin
 *   for them (one crossing per object, counted).
 * - A Worker that dies (an uncaught error) is a lost shard: its calls are handed to
 *   `onShardLost` (the server ends them `shard_lost`), it takes no new calls, the process and
 *   the other shards go on.
 *
 * @module
 */
import type { Origin } from "../model/origin.ts";
import { MoqClient } from "../client.ts";
import type { VerifierOptions } from "../../auth/verifier.ts";
import type { Logger, LogLevel } from "../../log/mod.ts";
import { type CrossShardCounters, CrossShardLinks } from "./cross.ts";
import { ShardRouter } from "./router.ts";
import type { ShardAuth } from "./auth.ts";
import { type PlacementRule, ShardPlacement } from "./placement.ts";
import type { FromShard, ShardStats, ToShard } from "./protocol.ts";
import { callNamespace } from "../../voice/sid.ts";
import { writeShardLog } from "./log_forward.ts";

/** Options for {@linkcode ShardPool.start}. */
export interface ShardPoolOptions {
  /** Shards in all, the main relay included (≥ 2 to start Workers). */
  readonly count: number;
  /** How new calls pick a shard ["least_loaded"]. */
  readonly rule?: PlacementRule;
  /** The main thread's relay origin (shard 0). */
  readonly origin: Origin;
  /** The main relay's bound UDP port (shard 0). */
  readonly mainPort: number;
  /** Address the shards bind. */
  readonly hostname: string;
  /** Address shards and clients are given for a shard (loopback for a wildcard bind). */
  readonly publicHost: string;
  /** Port of shard k is `basePort + k`; 0: every Worker shard takes an ephemeral port. */
  readonly basePort: number;
  /** PEM certificate chain every shard presents. */
  readonly cert: string;
  /** PEM private key of `cert`. */
  readonly key: string;
  /** The tokens clients may present, as for the main relay; none: every client is allowed. */
  readonly verifier?: VerifierOptions;
  /** The process's shard secret (the main relay must accept its tokens too). */
  readonly auth: ShardAuth;
  /** As the main relay's (`relay.subscribeTimeoutMs`). */
  readonly subscribeTimeoutMs: number;
  /** As the main relay's (`relay.maxQueuedGroups`). */
  readonly maxInFlightGroups: number;
  /** As the main relay's (half of `relay.maxRequestId`). */
  readonly requestWindow: number;
  /** Where the pool logs (lost shards, failed pushes). */
  readonly log: Logger;
  /**
   * How long a Worker shard has to answer a stats request [1000 ms]: one that does not (a hung
   * Worker) is reported `stale` with its last figures, so `/metrics` and `/v1/relay/shards`
   * never wait on it longer.
   */
  readonly statsTimeoutMs?: number;
  /** Worker log level [the level of `workerLog`]. */
  readonly logLevel?: LogLevel;
  /**
   * Where the Workers' own log records are written, each with its `shard` field [`log`]: the
   * server's root logger, so they reach its sink in its format.
   */
  readonly workerLog?: Logger;
  /**
   * A track of a call placed on a Worker shard was published there; `closed` resolves when it
   * ends (with an error, or undefined when it ended cleanly, or when the shard was lost).
   */
  readonly onTrack?: (
    namespace: readonly string[],
    name: string,
    capability: string,
    closed: Promise<Error | undefined>,
  ) => void;
  /** A shard's Worker died: the sids its calls had (the server ends them). */
  readonly onShardLost?: (index: number, sids: string[], error: string) => void | Promise<void>;
}

interface WorkerShard {
  readonly index: number;
  readonly worker: Worker;
  port: number;
  alive: boolean;
}

/**
 * The shards of this process: places calls, routes tracks between shards, reports figures.
 *
 * @example
 * ```ts ignore
 * import { ShardAuth, ShardPool } from "./mod.ts";
 * const auth = await ShardAuth.create();
 * await using pool = await ShardPool.start({ count: 2, origin: relay.origin, mainPort: 4443,
 *   hostname: "127.0.0.1", publicHost: "127.0.0.1", basePort: 0, cert, key,
 *   verifier: { hs256Secret }, auth, subscribeTimeoutMs: 5000, maxInFlightGroups: 4,
 *   requestWindow: 512, log });
 * const url = pool.urlFor("CA1"); // "https://127.0.0.1:<port of CA1's shard>/moq"
 * ```
 */
export class ShardPool implements AsyncDisposable {
  /** Where calls go. */
  readonly placement: ShardPlacement;
  readonly #o: ShardPoolOptions;
  // The certificates shards are trusted with: the newest and the one before it, so a link made
  // while a reload reaches the shards one by one trusts either.
  #trust: string[];
  readonly #workers: WorkerShard[];
  readonly #links: CrossShardLinks;
  readonly #router: ShardRouter;
  readonly #statsWaiters = new Map<
    number,
    (message: (FromShard & { type: "stats" }) | undefined) => void
  >();
  /** Per Worker shard: the last figures it answered with (for a hung or lost shard). */
  readonly #lastStats = new Map<number, FromShard & { type: "stats" }>();
  /** Per Worker shard: how to end each of its tracks reported live. */
  readonly #trackEnds = new Map<number, Map<number, (error: Error | undefined) => void>>();
  #nextStatsId = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: ShardPoolOptions, workers: WorkerShard[]) {
    this.#o = options;
    this.#trust = [options.cert];
    this.#workers = workers;
    this.placement = new ShardPlacement(options.count, options.rule);
    this.#links = new CrossShardLinks({
      connect: async (index) =>
        await MoqClient.connect({
          hostname: options.publicHost,
          port: this.port(index),
          caCerts: this.#trust,
          token: await options.auth.mint(0),
        }),
      log: options.log,
    });
    this.#router = new ShardRouter({
      self: 0,
      origin: options.origin,
      links: this.#links,
      log: options.log,
    });
    this.#router.pushForeignTracks((sid) => this.place(sid));
    this.#router.pushForeignNamespaces((sid) => this.place(sid));
  }

  /**
   * Presents a new certificate on every Worker shard's port (live connections keep theirs);
   * links between shards trust the new and the previous one meanwhile.
   */
  reloadCertificate({ cert, key }: { readonly cert: string; readonly key: string }): void {
    this.#trust = [cert, ...this.#trust].slice(0, 2);
    this.#broadcast({ type: "certificate", cert, key });
  }

  /** Starts `count - 1` Workers and resolves once each listens. */
  static async start(options: ShardPoolOptions): Promise<ShardPool> {
    const workers: WorkerShard[] = [];
    try {
      for (let index = 1; index < options.count; index++) {
        const worker = new Worker(new URL("./worker.ts", import.meta.url).href, {
          type: "module",
        });
        const shard: WorkerShard = { index, worker, port: 0, alive: true };
        workers.push(shard);
        const ready = Promise.withResolvers<number>();
        worker.onmessage = (event: MessageEvent<FromShard>) => {
          if (event.data.type === "log") {
            writeShardLog(options.workerLog ?? options.log, event.data);
          }
          if (event.data.type === "ready") ready.resolve(event.data.port);
          if (event.data.type === "failed") {
            ready.reject(new Error(`Cannot start relay shard ${index}: ${event.data.message}`));
          }
        };
        worker.onerror = (event) => {
          event.preventDefault();
          ready.reject(new Error(`Relay shard ${index} failed to start: ${event.message}`));
        };
        const message: ToShard = {
          type: "init",
          index,
          hostname: options.hostname,
          port: options.basePort === 0 ? 0 : options.basePort + index,
          connectHost: options.publicHost,
          cert: options.cert,
          key: options.key,
          verifier: options.verifier,
          shardSecret: options.auth.secret,
          subscribeTimeoutMs: options.subscribeTimeoutMs,
          maxInFlightGroups: options.maxInFlightGroups,
          requestWindow: options.requestWindow,
          logLevel: options.logLevel ?? (options.workerLog ?? options.log).level,
        };
        worker.postMessage(message);
        shard.port = await ready.promise;
      }
    } catch (error) {
      for (const { worker } of workers) worker.terminate();
      throw error;
    }
    const pool = new ShardPool(options, workers);
    for (const shard of workers) pool.#watch(shard);
    const ports = [options.mainPort, ...workers.map((w) => w.port)];
    pool.#broadcast({ type: "peers", ports });
    return pool;
  }

  /** How many shards (the main relay included). */
  get count(): number {
    return this.#o.count;
  }

  /** Worker shards running now (not lost, not closed). */
  get running(): number {
    return this.#workers.filter((shard) => shard.alive).length;
  }

  /** The UDP port of shard `index`. */
  port(index: number): number {
    return index === 0 ? this.#o.mainPort : this.#workers[index - 1].port;
  }

  /** The shard of `sid`'s call, placing it now (and telling every shard) when new. */
  place(sid: string): number {
    const known = this.placement.shardOf(sid);
    if (known !== undefined) return known;
    const shard = this.placement.place(sid);
    this.#router.placed(sid, shard);
    this.#broadcast({ type: "place", sid, shard });
    return shard;
  }

  /** The WebTransport URL for `sid`'s call (its shard's port). */
  urlFor(sid: string): string {
    return `https://${hostForUrl(this.#o.publicHost)}:${this.port(this.place(sid))}/moq`;
  }

  /** `sid`'s call ended: every shard forgets it (its tracks there end). */
  release(sid: string): void {
    if (this.placement.shardOf(sid) === undefined) return;
    this.placement.release(sid);
    this.#router.released(sid);
    this.#broadcast({ type: "release", sid });
  }

  /** Injects a crash into shard `index`'s Worker (an uncaught error there), for tests. */
  crash(index: number, reason = "Injected relay shard crash"): void {
    this.#post(this.#workers[index - 1], { type: "crash", reason });
  }

  /**
   * Figures of every shard (shard 0's from `main`, the main relay's own, plus its objects and
   * dropped groups). A Worker shard that does not answer within `statsTimeoutMs`, or is lost,
   * is `stale`: no sessions or tracks, its last counters.
   */
  async stats(
    main: { sessions: number; tracks: number; objects: number; droppedGroups: number },
  ): Promise<ShardStats[]> {
    const loads = this.placement.loads();
    const own: ShardStats = {
      index: 0,
      port: this.#o.mainPort,
      alive: true,
      calls: loads[0],
      ...main,
      cross: this.#links.counters(),
      stale: false,
    };
    const others = await Promise.all(this.#workers.map(async (shard): Promise<ShardStats> => {
      const base = { index: shard.index, port: shard.port, calls: loads[shard.index] };
      const figures = shard.alive ? await this.#askStats(shard) : undefined;
      if (figures) this.#lastStats.set(shard.index, figures);
      const last = figures ?? this.#lastStats.get(shard.index);
      const counters = {
        cross: last?.cross ?? NO_CROSSINGS,
        objects: last?.objects ?? 0,
        droppedGroups: last?.droppedGroups ?? 0,
      };
      if (!figures) {
        return { ...base, alive: shard.alive, sessions: 0, tracks: 0, ...counters, stale: true };
      }
      const { sessions, tracks } = figures;
      return { ...base, alive: true, sessions, tracks, ...counters, stale: false };
    }));
    return [own, ...others];
  }

  /**
   * Blocks shard `index`'s Worker thread (as a Worker stuck in a loop would) until the result
   * is disposed, for tests.
   */
  hang(index: number): Disposable {
    const hold = new SharedArrayBuffer(4);
    this.#post(this.#workers[index - 1], { type: "hang", hold });
    return {
      [Symbol.dispose]: () => {
        const flag = new Int32Array(hold);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      },
    };
  }

  /**
   * Closes every shard Worker: GOAWAY to their sessions, sessions closed after `graceMs`, then
   * the Workers end. A second call returns the same promise.
   */
  close(graceMs = 1000): Promise<void> {
    return this.#closing ??= (async () => {
      this.#router.close();
      this.#links.close();
      await Promise.all(this.#workers.map(async (shard) => {
        if (!shard.alive) return;
        const closed = Promise.withResolvers<void>();
        shard.worker.onmessage = (event: MessageEvent<FromShard>) => {
          if (event.data.type === "log") this.#writeLog(event.data);
          if (event.data.type === "closed") closed.resolve();
        };
        shard.worker.onerror = (event) => {
          event.preventDefault();
          closed.resolve();
        };
        this.#post(shard, { type: "close", graceMs });
        await closed.promise;
        shard.alive = false;
        shard.worker.terminate();
      }));
    })();
  }

  /** Same as {@linkcode close} with a short grace period. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close(100);
  }

  #watch(shard: WorkerShard): void {
    const tracks = new Map<number, (error: Error | undefined) => void>();
    this.#trackEnds.set(shard.index, tracks);
    shard.worker.onmessage = (event: MessageEvent<FromShard>) => {
      const message = event.data;
      if (message.type === "log") this.#writeLog(message);
      if (message.type === "stats") this.#statsWaiters.get(message.id)?.(message);
      if (message.type === "track") {
        const closed = Promise.withResolvers<Error | undefined>();
        tracks.set(message.id, closed.resolve);
        this.#o.onTrack?.(
          callNamespace(message.sid),
          message.name,
          message.capability,
          closed.promise,
        );
      }
      if (message.type === "trackEnded") {
        tracks.get(message.id)?.(
          message.error === undefined ? undefined : new Error(message.error),
        );
        tracks.delete(message.id);
      }
    };
    shard.worker.onerror = (event) => {
      // An uncaught error in the Worker: the shard is lost, the process must go on.
      event.preventDefault();
      this.#lose(shard, event.message || "uncaught error");
    };
  }

  #writeLog(message: FromShard & { type: "log" }): void {
    writeShardLog(this.#o.workerLog ?? this.#o.log, message);
  }

  #lose(shard: WorkerShard, error: string): void {
    if (!shard.alive) return;
    shard.alive = false;
    shard.worker.terminate();
    const sids = this.placement.lose(shard.index);
    this.#router.lost(shard.index);
    this.#broadcast({ type: "lost", shard: shard.index });
    this.#o.log.error("Relay shard lost", { shard: shard.index, calls: sids.length, error });
    for (const waiter of [...this.#statsWaiters.values()]) waiter(undefined);
    // Its tracks are gone with it.
    // Its calls end first (shard_lost), then its tracks (else a client leg's uplink ending
    // would end its call first, as connection_lost).
    const ends = [...this.#trackEnds.get(shard.index)?.values() ?? []];
    this.#trackEnds.delete(shard.index);
    const lostError = new Error(`Relay shard ${shard.index} was lost: ${error}`);
    Promise.resolve(this.#o.onShardLost?.(shard.index, sids, error))
      .catch((cause) => this.#o.log.error("Cannot end a lost shard's calls", { error: cause }))
      .finally(() => ends.forEach((end) => end(lostError)));
  }

  #askStats(shard: WorkerShard): Promise<(FromShard & { type: "stats" }) | undefined> {
    const id = this.#nextStatsId++;
    const { promise, resolve } = Promise.withResolvers<
      (FromShard & { type: "stats" }) | undefined
    >();
    this.#statsWaiters.set(id, resolve);
    const timer = setTimeout(() => resolve(undefined), this.#o.statsTimeoutMs ?? 1000);
    this.#post(shard, { type: "stats", id });
    return promise.finally(() => {
      clearTimeout(timer);
      this.#statsWaiters.delete(id);
    });
  }

  #broadcast(message: ToShard): void {
    for (const shard of this.#workers) this.#post(shard, message);
  }

  #post(shard: WorkerShard, message: ToShard): void {
    if (shard.alive) shard.worker.postMessage(message);
  }
}

const NO_CROSSINGS: CrossShardCounters = {
  pulledTracks: 0,
  pushedTracks: 0,
  objectsIn: 0,
  bytesIn: 0,
  objectsOut: 0,
  bytesOut: 0,
};

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
