/**
 * {@linkcode MoqTransport} over a raw QUIC connection (ALPN `moq-00`), for servers and
 * Deno clients. QUIC streams map one to one onto MoQT streams.
 *
 * @module
 */
import type { BidiStream, CloseInfo, MoqTransport, OpenStreamOptions } from "./transport.ts";

/** The ALPN for MoQT over raw QUIC. */
export const MOQ_ALPN = "moq-00";

function datagramStream(conn: Deno.QuicConn): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      try {
        controller.enqueue(await conn.readDatagram());
      } catch {
        // The connection closed: no more datagrams.
        controller.close();
      }
    },
  });
}

/**
 * Wraps a raw QUIC connection.
 *
 * @example
 * ```ts ignore
 * import { QuicTransport } from "./quic.ts";
 * const conn = await Deno.connectQuic({ hostname: "127.0.0.1", port: 4443, alpnProtocols: ["moq-00"] });
 * const transport = new QuicTransport(conn);
 * ```
 */
export class QuicTransport implements MoqTransport {
  readonly kind = "quic" as const;
  readonly query: URLSearchParams = new URLSearchParams();
  readonly path: string | undefined = undefined;
  readonly remote: string;
  readonly closed: Promise<CloseInfo>;
  readonly #conn: Deno.QuicConn;
  #closed = false;
  #datagrams: ReadableStream<Uint8Array> | undefined;

  /** Wraps `conn` (handshake complete or not). */
  constructor(conn: Deno.QuicConn) {
    this.#conn = conn;
    this.remote = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    this.closed = conn.closed.then(
      (info) => ({ code: info.closeCode, reason: info.reason }),
      (error) => ({ code: 0, reason: String(error?.message ?? error) }),
    );
    this.closed.then(() => this.#closed = true);
  }

  get incomingBidi(): ReadableStream<BidiStream> {
    return this.#conn.incomingBidirectionalStreams;
  }

  get incomingUni(): ReadableStream<ReadableStream<Uint8Array>> {
    return this.#conn.incomingUnidirectionalStreams;
  }

  get incomingDatagrams(): ReadableStream<Uint8Array> {
    return this.#datagrams ??= datagramStream(this.#conn);
  }

  get maxDatagramSize(): number {
    return this.#conn.maxDatagramSize ?? 0;
  }

  openBidi(): Promise<BidiStream> {
    return this.#conn.createBidirectionalStream({ waitUntilAvailable: true });
  }

  openUni({ sendOrder }: OpenStreamOptions = {}): Promise<WritableStream<Uint8Array>> {
    return this.#conn.createUnidirectionalStream({ sendOrder, waitUntilAvailable: true });
  }

  sendDatagram(payload: Uint8Array): void {
    if (this.#closed) return;
    this.#conn.sendDatagram(payload).catch(() => {}); // datagrams are unreliable: a send on a closing connection is dropped
  }

  close({ code, reason }: CloseInfo = { code: 0, reason: "" }): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close({ closeCode: code, reason });
    } catch {
      // Already closed by the peer.
    }
  }
}
