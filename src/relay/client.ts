/**
 * A MoQT client for Deno code (the SDK, bridges, tests, benches): one draft-14 session over
 * raw QUIC (or any {@linkcode MoqTransport}) with a private origin for what it publishes.
 *
 * @module
 */
import {
  Origin,
  type Registration,
  type TrackConsumer,
  type TrackInfo,
  TrackProducer,
  type TrackSource,
} from "./model/mod.ts";
import { Session } from "./wire/draft14/session.ts";
import { type ConnectMoqOptions, connectMoqQuic } from "./transport/endpoint.ts";
import type { MoqTransport } from "./transport/transport.ts";
import { createLogger, type Logger } from "../log/mod.ts";

/** Options for {@linkcode MoqClient.connect}. */
export interface MoqClientOptions extends ConnectMoqOptions {
  /** Where the session logs [warnings only]. */
  readonly log?: Logger;
  /** The PATH setup parameter [/moq]. */
  readonly path?: string;
  /** A bearer token (JWT) sent as CLIENT_SETUP's AUTHORIZATION_TOKEN parameter. */
  readonly token?: string;
}

/**
 * A connected MoQT client.
 *
 * @example
 * ```ts ignore
 * import { MoqClient } from "./client.ts";
 * await using client = await MoqClient.connect({ hostname: "127.0.0.1", port: 4443, caCerts: [certPem] });
 * const uplink = await client.publish({ namespace: ["voice", "CA1"], name: "uplink", capability: "voice/opus" });
 * const group = uplink.appendGroup();
 * group.write({ id: 0, payload: new Uint8Array(160) });
 * using downlink = await client.subscribe(["voice", "CA1"], "downlink");
 * ```
 */
export class MoqClient implements AsyncDisposable {
  /** The draft-14 session underneath (state, stats, GOAWAY). */
  readonly session: Session;
  readonly #origin: Origin;

  /** @internal Use {@linkcode MoqClient.connect} or {@linkcode MoqClient.over}. */
  constructor(session: Session, origin: Origin) {
    this.session = session;
    this.#origin = origin;
  }

  /** Connects over raw QUIC and completes the setup exchange. */
  static async connect(options: MoqClientOptions): Promise<MoqClient> {
    return await MoqClient.over(await connectMoqQuic(options), options);
  }

  /** Runs a client session over an existing transport. */
  static async over(
    transport: MoqTransport,
    { log = createLogger({ level: "warn" }), path = "/moq", token }: {
      log?: Logger;
      path?: string;
      token?: string;
    } = {},
  ): Promise<MoqClient> {
    const origin = new Origin({ subscribeTimeoutMs: 0 });
    const session = new Session(transport, { role: "client", origin, log, path, token });
    await session.ready;
    return new MoqClient(session, origin);
  }

  /** Resolves when the session ends, with why. */
  get closed(): Session["closed"] {
    return this.session.closed;
  }

  /**
   * Publishes a track to the relay with PUBLISH (capability carried along). Resolves once the
   * relay accepted it; write groups into the returned producer, close it to end the track.
   */
  async publish(info: TrackInfo): Promise<TrackProducer> {
    const producer = new TrackProducer(info);
    const consumer = producer.consume();
    try {
      await this.session.publish(consumer);
    } catch (error) {
      producer.abort(error as Error);
      throw error;
    }
    return producer;
  }

  /**
   * Announces `namespace` with PUBLISH_NAMESPACE; the relay then subscribes to its tracks on
   * demand. Returns the producer for a track of it: the relay's subscriptions read from it.
   */
  async publishNamespace(
    namespace: readonly string[],
  ): Promise<(name: string, capability?: string) => TrackProducer> {
    const tracks = new Map<string, TrackProducer>();
    this.#origin.publishNamespace(namespace, {
      serve: () => Promise.reject(new Error("unreachable: tracks are pushed locally")),
    });
    await this.session.publishNamespace(namespace);
    return (name, capability) => {
      let track = tracks.get(name);
      if (!track || track.done) {
        track = this.#origin.publishTrack({ namespace, name, capability });
        tracks.set(name, track);
      }
      return track;
    };
  }

  /**
   * Announces `namespace` with PUBLISH_NAMESPACE, its tracks served on demand by `source`
   * (the relay's SUBSCRIBEs become `source.serve` calls). Resolves once the announcement is
   * sent; closing the registration withdraws it (PUBLISH_NAMESPACE_DONE). A second close is
   * a no-op.
   */
  async announce(namespace: readonly string[], source: TrackSource): Promise<Registration> {
    const local = this.#origin.publishNamespace(namespace, source);
    try {
      await this.session.publishNamespace(namespace);
    } catch (error) {
      local.close();
      throw error;
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      local.close();
      this.session.publishNamespaceDone(namespace);
    };
    return { close, [Symbol.dispose]: close };
  }

  /**
   * Subscribes to a track through the relay. Close the consumer to unsubscribe.
   * `datagrams: true` accepts the track's datagram lane when its publisher offers it
   * (`consumer.info.datagrams` then says it was granted); otherwise objects come on the
   * reliable, ordered group streams. An aborted `signal` ends the subscription with its reason.
   */
  async subscribe(
    namespace: readonly string[],
    name: string,
    options: { readonly datagrams?: boolean; readonly signal?: AbortSignal } = {},
  ): Promise<TrackConsumer> {
    const { datagrams, signal } = options;
    signal?.throwIfAborted();
    const producer = new TrackProducer({ namespace, name });
    const consumer = producer.consume();
    producer.onUnused(() => producer.close());
    try {
      await this.session.subscribe(producer, { datagrams });
      // A caller that gave up meanwhile gets no subscription (closing it unsubscribes).
      signal?.throwIfAborted();
    } catch (error) {
      consumer.close();
      throw error;
    }
    return consumer;
  }

  /** Closes the session. A second close is a no-op. */
  close(): void {
    this.session.close("no_error", "Client closed");
  }

  /** Closes the session and waits until it is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.session.closed;
  }
}
