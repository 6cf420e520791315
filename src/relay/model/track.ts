/**
 * A track: a sequence of groups. One {@linkcode TrackProducer} writes it; any number of
 * {@linkcode TrackConsumer}s read it. A consumer that falls behind skips to the newest
 * groups (the producer keeps a small window of recent groups), so a slow reader loses whole
 * stale groups instead of growing latency.
 *
 * @module
 */
import { type GroupConsumer, GroupProducer } from "./group.ts";
import { Notify } from "./notify.ts";
import { TrackError } from "./track_error.ts";

/** A track's identity and its opaque capability tag. */
export interface TrackInfo {
  /** Namespace tuple, e.g. `["voice", "CA123"]`. */
  readonly namespace: readonly string[];
  /** Track name within the namespace, e.g. `"uplink"`. */
  readonly name: string;
  /** Opaque capability tag, e.g. `"voice/opus"`; the relay never interprets it. */
  readonly capability?: string;
  /**
   * The publisher offers the track on the datagram lane (unreliable, one datagram per object,
   * for voice). Only subscribers that accept the lane get datagrams; the others get the
   * reliable, ordered group streams, which stay the default.
   */
  readonly datagrams?: boolean;
}

/** Options for a {@linkcode TrackProducer}. */
export interface TrackProducerOptions {
  /** Recent groups kept for late joiners and slow readers [4]. */
  readonly window?: number;
}

class TrackState {
  readonly recent: GroupProducer[] = [];
  readonly changed: Notify = new Notify();
  readonly closed: Promise<Error | undefined>;
  readonly resolveClosed: (error: Error | undefined) => void;
  readonly unusedListeners: Set<() => void> = new Set();
  done = false;
  error: Error | undefined;
  consumers = 0;
  info: TrackInfo;

  constructor(info: TrackInfo, readonly window: number) {
    this.info = Object.freeze({ ...info, namespace: Object.freeze([...info.namespace]) });
    const { promise, resolve } = Promise.withResolvers<Error | undefined>();
    this.closed = promise;
    this.resolveClosed = resolve;
  }

  latestId(): number {
    const last = this.recent.at(-1);
    return last ? last.id : -1;
  }
}

/**
 * Writes a track's groups.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TrackProducer } from "@clutchcall/voice/relay";
 * const track = new TrackProducer({ namespace: ["voice", "CA1"], name: "uplink", capability: "voice/opus" });
 * const reader = track.consume();
 * const group = track.appendGroup();
 * group.write({ id: 0, payload: new Uint8Array(3) });
 * group.close();
 * const g = await reader.nextGroup();
 * assertEquals([g?.id, (await g?.readObject())?.payload.length], [0, 3]);
 * ```
 */
export class TrackProducer {
  #state: TrackState;
  /** Added to the group ids this handle is given: a takeover's ids continue past the old ones. */
  #base = 0;
  /** Set once a newer writer took the track over: this handle then writes nothing. */
  #superseded = false;
  readonly #closed = Promise.withResolvers<Error | undefined>();

  /** Creates a track with no groups yet. */
  constructor(info: TrackInfo, { window = 4 }: TrackProducerOptions = {}) {
    if (window < 1) {
      throw new RangeError(`Cannot create track: window must be at least 1, got ${window}`);
    }
    this.#state = new TrackState(info, window);
  }

  /** The track's identity and capability. */
  get info(): TrackInfo {
    return this.#state.info;
  }

  /**
   * Resolves when this handle stops writing the track: `undefined` when the track closed, the
   * error when it was aborted, and a `TrackError` (`superseded`) when a newer writer took it
   * over ({@linkcode supersede}).
   */
  get closed(): Promise<Error | undefined> {
    return this.#closed.promise;
  }

  /** True once the track closed or aborted, or this handle was superseded. */
  get done(): boolean {
    return this.#superseded || this.#state.done;
  }

  /** Number of open consumers. */
  get consumers(): number {
    return this.#state.consumers;
  }

