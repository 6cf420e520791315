/**
 * The small interface every MoQT session runs on: streams and datagrams of one connection,
 * whatever carries them (raw QUIC with ALPN `moq-00`, or WebTransport over HTTP/3). Keeping
 * Deno's QUIC API behind it lets sessions be tested and reused without a network.
 *
 * @module
 */

/** A bidirectional stream: its two halves. */
export interface BidiStream {
  /** What the peer writes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** What we write. */
  readonly writable: WritableStream<Uint8Array>;
}

/** How a connection ended. */
export interface CloseInfo {
  /** Application close code (for MoQT: a session termination code). */
  readonly code: number;
  /** Human-readable reason. */
  readonly reason: string;
}

/** Options for opening a send stream. */
export interface OpenStreamOptions {
  /** Higher values are sent first when the connection is congested. */
  readonly sendOrder?: number;
}

/**
 * One MoQT connection's transport.
 *
 * An implementation MUST deliver stream bytes exactly as the peer's MoQT layer wrote them
 * (any transport framing such as WebTransport stream headers already removed), MUST end
 * `incomingBidi`/`incomingUni` when the connection closes, and `close()` MUST be idempotent.
 */
export interface MoqTransport {
  /** `"quic"` (ALPN moq-00) or `"webtransport"` (ALPN h3). */
  readonly kind: "quic" | "webtransport";
  /** The peer's address, for logs. */
  readonly remote: string;
  /** Query parameters of the WebTransport URL (e.g. `jwt`); empty for raw QUIC. */
  readonly query: URLSearchParams;
  /** The URL path of the WebTransport session (`/moq`); undefined for raw QUIC. */
  readonly path: string | undefined;
  /** Opens a bidirectional stream. */
  openBidi(): Promise<BidiStream>;
  /** Opens a unidirectional stream. */
  openUni(options?: OpenStreamOptions): Promise<WritableStream<Uint8Array>>;
  /** Bidirectional streams the peer opens. */
  readonly incomingBidi: ReadableStream<BidiStream>;
  /** Unidirectional streams the peer opens. */
  readonly incomingUni: ReadableStream<ReadableStream<Uint8Array>>;
  /** Largest datagram payload that fits, 0 when datagrams are unsupported. */
  readonly maxDatagramSize: number;
  /** Sends a datagram; silently dropped when it cannot be sent (datagrams are unreliable). */
  sendDatagram(payload: Uint8Array): void;
  /** Datagrams from the peer. */
  readonly incomingDatagrams: ReadableStream<Uint8Array>;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<CloseInfo>;
  /** Closes the connection with an application code. A second close is a no-op. */
  close(info?: CloseInfo): void;
}
