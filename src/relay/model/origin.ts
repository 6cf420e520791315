/**
 * The origin: the relay's table of who publishes what. Publishers register namespaces
 * (served on demand through a {@linkcode TrackSource}) or push whole tracks; subscribers ask
 * for a track by name and share one upstream subscription per track however many they are;
 * in-process consumers register capability patterns and are handed each matching track.
 *
 * Protocol-neutral: every wire dialect's session talks to the same origin.
 *
 * @module
 */
import type { LocalTracks, SubscribeOptions } from "./local_tracks.ts";
import { type CapabilityPattern, parseCapabilityPattern } from "./capability.ts";
import { type TrackConsumer, type TrackInfo, TrackProducer } from "./track.ts";
import { TrackError } from "./track_error.ts";

/**
 * Serves tracks of a published namespace on demand (for a MoQT session: sends SUBSCRIBE
 * upstream).
 *
 * An implementation MUST resolve `serve` once the upstream accepted the track (after which
 * it writes groups into `track`) or reject with a {@linkcode TrackError} when refused; it
 * MUST stop (for MoQT: UNSUBSCRIBE) when `track.closed` resolves, and MUST close or abort
 * `track` when the upstream ends it.
 */
export interface TrackSource {
  /** Starts feeding `track`; see the interface contract. */
  serve(track: TrackProducer): Promise<void>;
  /**
   * False when the tracks it serves are copies of tracks routed elsewhere (a relay cascade
   * serving another node's tracks): capability routes are not handed them, so in-process
   * consumers act only on this process's own tracks [true].
   */
  readonly routed?: boolean;
}

/** A namespace appearing or going away, for namespace watchers. */
export interface NamespaceEvent {
  /** The namespace tuple. */
  readonly namespace: readonly string[];
  /** True when it appeared, false when it went away. */
  readonly active: boolean;
}

/** A namespace publisher registered or withdrawn, for {@linkcode Origin.watchPublishers}. */
export interface PublisherEvent {
  /** The namespace it publishes. */
  readonly namespace: readonly string[];
  /** The source it registered (the same object on withdrawal). */
  readonly source: TrackSource;
  /** True when it was registered, false when it was withdrawn. */
  readonly active: boolean;
}

/** Options for an {@linkcode Origin}. */
export interface OriginOptions {
  /** How long a subscribe waits for its namespace or track to appear, in ms [5000]. */
  readonly subscribeTimeoutMs?: number;
  /** Recent groups each track keeps [4]. */
  readonly groupWindow?: number;
  /** Called when a route handler throws; the handler's consumer is closed. */
  readonly onRouteError?: (error: unknown, pattern: string, track: TrackInfo) => void;
}

/** A handle on something registered with the origin; closing it unregisters. */
export interface Registration extends Disposable {
  /** Unregisters. A second close is a no-op. */
  close(): void;
}

/**
 * How a publication may be taken over by a newer publisher of the same track or namespace.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Origin, type PublishOptions } from "@clutchcall/voice/relay";
 * const origin = new Origin();
 * const peer: PublishOptions = { takeover: true, owner: "client:alice" };
 * const info = { namespace: ["voice", "CA1"], name: "uplink" };
 * const first = origin.publishTrack(info, peer);
 * using reader = await origin.subscribe(["voice", "CA1"], "uplink");
 * const second = origin.publishTrack(info, peer); // alice reconnected: she takes over
 * assertEquals(first.done, true);
 * second.appendGroup(0).write({ id: 0, payload: Uint8Array.of(7) });
 * assertEquals((await (await reader.nextGroup())?.readObject())?.payload[0], 7);
 * ```
 */
export interface PublishOptions {
  /**
   * The publication may take over a live one of the same track (or, for a namespace, the
   * tracks served through an older publisher of it), and may itself be taken over later
   * [false: a second publisher of a live track is refused]. Sessions of remote peers set it;
   * in-process publishers do not, so a peer can never take over the server's own tracks.
   */
  readonly takeover?: boolean;
  /**
   * Who publishes (a token's subject). A takeover is refused with a `TrackError`
   * (`unauthorized`) when the live publication has an owner and it is not this one.
   */
  readonly owner?: string;
}

interface Entry {
  producer: TrackProducer;
  ready: Promise<void>;
  pushed: boolean;
  /** May be taken over (published by a remote peer, or pulled from one). */
  takeover: boolean;
  owner: string | undefined;
  /** The namespace publisher a pulled track is served by. */
  source: TrackSource | undefined;
}

interface SourceEntry {
  readonly source: TrackSource;
  readonly takeover: boolean;
  readonly owner: string | undefined;
}