  /** Marks the track as on the datagram lane once it is learnt (an upstream SUBSCRIBE_OK). */
  setDatagrams(datagrams: boolean): void {
    if (this.#superseded) return;
    const state = this.#state;
    state.info = Object.freeze({ ...state.info, datagrams });
  }

  /** Sets the capability once it is learnt (e.g. from an upstream SUBSCRIBE_OK). */
  setCapability(capability: string): void {
    if (this.#superseded) return;
    const state = this.#state;
    state.info = Object.freeze({ ...state.info, capability });
  }

  /**
   * Starts a new group. `id` defaults to one past the newest group. A group older than the
   * newest one is still returned (its writer may finish it) but only reaches consumers that
   * have not read past it. A handle that took the track over ({@linkcode supersede}) has its
   * ids shifted past the old writer's, so a publisher that restarts at 0 after a reconnect
   * still moves every consumer forward; the returned group's `id` is the shifted one.
   */
  appendGroup(id?: number): GroupProducer {
    const state = this.#state;
    id = id === undefined ? state.latestId() + 1 : id + this.#base;
    const group = new GroupProducer(id);
    if (state.done || this.#superseded) {
      group.close();
      return group;
    }
    const recent = state.recent;
    let at = recent.length;
    while (at > 0 && recent[at - 1].id > id) at--;
    if (at > 0 && recent[at - 1].id === id) {
      // A duplicate group id replaces nothing: hand back a detached, already-closed group.
      group.close();
      return group;
    }
    recent.splice(at, 0, group);
    while (recent.length > state.window) recent.shift()!.close();
    state.changed.notify();
    return group;
  }

  /** A new reader starting at the newest group (from its object 0). */
  consume(): TrackConsumer {
    const state = this.#state;
    return new TrackConsumer(state, state.latestId() - 1);
  }

  /** Calls `listener` each time the last consumer closes. Returns a function to remove it. */
  onUnused(listener: () => void): () => void {
    const listeners = this.#state.unusedListeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Hands the track to a new writer and returns it; this handle stops writing (its groups
   * are closed, later writes are dropped, `close`/`abort` on it are no-ops) and its `closed`
   * resolves with `reason`. Every consumer stays on the track and reads the new writer's
   * groups next, without subscribing again: a reconnecting publisher takes its track over
   * from its dead session. The new writer's group ids continue past the newest so far.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { TrackProducer } from "@clutchcall/voice/relay";
   * const old = new TrackProducer({ namespace: ["voice", "CA1"], name: "uplink" });
   * using reader = old.consume();
   * old.appendGroup(41).write({ id: 0, payload: Uint8Array.of(1) });
   * const fresh = old.supersede();
   * fresh.appendGroup(0).write({ id: 0, payload: Uint8Array.of(2) }); // ids restart
   * assertEquals((await reader.nextGroup())?.id, 41);
   * const next = await reader.nextGroup();
   * assertEquals(next?.id, 42); // shifted past the old writer's
   * assertEquals((await next?.readObject())?.payload[0], 2);
   * assertEquals((await old.closed as Error).message.includes("taken over"), true);
   * ```
   *
   * @throws {TypeError} when this handle no longer writes the track
   */
  supersede(
    reason: Error = new TrackError(
      "superseded",
      `Track "${
        [...this.info.namespace, this.info.name].join("/")
      }" was taken over by a newer publisher`,
    ),
  ): TrackProducer {
    if (this.done) throw new TypeError("Cannot supersede track: this writer no longer writes it");
    const state = this.#state;
    for (const group of state.recent) group.close();
    const next = new TrackProducer(state.info, { window: state.window });
    next.#state = state;
    next.#base = state.latestId() + 1;
    this.#superseded = true;
    state.changed.notify();
    this.#closed.resolve(reason);
    return next;
  }

  /** Ends the track normally; open groups are closed. A second close is a no-op. */
  close(): void {
    this.#finish(undefined);
  }

  /** Ends the track with `error`, seen by every consumer's `closed`. */
  abort(error: Error): void {
    this.#finish(error);
  }

  #finish(error: Error | undefined): void {
    const state = this.#state;
    if (state.done || this.#superseded) return;
    state.done = true;
    state.error = error;
    for (const group of state.recent) error ? group.abort(error) : group.close();
    state.changed.notify();
    state.resolveClosed(error);
    this.#closed.resolve(error);
  }
}

/**
 * Reads a track's groups, newest first when behind. Closing it unsubscribes; when the
 * last consumer of a track closes, the producer's `onUnused` listeners run.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TrackProducer } from "@clutchcall/voice/relay";
 * const track = new TrackProducer({ namespace: ["a"], name: "b" });
 * using reader = track.consume();
 * track.appendGroup().close();
 * assertEquals((await reader.nextGroup())?.id, 0);
 * ```
 */
export class TrackConsumer {
  readonly #state: TrackState;
  #lastId: number;
  #closed = false;

  /** @internal Use {@linkcode TrackProducer.consume}. */
  constructor(state: TrackState, lastId: number) {
    this.#state = state;
    this.#lastId = lastId;
    state.consumers++;
  }

  /** The track's identity and capability. */
  get info(): TrackInfo {
    return this.#state.info;
  }

  /** Resolves when the track ends: `undefined` when closed, the error when aborted. */
  get closed(): Promise<Error | undefined> {
    return this.#state.closed;
  }

  /** The newest group id seen by this consumer, -1 before the first. */
  get lastGroupId(): number {
    return this.#lastId;
  }

  /**
   * The next group after the last one returned (skipping any that fell out of the recent
   * window), or `undefined` when the track ended or this consumer closed.
   */
  async nextGroup(): Promise<GroupConsumer | undefined> {
    const state = this.#state;
    for (;;) {
      if (this.#closed) return undefined;
      for (const group of state.recent) {
        if (group.id > this.#lastId) {
          this.#lastId = group.id;
          return group.consume();
        }
      }
      if (state.done) return undefined;
      await state.changed.wait();
    }
  }

  /** Another independent reader at the same position (fan-out). */
  clone(): TrackConsumer {
    if (this.#closed) throw new TypeError("Cannot clone track consumer: it is closed");
    return new TrackConsumer(this.#state, this.#lastId);
  }

  /** Stops reading. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    state.consumers--;
    state.changed.notify();
    if (state.consumers === 0) {
      for (const listener of [...state.unusedListeners]) listener();
    }
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
