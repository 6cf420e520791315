/**
 * A browser MoQT connection: the draft-14 {@linkcode Session} the server runs, over the
 * browser's WebTransport, with a private origin for what the page publishes. One token
 * authorizes the whole connection (CLIENT_SETUP's AUTHORIZATION_TOKEN).
 *
 * @module
 */
import { Origin, type TrackConsumer, type TrackInfo, TrackProducer } from "../relay/model/mod.ts";
import { Session } from "../relay/wire/draft14/session.ts";
import { MoqError, type MoqErrorKind } from "../relay/error.ts";
import { connectWebTransport } from "./webtransport.ts";
import { consoleLogger } from "./console_logger.ts";

/** Options for {@linkcode BrowserMoq.connect}. */
export interface BrowserMoqOptions {
  /** The relay's WebTransport URL (`url` of `/v1/relay/certificate`). */
  readonly url: string;
  /** The relay certificate's SHA-256, base64 (`sha256Base64` of `/v1/relay/certificate`). */
  readonly certificateHash?: string;
  /** A bearer token with `media:publish` / `media:subscribe` for the call. */
  readonly token: string;
  /** Abandons connecting. */
  readonly signal?: AbortSignal;
}

/** The relay refused the connection or ended it; `kind` says why, protocol-neutrally. */
export class MoqSessionError extends Error {
  /** Names the error in stack traces. */
  override readonly name = "MoqSessionError";
  /** Why the session ended (`"unauthorized"`, `"goaway_timeout"`, …), when the relay said. */
  readonly kind: MoqErrorKind | undefined;

  /** An error with the session's end kind and a sentence. */
  constructor(kind: MoqErrorKind | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** Words for the draft-14 termination codes a page shows. */
export function describeSessionEnd(error: MoqError | Error | undefined): string {
  if (!error) return "the relay connection closed";
  const kind = error instanceof MoqError ? error.kind : undefined;
  switch (kind) {
    case "no_error":
      return "the relay connection closed";
    case "unauthorized":
    case "malformed_auth_token":
    case "expired_auth_token":
      return `the relay refused the token (${error.message})`;
    case "goaway_timeout":
      return "the relay shut down";
    default:
      return `the relay connection failed: ${error.message}`;
  }
}

/**
 * A connected browser MoQT client; publish and subscribe like the SDK's `MoqClient`.
 *
 * @example
 * ```ts ignore
 * import { BrowserMoq } from "./moq_connection.ts";
 * const cert = await (await fetch("/v1/relay/certificate")).json();
 * await using moq = await BrowserMoq.connect({ url: cert.url, certificateHash: cert.sha256Base64, token });
 * const uplink = await moq.publish({ namespace: ["voice", sid], name: "uplink", capability: "voice/opus" });
 * ```
 */
export class BrowserMoq implements AsyncDisposable {
  readonly #session: Session;

  private constructor(session: Session) {
    this.#session = session;
    // A page going away closes its connection the same way (its control stream ends), so the
    // relay drops the page's tracks now rather than at the connection's idle timeout.
    const onPageHide = () => this.close();
    globalThis.addEventListener?.("pagehide", onPageHide);
    session.closed.then(() => globalThis.removeEventListener?.("pagehide", onPageHide));
  }

  /** Opens WebTransport, runs the setup exchange with the token; rejects saying why. */
  static async connect(options: BrowserMoqOptions): Promise<BrowserMoq> {
    const transport = await connectWebTransport(options);
    const session = new Session(transport, {
      role: "client",
      origin: new Origin({ subscribeTimeoutMs: 0 }),
      log: consoleLogger("warn", { component: "moq" }),
      token: options.token,
    });
    try {
      await session.ready;
    } catch (cause) {
      const ended = await Promise.race([session.closed, Promise.resolve(undefined)]);
      const error = ended ?? cause as Error;
      throw new MoqSessionError(
        error instanceof MoqError ? error.kind : undefined,
        `Cannot connect to the relay: ${describeSessionEnd(error as Error)}`,
        { cause },
      );
    }
    return new BrowserMoq(session);
  }

  /** Resolves when the session ends, with why. */
  get closed(): Promise<MoqError> {
    return this.#session.closed;
  }

  /** Publishes a track (PUBLISH); write groups into the producer, close it to end the track. */
  async publish(info: TrackInfo): Promise<TrackProducer> {
    const producer = new TrackProducer(info);
    try {
      await this.#session.publish(producer.consume());
    } catch (error) {
      producer.abort(error as Error);
      throw error;
    }
    return producer;
  }

  /** Subscribes to a track; close the consumer to unsubscribe. */
  async subscribe(namespace: readonly string[], name: string): Promise<TrackConsumer> {
    const producer = new TrackProducer({ namespace, name });
    const consumer = producer.consume();
    producer.onUnused(() => producer.close());
    try {
      await this.#session.subscribe(producer);
    } catch (error) {
      consumer.close();
      throw error;
    }
    return consumer;
  }

  /** Closes the session. A second close is a no-op. */
  close(): void {
    this.#session.close("no_error", "Client closed");
  }

  /** Closes and waits until closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#session.closed;
  }
}