interface Route {
  readonly pattern: CapabilityPattern;
  readonly handler: (track: TrackConsumer) => void;
  readonly seen: WeakSet<TrackProducer>;
}

/** Namespaces are tuples; this key keeps fields apart whatever they contain. */
function namespaceKey(namespace: readonly string[]): string {
  return JSON.stringify(namespace);
}

function trackKey(namespace: readonly string[], name: string): string {
  return JSON.stringify([namespace, name]);
}

/** True when `prefix` is a field-wise prefix of `namespace`. */
export function isNamespacePrefix(
  prefix: readonly string[],
  namespace: readonly string[],
): boolean {
  if (prefix.length > namespace.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== namespace[i]) return false;
  return true;
}

/**
 * The publish/subscribe table at the heart of the relay.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Origin } from "@clutchcall/voice/relay";
 * const origin = new Origin();
 * const uplink = origin.publishTrack({ namespace: ["voice", "CA1"], name: "uplink", capability: "voice/opus" });
 * using reader = await origin.subscribe(["voice", "CA1"], "uplink");
 * uplink.appendGroup().write({ id: 0, payload: new Uint8Array(3) });
 * assertEquals((await reader.nextGroup())?.id, 0);
 * ```
 */
export class Origin implements LocalTracks {
  readonly #namespaces = new Map<
    string,
    { namespace: readonly string[]; sources: SourceEntry[] }
  >();
  readonly #tracks = new Map<string, Entry>();
  readonly #routes = new Set<Route>();
  /** Tracks served by a source that is not routed (`TrackSource.routed`): no route sees them. */
  readonly #unrouted = new WeakSet<TrackProducer>();
  readonly #watchers = new Set<(event: NamespaceEvent) => void>();
  readonly #publisherWatchers = new Set<(event: PublisherEvent) => void>();
  /**
   * Subscribers waiting for a namespace or track to appear, by the namespace they wait in;
   * each removes itself. Keyed so that a publish wakes only the waiters it may concern: with
   * one set for all, every call's uplink publish woke every unbridged call's downlink wait
   * (quadratic in the live calls: the SIP gateway's largest cost at 200 calls/s, issue 15).
   */
  readonly #waiters = new Map<
    string,
    { readonly namespace: readonly string[]; readonly wakes: Set<() => void> }
  >();
  readonly #subscribeTimeoutMs: number;
  readonly #groupWindow: number;
  readonly #onRouteError: OriginOptions["onRouteError"];

  /** Creates an empty origin. */
  constructor(
    { subscribeTimeoutMs = 5000, groupWindow = 4, onRouteError }: OriginOptions = {},
  ) {
    this.#subscribeTimeoutMs = subscribeTimeoutMs;
    this.#groupWindow = groupWindow;
    this.#onRouteError = onRouteError;
  }

  /** Number of tracks currently live (pushed or subscribed upstream). */
  get trackCount(): number {
    return this.#tracks.size;
  }

