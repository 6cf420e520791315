/**
 * The MoQT server endpoint (one UDP port for both WebTransport over HTTP/3 at `/moq` and
 * raw QUIC with ALPN `moq-00`) and the raw-QUIC client connector.
 *
 * @module
 */
import { MOQ_ALPN, QuicTransport } from "./quic.ts";
import type { MoqTransport } from "./transport.ts";
import { acceptWebTransport } from "./webtransport.ts";

/**
 * Stream limits of one connection. Every open stream holds ~44 KB of transport state in Deno
 * 2.9.6 whether or not a byte arrives (issue 17: 10,000 allowed streams let one client take
 * ~440 MB), so the limits are what MoQT needs, not what QUIC allows: draft-14 uses one
 * bidirectional stream (the control stream; WebTransport adds its CONNECT stream), and a
 * unidirectional stream per group in flight: a voice call has two tracks with at most a few
 * groups in flight each, a relay cascade a few per track it carries. 1024 streams bound a
 * connection to ~45 MB; the relay's `maxDataStreams` bounds the server.
 */
const TRANSPORT_LIMITS = {
  maxConcurrentBidirectionalStreams: 16,
  maxConcurrentUnidirectionalStreams: 1024,
  maxIdleTimeout: 30_000,
  keepAliveInterval: 10_000,
} as const;

/** Options for {@linkcode listenMoq}. */
export interface ListenMoqOptions {
  /** Address to bind. */
  readonly hostname: string;
  /** UDP port, 0 for any. */
  readonly port: number;
  /** PEM certificate chain (leaf first). */
  readonly cert: string;
  /** PEM private key. */
  readonly key: string;
  /** The WebTransport path accepted [/moq]. */
  readonly path?: string;
  /** Called with connections that failed before becoming a transport. */
  readonly onError?: (error: unknown) => void;
  /** Unidirectional streams a peer may have open at once on one connection [1024]. */
  readonly maxStreamsPerConnection?: number;
}

/**
 * Listening MoQT endpoint; iterate it for transports.
 *
 * @example
 * ```ts ignore
 * import { listenMoq } from "./endpoint.ts";
 * await using endpoint = listenMoq({ hostname: "127.0.0.1", port: 4443, cert, key });
 * for await (const transport of endpoint) console.log(transport.kind, transport.remote);
 * ```
 */
export class MoqEndpoint implements AsyncIterable<MoqTransport>, AsyncDisposable {
  readonly #endpoint: Deno.QuicEndpoint;
  readonly #listenOptions: Omit<Deno.QuicListenOptions, "cert" | "key">;
  readonly #path: string;
  readonly #onError: ListenMoqOptions["onError"];
  #listener: Deno.QuicListener;
  #tls: { readonly cert: string; readonly key: string };
  // Listeners whose accept loops still run: after a reload, the stopped listener's pending
  // accept may still take a connection (Deno 2.9.6, which gives it the new certificate), so
  // every one is served until it ends.
  readonly #listeners = new Set<Deno.QuicListener>();
  readonly #ready: MoqTransport[] = [];
  #wake: (() => void) | undefined;
  #iterating = false;
  #accepting = true;
  #closed = false;

