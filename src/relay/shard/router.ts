/**
 * One shard's view of where calls live. For every call placed on *another* shard it publishes
 * the call's namespace (`voice/<sid>`) in its own origin, served by pulling from the owning
 * shard ({@linkcode CrossShardLinks.pull}); calls placed on this shard need nothing (their
 * tracks are here). Only owners are asked: the owner never registers a source for its own
 * calls, so a request can never loop between shards.
 *
 * A track pushed in this origin (MoQT PUBLISH, an in-process publisher) beats the namespace's
 * source, so a leg that publishes on the wrong shard is seen there, locally, and
 * {@linkcode ShardRouter.pushForeignTracks} sends it on to the call's shard. A namespace
 * publisher (PUBLISH_NAMESPACE, its tracks pulled on demand) on the wrong shard is newer than
 * the router's source of the namespace, so it serves this shard's subscribers, and
 * {@linkcode ShardRouter.pushForeignNamespaces} announces the namespace on the call's shard,
 * whose subscriptions it then serves from here.
 *
 * @module
 */
import type { Origin, Registration, TrackSource } from "../model/origin.ts";
import type { TrackConsumer } from "../model/track.ts";
import { callNamespace, sidOf } from "../../voice/sid.ts";
import type { CrossShardLinks } from "./cross.ts";
import type { Logger } from "../../log/mod.ts";

/** Options for {@linkcode ShardRouter}. */
export interface ShardRouterOptions {
  /** This shard's index. */
  readonly self: number;
  /** This shard's origin. */
  readonly origin: Origin;
  /** Sessions to the other shards. */
  readonly links: CrossShardLinks;
  /** Where failed pushes are logged. */
  readonly log: Logger;
}

/**
 * Serves calls of other shards in this shard's origin.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Origin } from "@clutchcall/voice/relay";
 * import { CrossShardLinks, ShardRouter } from "@clutchcall/voice/relay/shard";
 * import { createLogger } from "@clutchcall/voice/log";
 *
 * const log = createLogger({ level: "error" });
 * const origin = new Origin();
 * using links = new CrossShardLinks({ connect: () => Promise.reject(new Error("none")), log });
 * using router = new ShardRouter({ self: 0, origin, links, log });
 * router.placed("CA1", 1); // CA1 lives on shard 1: voice/CA1 is served from there
 * assertEquals(origin.namespaces(), [["voice", "CA1"]]);
 * router.placed("CA2", 0); // our own: nothing to serve from elsewhere
 * router.released("CA1");
 * assertEquals(origin.namespaces(), []);
 * ```
 */
export class ShardRouter implements Disposable {
  readonly #o: ShardRouterOptions;
  /** Calls of other shards: their shard and the namespace registration serving them. */
  readonly #remote = new Map<string, { shard: number; registration: Registration }>();
  /** Calls placed on this shard. */
  readonly #own = new Set<string>();
  /** `sid/name` of tracks this origin pulls from another shard now. */
  readonly #pulled = new Set<string>();
  #push: Registration | undefined;
  #pushNamespaces: Registration | undefined;
  /** The sources this router registered itself (pulls from other shards). */
  readonly #ownSources = new WeakSet<TrackSource>();
  /** Foreign namespace publishers announced on their call's shard: the announcement. */
  readonly #announced = new Map<
    TrackSource,
    { readonly sid: string; readonly shard: number; readonly withdraw: () => void }
  >();

  /** Serves nothing until calls are placed. */
  constructor(options: ShardRouterOptions) {
    this.#o = options;
  }

