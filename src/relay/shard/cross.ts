/**
 * What crosses shards, and the accounting of it. A shard reaches another over one raw-QUIC
 * MoQT session (`moq-00`, loopback) per peer shard, opened on first use, and moves tracks the
 * way the cluster's relay cascade (`src/cluster/cascade.ts`) does between nodes: one upstream
 * SUBSCRIBE per track, whatever the number of local subscribers (the origin shares one pulled
 * track per name), groups copied as they arrive, each on its own.
 *
 * ```text
 * pull      a subscriber here, the call on shard k: SUBSCRIBE on k, copy into this origin
 * push      a track published here, the call on shard k: PUBLISH on k
 * announce  a namespace publisher here, the call on shard k: PUBLISH_NAMESPACE on k, and
 *           each SUBSCRIBE k sends for it served here by the publisher, copied out
 * ```
 *
 * Every object copied either way is counted (objects, payload bytes): that is the cost of a
 * call's legs not sitting on one shard.
 *
 * @module
 */
import { type TrackConsumer, TrackProducer } from "../model/track.ts";
import type { Registration, TrackSource } from "../model/origin.ts";
import { TrackError } from "../model/track_error.ts";
import { copyTrack } from "../model/copy_track.ts";
import type { MoqClient } from "../client.ts";
import { SessionCache } from "../session_cache.ts";
import type { Logger } from "../../log/mod.ts";

/** Counters of what crossed shards, from this shard's side. */
export interface CrossShardCounters {
  /** Tracks pulled from another shard (upstream SUBSCRIBEs opened). */
  readonly pulledTracks: number;
  /** Tracks pushed to another shard (PUBLISHes opened). */
  readonly pushedTracks: number;
  /** Objects copied in from other shards. */
  readonly objectsIn: number;
  /** Payload bytes copied in from other shards. */
  readonly bytesIn: number;
  /** Objects copied out to other shards. */
  readonly objectsOut: number;
  /** Payload bytes copied out to other shards. */
  readonly bytesOut: number;
}

/** Options for {@linkcode CrossShardLinks}. */
export interface CrossShardLinksOptions {
  /** Opens a MoQT session to shard `index` (raw QUIC, with a token it accepts). */
  readonly connect: (index: number) => Promise<MoqClient>;
  /** Where ended crossings are logged (debug). */
  readonly log: Logger;
}

/**
 * This shard's sessions to the other shards, and the counters of what crossed them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CrossShardLinks } from "@clutchcall/voice/relay/shard";
 * import { createLogger } from "@clutchcall/voice/log";
 *
 * await using links = new CrossShardLinks({
 *   connect: () => Promise.reject(new Error("no peers in this example")),
 *   log: createLogger({ level: "error" }),
 * });
 * assertEquals(links.counters().objectsIn, 0);
 * ```
 */
export class CrossShardLinks implements Disposable, AsyncDisposable {
  readonly #o: CrossShardLinksOptions;
  readonly #sessions: SessionCache<number, MoqClient>;
  #counters = {
    pulledTracks: 0,
    pushedTracks: 0,
    objectsIn: 0,
    bytesIn: 0,
    objectsOut: 0,
    bytesOut: 0,
  };
  #closed = false;

  /** Links to no shard yet; sessions open on first use. */
  constructor(options: CrossShardLinksOptions) {
    this.#o = options;
    this.#sessions = new SessionCache(options.connect);
  }

  /** A copy of the counters. */
  counters(): CrossShardCounters {
    return { ...this.#counters };
  }

  /**
   * Feeds `track` (pulled in this shard's origin) from the same track on shard `index`: a
   * `TrackSource.serve` (see `../model/origin.ts`). The capability learnt upstream is set on
   * `track`.
   */
  async pull(index: number, track: TrackProducer): Promise<void> {
    const { namespace, name } = track.info;
    const client = await this.#session(index);
    let upstream: TrackConsumer;
    try {
      upstream = await client.subscribe(namespace, name);
    } catch (error) {
      if (error instanceof TrackError) throw error;
      throw new TrackError(
        "internal",
        `Cannot subscribe on relay shard ${index}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#counters.pulledTracks++;
    if (upstream.info.capability) track.setCapability(upstream.info.capability);
    // The local track ending (its last subscriber left) ends the upstream subscription.
    track.closed.then(() => upstream.close());
    void copyTrack(upstream, track, {
      onObject: (bytes) => {
        this.#counters.objectsIn++;
        this.#counters.bytesIn += bytes;
      },
    }).catch((error: Error) => this.#ended("pulled", index, namespace, name, error));
  }

  /**
   * Publishes `local` (a consumer of a track pushed in this shard) on shard `index` with
   * PUBLISH and copies it there until it ends.
   */
  async push(index: number, local: TrackConsumer): Promise<void> {
    const { namespace, name, capability } = local.info;
    let remote: TrackProducer;
    try {
      remote = await (await this.#session(index)).publish({ namespace, name, capability });
    } catch (error) {
      local.close();
      throw error;
    }
    this.#counters.pushedTracks++;
    remote.closed.then(() => local.close());
    void copyTrack(local, remote, {
      onObject: (bytes) => {
        this.#counters.objectsOut++;
        this.#counters.bytesOut += bytes;
      },
    }).catch((error: Error) => this.#ended("pushed", index, namespace, name, error));
  }

  /**
   * Announces `namespace` on shard `index` with PUBLISH_NAMESPACE, for a namespace publisher
   * of this shard (`source`, e.g. a client's session that announced it here): each track
   * shard `index` subscribes to is served by `source` and copied there (counted out). Closing
   * the registration withdraws the announcement.
   */
  async announce(
    index: number,
    namespace: readonly string[],
    source: TrackSource,
  ): Promise<Registration> {
    const client = await this.#session(index);
    return await client.announce(namespace, {
      serve: async (track) => {
        const { name } = track.info;
        const local = new TrackProducer({ namespace, name });
        const reader = local.consume();
        // Shard `index` unsubscribing (or its session ending) ends the subscription here.
        track.closed.then(() => local.close());
        try {
          await source.serve(local);
        } catch (error) {
          reader.close();
          local.abort(error as Error);
          throw error;
        }
        if (local.info.capability) track.setCapability(local.info.capability);
        void copyTrack(reader, track, {
          onObject: (bytes) => {
            this.#counters.objectsOut++;
            this.#counters.bytesOut += bytes;
          },
        }).catch((error: Error) => this.#ended("served", index, namespace, name, error));
      },
    });
  }

  /** Drops the session to shard `index` (it was lost); the next use reconnects. */
  forget(index: number): void {
    this.#sessions.forget(index);
  }

  /** Closes every session. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sessions.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #ended(
    how: string,
    index: number,
    namespace: readonly string[],
    name: string,
    error: Error,
  ): void {
    this.#o.log.debug(`A track ${how} across shards ended with an error`, {
      shard: index,
      namespace: namespace.join("/"),
      name,
      error: error.message,
    });
  }

  /** The session to shard `index`, opened once and reopened after it closes. */
  #session(index: number): Promise<MoqClient> {
    if (this.#closed) return Promise.reject(new TrackError("internal", "Shard links are closed"));
    return this.#sessions.get(index);
  }
}