  /** @internal Use {@linkcode listenMoq}. */
  constructor(
    { hostname, port, cert, key, path = "/moq", onError, maxStreamsPerConnection }:
      ListenMoqOptions,
  ) {
    this.#endpoint = new Deno.QuicEndpoint({ hostname, port });
    this.#listenOptions = {
      alpnProtocols: ["h3", MOQ_ALPN],
      ...TRANSPORT_LIMITS,
      ...(maxStreamsPerConnection && {
        maxConcurrentUnidirectionalStreams: maxStreamsPerConnection,
      }),
    };
    this.#tls = { cert, key };
    this.#listener = this.#endpoint.listen({ cert, key, ...this.#listenOptions });
    this.#listeners.add(this.#listener);
    this.#path = path;
    this.#onError = onError;
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#endpoint.addr;
  }

  /**
   * Presents a new certificate to every connection from now on, on the same UDP port; live
   * connections keep theirs. Deno's `QuicEndpoint` applies the newest listener's TLS settings
   * to each connection it accepts (checked on 2.9.6: a connection the stopped listener's
   * pending accept takes gets the new certificate too), so reloading is stop + listen again
   * on the same endpoint — a second endpoint on the port would be refused ("address in use")
   * while the old one still carries live connections.
   *
   * @example
   * ```ts ignore
   * import { listenMoq } from "@clutchcall/voice/relay";
   * const endpoint = listenMoq({ hostname: "127.0.0.1", port: 0, cert, key });
   * endpoint.reloadCertificate({ cert: renewedCert, key: renewedKey });
   * ```
   */
  reloadCertificate({ cert, key }: { readonly cert: string; readonly key: string }): void {
    if (this.#closed || !this.#accepting) {
      throw new Error("Cannot reload the certificate: the endpoint no longer accepts");
    }
    // Stop first: listening again while a listener is live leaves new connections unaccepted
    // (Deno 2.9.6, checked). A certificate the TLS stack refuses: listen again with the
    // current one, and throw.
    try {
      this.#listener.stop();
    } catch { /* already stopped */ }
    try {
      this.#listenWith(cert, key);
    } catch (error) {
      this.#listenWith(this.#tls.cert, this.#tls.key);
      throw error;
    }
    this.#tls = { cert, key };
  }

  #listenWith(cert: string, key: string): void {
    const listener = this.#endpoint.listen({ cert, key, ...this.#listenOptions });
    this.#listener = listener;
    this.#listeners.add(listener);
    if (this.#iterating) this.#accept(listener);
  }

  /** Yields each connection once its handshake (and, for WebTransport, its CONNECT) is done. */
  async *[Symbol.asyncIterator](): AsyncIterator<MoqTransport> {
    if (this.#iterating) throw new Error("A MoqEndpoint is iterated once");
    this.#iterating = true;
    for (const listener of this.#listeners) this.#accept(listener);
    for (;;) {
      while (this.#ready.length > 0) yield this.#ready.shift()!;
      if (this.#listeners.size === 0 || this.#closed) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }

  /** Accepts from `listener` until it ends; handshakes run concurrently. */
  #accept(listener: Deno.QuicListener): void {
    // Handshakes run concurrently so one slow or hostile client cannot block the rest.
    (async () => {
      try {
        for await (const incoming of listener) {
          if (!this.#accepting) {
            incoming.refuse(); // shutting down (see stopAccepting)
            continue;
          }
          // Reading QuicIncoming.remoteAddr invalidates the handle in Deno 2.9.6: accept first.
          this.#handshake(incoming).then((transport) => {
            if (!transport) return;
            this.#ready.push(transport);
            this.#wake?.();
          }, (error) => this.#onError?.(error));
        }
      } catch {
        // Listener stopped.
      } finally {
        this.#listeners.delete(listener);
        this.#wake?.();
      }
    })();
  }

  async #handshake(incoming: Deno.QuicIncoming): Promise<MoqTransport | undefined> {
    const conn = await incoming.accept();
    await conn.handshake;
    if (conn.protocol === MOQ_ALPN) return new QuicTransport(conn);
    const transport = await acceptWebTransport(conn);
    if (transport.path !== this.#path) {
      transport.close({ code: 0x8, reason: `Unknown path ${transport.path}` });
      return undefined;
    }
    return transport;
  }

  /** Stops accepting and closes every connection. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#listeners) {
      try {
        listener.stop();
      } catch { /* already stopped */ }
    }
    this.#endpoint.close({ closeCode: 0, reason: "shutdown" });
    this.#wake?.();
  }

  /**
   * Stops accepting without closing live connections (a graceful shutdown): a connection
   * that arrives from now on is refused at once (QUIC CONNECTION_REFUSED). The listeners stay
   * up to refuse: with none, Deno 2.9.6 leaves a new connection unanswered until the client's
   * handshake times out (30 s).
   */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Listens for MoQT over WebTransport (`h3`) and raw QUIC (`moq-00`) on one UDP port. */
export function listenMoq(options: ListenMoqOptions): MoqEndpoint {
  return new MoqEndpoint(options);
}

/** Options for {@linkcode connectMoqQuic}. */
export interface ConnectMoqOptions {
  /** Server address. */
  readonly hostname: string;
  /** Server UDP port. */
  readonly port: number;
  /** PEM certificates to trust in addition to the system roots (e.g. a dev certificate). */
  readonly caCerts?: string[];
  /** TLS server name [the hostname, or "localhost" for a loopback IP]. */
  readonly serverName?: string;
}

/**
 * Connects to a MoQT server over raw QUIC (ALPN `moq-00`), the transport Deno clients
 * should use (Deno's WebTransport client never sends FIN; raw QUIC does).
 *
 * @example
 * ```ts ignore
 * import { connectMoqQuic } from "./endpoint.ts";
 * const transport = await connectMoqQuic({ hostname: "127.0.0.1", port: 4443, caCerts: [certPem] });
 * ```
 */
export async function connectMoqQuic(
  { hostname, port, caCerts, serverName }: ConnectMoqOptions,
): Promise<MoqTransport> {
  const loopback = hostname === "127.0.0.1" || hostname === "::1";
  const conn = await Deno.connectQuic({
    hostname,
    port,
    caCerts,
    serverName: serverName ?? (loopback ? "localhost" : hostname),
    alpnProtocols: [MOQ_ALPN],
    ...TRANSPORT_LIMITS,
  });
  await conn.handshake;
  return new QuicTransport(conn);
}