  /** Namespaces currently published. */
  namespaces(): (readonly string[])[] {
    return [...this.#namespaces.values()].map((n) => n.namespace);
  }

  /**
   * Publishes `namespace`, served by `source`. The newest publisher of a namespace serves
   * new subscriptions; closing the registration withdraws this publisher. With `takeover`
   * (see {@linkcode PublishOptions}), the live tracks an older publisher of the namespace
   * serves, when it allows takeover and has the same owner (or none), move to `source`: their
   * consumers stay subscribed and read what `source` serves next. A `takeover` publisher of
   * a namespace whose newest publisher is another owner's is refused with a `TrackError`
   * (`unauthorized`).
   */
  publishNamespace(
    namespace: readonly string[],
    source: TrackSource,
    { takeover = false, owner }: PublishOptions = {},
  ): Registration {
    const key = namespaceKey(namespace);
    let entry = this.#namespaces.get(key);
    const newest = entry?.sources.at(-1);
    if (
      takeover && newest?.takeover && newest.owner !== undefined && newest.owner !== owner
    ) {
      throw new TrackError(
        "unauthorized",
        `Cannot publish namespace: "${namespace.join("/")}" is published by another identity`,
      );
    }
    const isNew = !entry;
    if (!entry) {
      entry = { namespace: Object.freeze([...namespace]), sources: [] };
      this.#namespaces.set(key, entry);
    }
    const record: SourceEntry = { source, takeover, owner };
    entry.sources.push(record);
    if (isNew) this.#emit({ namespace: entry.namespace, active: true });
    this.#emitPublisher({ namespace: entry.namespace, source, active: true });
    if (takeover) this.#moveTracks(namespace, record);
    // A namespace serves its sub-namespaces too (#findSource): wake the waiters under it.
    for (const waiting of [...this.#waiters.values()]) {
      if (isNamespacePrefix(namespace, waiting.namespace)) {
        for (const wake of [...waiting.wakes]) wake();
      }
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      const current = this.#namespaces.get(key);
      if (!current) return;
      current.sources.splice(current.sources.indexOf(record), 1);
      if (current.sources.length === 0) {
        this.#namespaces.delete(key);
        this.#emit({ namespace: current.namespace, active: false });
      }
      this.#emitPublisher({ namespace: current.namespace, source, active: false });
    };
    return { close, [Symbol.dispose]: close };
  }

  /**
   * Publishes a whole track pushed by its publisher (MoQT PUBLISH, or an in-process
   * producer). Matching routes are handed the track at once. Throws a `TrackError` when the
   * same track is already pushed by another live publisher, unless both allow `takeover`
   * (then the new publisher takes the track over: see {@linkcode PublishOptions}).
   *
   * Takeover follows moq-dev/moq's origin (rs/moq-lite/src/model/origin.rs,
   * `OriginNode::publish`): "on ties, the newer broadcast wins, since the previous one may be
   * about to close" — a publisher that reconnects on a new connection replaces the one whose
   * connection is dying, and only a publisher authorized for the path may publish there at
   * all (moq-lite's `publish_only` prefixes from the token; here the session's `Authorize`).
   * Two differences: moq-lite re-announces and its subscribers subscribe again, while here the
   * existing consumers move to the new publisher's groups in place (a voice call must not
   * need every listener to notice); and a publication owned by one token subject cannot be
   * taken over by another subject (LiveKit's same-identity rule: a participant joining again
   * with the same identity replaces its older connection).
   */
  publishTrack(info: TrackInfo, { takeover = false, owner }: PublishOptions = {}): TrackProducer {
    const key = trackKey(info.namespace, info.name);
    const existing = this.#tracks.get(key);
    const live = existing && !existing.producer.done ? existing : undefined;
    const path = `${info.namespace.join("/")}/${info.name}`;
    if (live?.pushed && (!takeover || !live.takeover)) {
      throw new TrackError("internal", `Cannot publish track: "${path}" is already published`);
    }
    // A live track (pushed, or pulled from a namespace publisher) is taken over when both
    // allow it and the owners agree; otherwise a pulled one is replaced for new subscribers
    // (it keeps its consumers), as before takeovers existed.
    if (live && takeover && live.takeover) {
      if (live.owner !== undefined && live.owner !== owner) {
        throw new TrackError(
          "unauthorized",
          `Cannot take over track: "${path}" is published by another identity`,
        );
      }
      return this.#takeOver(key, live, info, owner);
    }
    const producer = new TrackProducer(info, { window: this.#groupWindow });
    const entry: Entry = {
      producer,
      ready: Promise.resolve(),
      pushed: true,
      takeover,
      owner,
      source: undefined,
    };
    this.#tracks.set(key, entry);
    this.#forgetWhenClosed(key, entry, producer);
    for (const wake of [...this.#waiters.get(namespaceKey(info.namespace))?.wakes ?? []]) wake();
    this.#routeTrack(producer);
    return producer;
  }

  /** `entry`'s new publisher writes its track from now on; the consumers stay. */
  #takeOver(key: string, entry: Entry, info: TrackInfo, owner: string | undefined): TrackProducer {
    const old = entry.producer;
    const producer = old.supersede();
    if (info.capability !== undefined) producer.setCapability(info.capability);
    producer.setDatagrams(info.datagrams ?? false);
    entry.producer = producer;
    entry.ready = Promise.resolve();
    entry.pushed = true;
    entry.owner = owner;
    entry.source = undefined;
    this.#forgetWhenClosed(key, entry, producer);
    this.#carryRoutes(old, producer);
    return producer;
  }

  /** Moves the pulled tracks an older publisher of `record`'s namespace serves to it. */
  #moveTracks(namespace: readonly string[], record: SourceEntry): void {
    for (const [key, entry] of [...this.#tracks]) {
      const { producer } = entry;
      if (entry.pushed || !entry.takeover || producer.done) continue;
      if (entry.source === record.source) continue;
      if (!isNamespacePrefix(namespace, producer.info.namespace)) continue;
      if (this.#findSource(producer.info.namespace) !== record) continue;
      if (entry.owner !== undefined && entry.owner !== record.owner) continue;
      const next = producer.supersede();
      entry.producer = next;
      entry.source = record.source;
      entry.owner = record.owner;
      entry.ready = this.#serve(record.source, next);
      this.#forgetWhenClosed(key, entry, next);
      this.#carryRoutes(producer, next);
    }
  }

  /** Drops `entry` from the table once `producer`, still its writer, ends. */
  #forgetWhenClosed(key: string, entry: Entry, producer: TrackProducer): void {
    producer.closed.then(() => {
      if (this.#tracks.get(key) === entry && entry.producer === producer) this.#tracks.delete(key);
    });
  }

  /** Routes that were handed the old writer's track already read the new one's. */
  #carryRoutes(old: TrackProducer, producer: TrackProducer): void {
    for (const route of this.#routes) if (route.seen.has(old)) route.seen.add(producer);
    this.#routeTrack(producer);
  }

  /**
   * Subscribes to a track. Concurrent and later subscribers share one upstream
   * subscription. When neither the track nor its namespace is published yet, waits (bounded)
   * for it to appear; rejects with a `TrackError` (`not_found`) after the bound.
   */
  async subscribe(
    namespace: readonly string[],
    name: string,
    { timeoutMs = this.#subscribeTimeoutMs, signal }: SubscribeOptions = {},
  ): Promise<TrackConsumer> {
    const key = trackKey(namespace, name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const entry = this.#tracks.get(key) ?? this.#pull(key, namespace, name);
      if (entry) {
        const consumer = entry.producer.consume();
        // A takeover while the upstream is pending gives the entry a new `ready`: the
        // consumer is on the same track, so it waits for the new publisher instead.
        for (let ready = entry.ready;; ready = entry.ready) {
          try {
            await ready;
            break;
          } catch (error) {
            if (entry.ready !== ready) continue;
            consumer.close();
            throw error;
          }
        }
        return consumer;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TrackError(
          "not_found",
          `Cannot subscribe to track: namespace "${namespace.join("/")}" is not published`,
        );
      }
      await this.#waitForChange(namespace, left, signal);
    }
  }

  /**
   * Ends every live track in `namespace` (pushed or pulled): closed normally, or aborted
   * with `error`. Their consumers see the end; upstream subscriptions are released. Returns
   * how many tracks were ended. Used by the control plane to hang up a call.
   */
  closeTracks(namespace: readonly string[], error?: Error): number {
    const key = namespaceKey(namespace);
    let count = 0;
    for (const { producer } of [...this.#tracks.values()]) {
      if (producer.done || namespaceKey(producer.info.namespace) !== key) continue;
      error ? producer.abort(error) : producer.close();
      count++;
    }
    return count;
  }

  /**
   * Watches namespaces under `prefix`: `handler` gets every currently published one, then
   * each publish and withdrawal.
   */
  watchNamespaces(
    prefix: readonly string[],
    handler: (event: NamespaceEvent) => void,
  ): Registration {
    const watcher = (event: NamespaceEvent) => {
      if (isNamespacePrefix(prefix, event.namespace)) handler(event);
    };
    for (const { namespace } of this.#namespaces.values()) watcher({ namespace, active: true });
    this.#watchers.add(watcher);
    const close = () => void this.#watchers.delete(watcher);
    return { close, [Symbol.dispose]: close };
  }

  /**
   * Watches the namespace publishers under `prefix`, one by one (a namespace two publishers
   * publish is told twice, unlike {@linkcode watchNamespaces}): `handler` gets every one
   * registered now, then each registration and withdrawal.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { Origin, type TrackSource } from "@clutchcall/voice/relay";
   * const origin = new Origin();
   * const seen: [string, boolean][] = [];
   * using _watch = origin.watchPublishers(["voice"], (e) => seen.push([e.namespace[1], e.active]));
   * const source: TrackSource = { serve: () => Promise.resolve() };
   * const first = origin.publishNamespace(["voice", "CA1"], source);
   * const second = origin.publishNamespace(["voice", "CA1"], source);
   * second.close();
   * first.close();
   * assertEquals(seen, [["CA1", true], ["CA1", true], ["CA1", false], ["CA1", false]]);
   * ```
   */
  watchPublishers(
    prefix: readonly string[],
    handler: (event: PublisherEvent) => void,
  ): Registration {
    const watcher = (event: PublisherEvent) => {
      if (isNamespacePrefix(prefix, event.namespace)) handler(event);
    };
    for (const { namespace, sources } of [...this.#namespaces.values()]) {
      for (const { source } of [...sources]) watcher({ namespace, source, active: true });
    }
    this.#publisherWatchers.add(watcher);
    const close = () => void this.#publisherWatchers.delete(watcher);
    return { close, [Symbol.dispose]: close };
  }

  /**
   * Hands every live and future track whose capability matches `pattern` to `handler`, as
   * a consumer of its own (the handler closes it when done). The publisher never learns of
   * it. A handler that throws gets its consumer closed and the error reported.
   */
  route(pattern: string, handler: (track: TrackConsumer) => void): Registration {
    const route: Route = { pattern: parseCapabilityPattern(pattern), handler, seen: new WeakSet() };
    this.#routes.add(route);
    for (const { producer } of [...this.#tracks.values()]) this.#offer(route, producer);
    const close = () => void this.#routes.delete(route);
    return { close, [Symbol.dispose]: close };
  }

  /** Tells routes about a track whose capability became known after it was created. */
  #routeTrack(producer: TrackProducer): void {
    for (const route of [...this.#routes]) this.#offer(route, producer);
  }

  #offer(route: Route, producer: TrackProducer): void {
    if (producer.done || route.seen.has(producer) || this.#unrouted.has(producer)) return;
    if (!route.pattern.matches(producer.info.capability)) return;
    route.seen.add(producer);
    const consumer = producer.consume();
    try {
      route.handler(consumer);
    } catch (error) {
      consumer.close();
      this.#onRouteError?.(error, route.pattern.source, producer.info);
    }
  }

  /** Starts an upstream subscription through the namespace's newest publisher, if any. */
  #pull(key: string, namespace: readonly string[], name: string): Entry | undefined {
    const record = this.#findSource(namespace);
    if (!record) return undefined;
    const producer = new TrackProducer({ namespace, name }, { window: this.#groupWindow });
    const entry: Entry = {
      producer,
      ready: this.#serve(record.source, producer),
      pushed: false,
      takeover: record.takeover,
      owner: record.owner,
      source: record.source,
    };
    this.#tracks.set(key, entry);
    this.#forgetWhenClosed(key, entry, producer);
    // Unused pulled tracks are released upstream; a track pushed by a takeover stays.
    producer.onUnused(() => {
      if (entry.pushed || this.#tracks.get(key) !== entry) return;
      this.#tracks.delete(key);
      entry.producer.close();
    });
    return entry;
  }

  /** Asks `source` to feed `producer`; aborts it when refused. */
  #serve(source: TrackSource, producer: TrackProducer): Promise<void> {
    if (source.routed === false) this.#unrouted.add(producer);
    const ready = source.serve(producer).then(
      () => this.#routeTrack(producer),
      (error) => {
        producer.abort(error instanceof Error ? error : new Error(String(error)));
        throw error;
      },
    );
    ready.catch(() => {}); // observed by every subscriber awaiting it
    return ready;
  }

  #findSource(namespace: readonly string[]): SourceEntry | undefined {
    let best: { length: number; record: SourceEntry } | undefined;
    for (const { namespace: ns, sources } of this.#namespaces.values()) {
      if (ns.length > (best?.length ?? -1) && isNamespacePrefix(ns, namespace)) {
        best = { length: ns.length, record: sources[sources.length - 1] };
      }
    }
    return best?.record;
  }

  #emit(event: NamespaceEvent): void {
    for (const watcher of [...this.#watchers]) watcher(event);
  }

  #emitPublisher(event: PublisherEvent): void {
    for (const watcher of [...this.#publisherWatchers]) watcher(event);
  }

  /**
   * Waits for the next publish, `ms`, or `signal`. Each waiter is removed when it wakes: no
   * reaction is left on a shared promise (a subscriber re-waiting every few seconds while
   * nothing is published would otherwise pile reactions up, each holding its caller alive).
   */
  async #waitForChange(
    namespace: readonly string[],
    ms: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const { promise, resolve: settle } = Promise.withResolvers<void>();
    const resolve = () => settle();
    const timer = setTimeout(resolve, ms);
    const key = namespaceKey(namespace);
    let waiting = this.#waiters.get(key);
    if (!waiting) this.#waiters.set(key, waiting = { namespace, wakes: new Set() });
    waiting.wakes.add(resolve);
    signal?.addEventListener("abort", resolve, { once: true });
    try {
      await promise;
    } finally {
      clearTimeout(timer);
      waiting.wakes.delete(resolve);
      if (waiting.wakes.size === 0 && this.#waiters.get(key) === waiting) this.#waiters.delete(key);
      signal?.removeEventListener("abort", resolve);
    }
  }
}