  /** `sid`'s call was placed on `shard` (this one or another). Placing again moves it. */
  placed(sid: string, shard: number): void {
    const current = this.#remote.get(sid);
    if (current?.shard === shard) return;
    current?.registration.close();
    this.#remote.delete(sid);
    if (shard === this.#o.self) return void this.#own.add(sid);
    this.#own.delete(sid);
    const source: TrackSource = {
      serve: async (track) => {
        const key = `${sid}/${track.info.name}`;
        this.#pulled.add(key);
        track.closed.then(() => this.#pulled.delete(key));
        await this.#o.links.pull(shard, track);
      },
    };
    this.#ownSources.add(source);
    const registration = this.#o.origin.publishNamespace(callNamespace(sid), source);
    this.#remote.set(sid, { shard, registration });
  }

  /** `sid`'s call ended: stop serving it here. Releasing twice is a no-op. */
  released(sid: string): void {
    for (const [source, announced] of [...this.#announced]) {
      if (announced.sid === sid) this.#withdraw(source);
    }
    this.#own.delete(sid);
    this.#remote.get(sid)?.registration.close();
    this.#remote.delete(sid);
  }

  /** Shard `shard` was lost: forget its calls here and the session to it. */
  lost(shard: number): void {
    for (const [sid, { shard: owner }] of [...this.#remote]) {
      if (owner === shard) this.released(sid);
    }
    for (const [source, announced] of [...this.#announced]) {
      if (announced.shard === shard) this.#withdraw(source);
    }
    this.#o.links.forget(shard);
  }

  /** Whether `sid`'s call was placed on this shard. */
  ownsCall(sid: string): boolean {
    return this.#own.has(sid);
  }

  /** The shard serving `sid` here, when it is another one. */
  remoteShardOf(sid: string): number | undefined {
    return this.#remote.get(sid)?.shard;
  }

  /**
   * Pushes every track published in this origin (with a capability) for a call of another
   * shard to that shard, where the call's other legs are: what the main thread's in-process
   * legs (SIP gateway, agents, bridges) publish, and a client's PUBLISH on the wrong shard. `place` gives a call's shard (placing it when
   * the call is new). Tracks this origin itself pulled from elsewhere are not pushed back.
   */
  pushForeignTracks(place: (sid: string) => number): void {
    this.#push ??= this.#o.origin.route("*", (consumer: TrackConsumer) => {
      const sid = sidOf(consumer.info.namespace);
      if (sid === undefined || this.#pulled.has(`${sid}/${consumer.info.name}`)) {
        return consumer.close();
      }
      const shard = place(sid);
      if (shard === this.#o.self) return consumer.close();
      this.#o.links.push(shard, consumer).catch((error: Error) =>
        this.#o.log.warn("Cannot push a track to its call's relay shard", {
          sid,
          name: consumer.info.name,
          shard,
          error: error.message,
        })
      );
    });
  }

  /**
   * Announces every namespace published in this origin by a namespace publisher (not this
   * router's own pulls) for a call of another shard on that shard, served from here: a
   * client that sends PUBLISH_NAMESPACE to the wrong shard, as @moq/net publishers do. `place`
   * gives a call's shard (placing it when the call is new). Withdrawn with the publisher.
   */
  pushForeignNamespaces(place: (sid: string) => number): void {
    this.#pushNamespaces ??= this.#o.origin.watchPublishers(["voice"], (event) => {
      const { namespace, source } = event;
      if (this.#ownSources.has(source)) return;
      if (!event.active) return this.#withdraw(source);
      const sid = sidOf(namespace);
      if (sid === undefined || this.#announced.has(source)) return;
      const shard = place(sid);
      if (shard === this.#o.self) return;
      let withdrawn = false;
      const announcing = this.#o.links.announce(shard, namespace, source);
      this.#announced.set(source, {
        sid,
        shard,
        withdraw: () => {
          withdrawn = true;
          announcing.then((registration) => registration.close(), () => {});
        },
      });
      announcing.then((registration) => {
        if (withdrawn) registration.close();
      }, (error: Error) => {
        if (this.#announced.get(source)?.sid === sid) this.#announced.delete(source);
        this.#o.log.warn("Cannot announce a namespace on its call's relay shard", {
          sid,
          shard,
          error: error.message,
        });
      });
    });
  }

  /** Stops serving other shards' calls. A second close is a no-op. */
  close(): void {
    this.#push?.close();
    this.#push = undefined;
    this.#pushNamespaces?.close();
    this.#pushNamespaces = undefined;
    for (const source of [...this.#announced.keys()]) this.#withdraw(source);
    for (const sid of [...this.#remote.keys()]) this.released(sid);
  }

  /** Withdraws the announcement made for `source`, if any. */
  #withdraw(source: TrackSource): void {
    this.#announced.get(source)?.withdraw();
    this.#announced.delete(source);
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
