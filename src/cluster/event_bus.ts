/**
 * Call events across nodes on Redis pub/sub: every event a node emits for its own calls is
 * published on one channel, and every other node hands it to its listeners of that call
 * (its SSE streams), so `GET /v1/calls/{sid}/events` on any node streams any call. Incoming-call
 * events (`ring`, `cancel`) go the same way, so `GET /v1/clients/{identity}/incoming` on any
 * node hears a call ringing that client from any node.
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

/** Options for {@linkcode EventBus.start}. */
export interface EventBusOptions {
  /** A connected client; the bus publishes on it and subscribes on a duplicate. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly nodeId: string;
  /** This node's events. */
  readonly hub: EventHub;
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

  private constructor(subscriber: Redis, unlisten: () => void) {
    this.#subscriber = subscriber;
    this.#unlisten = unlisten;
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
    const stopIncoming = hub.onAnyIncoming((identity, incoming) =>
      send({ from: nodeId, identity, incoming }, incoming.call.sid, incoming.type)
    );
    const unlisten = () => {
      stopCalls();
      stopIncoming();
    };
    const bus = new EventBus(subscriber, unlisten);
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
