/**
 * Call events across nodes on Redis pub/sub: every event a node emits for its own calls is
 * published on one channel, and every other node hands it to its listeners of that call
 * (its SSE streams), so `GET /v1/calls/{sid}/events` on any node streams any call. Incoming-call
 * events (`ring`, `cancel`) go the same way, so `GET /v1/clients/{identity}/incoming` on any
 * node hears a call ringing that client from any node.
 *
 * A client's incoming stream starts with the calls ringing it now, on any node: each node keeps
 * its rings in one hash while they ring (`HSET` on `ring`, `HDEL` on `cancel`), and
 * {@linkcode EventBus.ringing} reads them, keeping only calls the store still has `ringing`
 * (a lost node's rings end with its calls, and are dropped from the hash when read).
 *
 * ```text
 * events    pub/sub channel of envelopes {from, event} or {from, identity, incoming}
 * rings     hash sid → identity (calls ringing a client, on any node)
 * ```
 *
 * Pub/sub is at-most-once: an event published while a node's subscriber is disconnected
 * (Redis restarting) does not reach that node's streams. A stream's first event is read from
 * the store, so a client reconnecting sees the current status.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { CallEvent, EventHub, IncomingEvent } from "../calls/events.ts";
import type { Call } from "../calls/call.ts";

/** Options for {@linkcode EventBus.start}. */
export interface EventBusOptions {
  /** A connected client; the bus publishes on it and subscribes on a duplicate. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly nodeId: string;
  /** This node's events. */
  readonly hub: EventHub;
  /** A call as the store has it now (undefined: none); {@linkcode EventBus.ringing} checks rings with it. */
  readonly getCall?: (sid: string) => Promise<Call | undefined>;
  readonly log: Logger;
}

/** A call event, or an incoming-call event (`ring`/`cancel`) for a client identity. */
type Envelope =
  | { readonly from: string; readonly event: CallEvent }
  | { readonly from: string; readonly identity: string; readonly incoming: IncomingEvent };

/**
 * The bridge between this node's event hub and the others'.
 *
 * @example
 * ```ts ignore
 * import { EventBus } from "./event_bus.ts";
 * await using bus = await EventBus.start({ redis, prefix: "clutchcall:", nodeId: "a", hub: calls.events, log });
 * ```
 */
export class EventBus implements AsyncDisposable {
  readonly #subscriber: Redis;
  readonly #unlisten: () => void;
  #closed = false;
  /** Events received from other nodes (for tests and metrics). */
  #received = 0;

  readonly #redis: Redis;
  readonly #rings: string;
  readonly #getCall: ((sid: string) => Promise<Call | undefined>) | undefined;
  readonly #log: Logger;

  private constructor(
    subscriber: Redis,
    unlisten: () => void,
    redis: Redis,
    rings: string,
    getCall: ((sid: string) => Promise<Call | undefined>) | undefined,
    log: Logger,
  ) {
    this.#subscriber = subscriber;
    this.#unlisten = unlisten;
    this.#redis = redis;
    this.#rings = rings;
    this.#getCall = getCall;
    this.#log = log;
  }

  /**
   * The calls ringing `identity` now, on any node (oldest first); a ring whose call no longer
   * rings is dropped from the table. Redis unreachable: none (logged), the stream's events
   * still come.
   */
  async ringing(identity: string): Promise<Call[]> {
    const getCall = this.#getCall;
    if (!getCall) return [];
    let table: Record<string, string>;
    try {
      table = await this.#redis.hgetall(this.#rings);
    } catch (error) {
      this.#log.warn("Cannot read the cluster's rings", { error: (error as Error).message });
      return [];
    }
    const calls: Call[] = [];
    for (const [sid, rung] of Object.entries(table)) {
      if (rung !== identity) continue;
      const call = await getCall(sid);
      if (call?.status === "ringing") calls.push(call);
      else {
        await this.#redis.hdel(this.#rings, sid).catch(() => undefined); // stale: read again next time
      }
    }
    return calls.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Subscribes, then starts publishing this node's events. */
  static async start(options: EventBusOptions): Promise<EventBus> {
    const { redis, prefix, nodeId, hub, log } = options;
    const channel = `${prefix}events`;
    // A subscribed connection may only subscribe: the duplicate re-subscribes by itself after
    // reconnecting (ioredis' autoResubscribe), so it keeps the offline queue off like its parent.
    const subscriber = redis.duplicate();
    subscriber.on("error", (error: Error) => log.debug("Event bus connection error", { error }));
    await subscriber.connect();
    await subscriber.subscribe(channel);
    const send = (envelope: Envelope, sid: string, type: string) =>
      redis.publish(channel, JSON.stringify(envelope)).catch((error: Error) =>
        log.warn("Cannot publish a call event to the cluster", { sid, type, error: error.message })
      );
    const stopCalls = hub.onAnyCall((event) =>
      send({ from: nodeId, event }, event.sid, event.type)
    );
    const rings = `${prefix}rings`;
    const stopIncoming = hub.onAnyIncoming((identity, incoming) => {
      const { sid } = incoming.call;
      // On the same connection as the publish, so in order with it (and with this ring's cancel).
      const write = incoming.type === "ring"
        ? redis.hset(rings, sid, identity)
        : redis.hdel(rings, sid);
      write.catch((error: Error) =>
        log.warn("Cannot record a ring in the cluster", {
          sid,
          type: incoming.type,
          error: error.message,
        })
      );
      send({ from: nodeId, identity, incoming }, sid, incoming.type);
    });
    const unlisten = () => {
      stopCalls();
      stopIncoming();
    };
    const bus = new EventBus(subscriber, unlisten, redis, rings, options.getCall, log);
    subscriber.on("message", (_channel: string, message: string) => {
      let envelope: Envelope;
      try {
        envelope = JSON.parse(message) as Envelope;
      } catch (error) {
        log.warn("Ignoring a malformed cluster event", { error });
        return;
      }
      if (envelope.from === nodeId) return;
      if ("incoming" in envelope) {
        if (typeof envelope.identity !== "string" || !envelope.incoming?.call) return;
        bus.#received++;
        hub.emitIncomingRemote(envelope.identity, envelope.incoming);
        return;
      }
      if (typeof envelope.event?.sid !== "string") return;
      bus.#received++;
      hub.emitRemote(envelope.event);
    });
    return bus;
  }

  /** How many events from other nodes were delivered here. */
  get received(): number {
    return this.#received;
  }

  /** Stops publishing and unsubscribes. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#subscriber.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
