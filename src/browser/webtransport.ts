/**
 * {@linkcode MoqTransport} over the browser's `WebTransport` (HTTP/3, ALPN `h3`): the same
 * draft-14 session code the server runs then drives a browser connection. The browser does
 * the WebTransport stream framing itself, so this is a thin adapter.
 *
 * @module
 */
import type {
  BidiStream,
  CloseInfo,
  MoqTransport,
  OpenStreamOptions,
} from "../relay/transport/transport.ts";

/** Options for {@linkcode connectWebTransport}. */
export interface WebTransportConnectOptions {
  /** The relay's WebTransport URL, e.g. `https://127.0.0.1:4443/moq`. */
  readonly url: string;
  /**
   * SHA-256 of the relay's certificate (base64, as `/v1/relay/certificate` gives it) for a
   * self-signed development certificate; omit for a certificate the browser trusts.
   */
  readonly certificateHash?: string;
  /** Abandons the handshake. */
  readonly signal?: AbortSignal;
}

/** The handshake failed: the browser could not reach or trust the relay. */
export class WebTransportConnectError extends Error {
  /** Names the error in stack traces. */
  override readonly name = "WebTransportConnectError";
}

function base64ToBytes(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A MoQT transport on a browser WebTransport session.
 *
 * @example
 * ```ts
 * import { connectWebTransport } from "./webtransport.ts";
 * declare const certificateHash: string; // /v1/relay/certificate's sha256Base64
 * const transport = await connectWebTransport({ url: "https://127.0.0.1:4443/moq", certificateHash });
 * const kind: "webtransport" = transport.kind;
 * transport.close();
 * ```
 */
export class BrowserWebTransport implements MoqTransport {
  /** Always `"webtransport"`. */
  readonly kind = "webtransport" as const;
  /** The relay's URL. */
  readonly remote: string;
  /** The URL's query. */
  readonly query: URLSearchParams;
  /** The URL's path. */
  readonly path: string;
  /** Streams the relay opens. */
  readonly incomingBidi: ReadableStream<BidiStream>;
  /** Unidirectional streams the relay opens (one per group). */
  readonly incomingUni: ReadableStream<ReadableStream<Uint8Array>>;
  /** Resolves when the session ends, by either side. */
  readonly closed: Promise<CloseInfo>;
  readonly #wt: WebTransport;
  readonly #datagrams: WritableStreamDefaultWriter<Uint8Array>;
  // The writers of the bidirectional streams this side opened (the MoQT control stream).
  readonly #bidiWriters = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  #closed = false;

  /** @internal Use {@linkcode connectWebTransport}. */
  constructor(wt: WebTransport, url: URL) {
    this.#wt = wt;
    this.remote = url.host;
    this.query = url.searchParams;
    this.path = url.pathname;
    this.incomingBidi = wt.incomingBidirectionalStreams as ReadableStream<BidiStream>;
    this.incomingUni = wt.incomingUnidirectionalStreams as ReadableStream<
      ReadableStream<Uint8Array>
    >;
    this.#datagrams = wt.datagrams.writable.getWriter();
    this.closed = wt.closed.then(
      (info) => ({ code: info.closeCode ?? 0, reason: info.reason ?? "" }),
      (error) => ({ code: -1, reason: error instanceof Error ? error.message : String(error) }),
    );
    this.closed.then(() => this.#closed = true);
  }

  /** Largest datagram payload (the browser's limit). */
  get maxDatagramSize(): number {
    return (this.#wt.datagrams as { maxDatagramSize?: number }).maxDatagramSize ?? 0;
  }

  /** Datagrams from the relay. */
  get incomingDatagrams(): ReadableStream<Uint8Array> {
    return this.#wt.datagrams.readable as ReadableStream<Uint8Array>;
  }

  /**
   * Opens a bidirectional stream (the control stream). Its writer is kept here so that
   * {@linkcode BrowserWebTransport.close} can end the stream (FIN) before the session: see
   * there why.
   */
  async openBidi(): Promise<BidiStream> {
    const stream = await this.#wt.createBidirectionalStream() as unknown as BidiStream;
    const writer = stream.writable.getWriter();
    this.#bidiWriters.add(writer);
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => writer.write(chunk),
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
    return { readable: stream.readable, writable };
  }

  /** Opens a unidirectional stream (a group). */
  async openUni({ sendOrder }: OpenStreamOptions = {}): Promise<WritableStream<Uint8Array>> {
    const options = sendOrder === undefined ? {} : { sendOrder };
    return await this.#wt.createUnidirectionalStream(options) as WritableStream<Uint8Array>;
  }

  /** Sends a datagram; dropped when the session is gone. */
  sendDatagram(payload: Uint8Array): void {
    if (this.#closed) return;
    this.#datagrams.write(payload as Uint8Array<ArrayBuffer>).catch((error) =>
      console.debug("WebTransport datagram not sent", error)
    );
  }

  /**
   * Closes the session. A second close is a no-op.
   *
   * The streams this side opened are ended first (FIN after what was queued), and the session
   * is closed once they are. The relay on Deno 2.9.6 does not watch the CONNECT stream, so it
   * never sees the CLOSE_WEBTRANSPORT_SESSION capsule, and Chromium keeps the QUIC connection
   * open (silent) after the session closes: the relay would learn of the end only at the
   * connection's idle timeout (~40 s), holding this page's tracks until then. The end of the
   * MoQT control stream ends the MoQT session there at once.
   */
  close({ code, reason }: CloseInfo = { code: 0, reason: "" }): void {
    if (this.#closed) return;
    this.#closed = true;
    const ended = [...this.#bidiWriters].map((writer) =>
      // A stream already reset (the relay went away) has nothing left to end.
      writer.close().catch((error) => console.debug("Control stream already ended", error))
    );
    this.#bidiWriters.clear();
    // Bounded: a stream whose FIN cannot go out (a broken path) must not keep the session open.
    let timer: ReturnType<typeof setTimeout> | undefined;
    Promise.race([
      Promise.all(ended),
      this.closed,
      new Promise((resolve) => timer = setTimeout(resolve, 1000)),
    ]).then(() => {
      clearTimeout(timer);
      try {
        this.#wt.close({ closeCode: code, reason });
      } catch (error) {
        // The session failed before it was established: nothing left to close.
        console.debug("WebTransport close after failure", error);
      }
    });
  }
}

/**
 * Opens a WebTransport session to the relay. Rejects with a
 * {@linkcode WebTransportConnectError} saying why when the handshake fails (unreachable
 * relay, untrusted certificate, wrong certificate hash).
 *
 * @example
 * ```ts
 * import { connectWebTransport } from "./webtransport.ts";
 * const cert: { url: string; sha256Base64: string } =
 *   await (await fetch("/v1/relay/certificate")).json();
 * const transport = await connectWebTransport({ url: cert.url, certificateHash: cert.sha256Base64 });
 * ```
 */
export async function connectWebTransport(
  { url, certificateHash, signal }: WebTransportConnectOptions,
): Promise<BrowserWebTransport> {
  if (typeof WebTransport === "undefined") {
    throw new WebTransportConnectError(
      "Cannot connect to the relay: this browser has no WebTransport (a secure context is needed)",
    );
  }
  const parsed = new URL(url);
  const options: WebTransportOptions = certificateHash
    ? { serverCertificateHashes: [{ algorithm: "sha-256", value: base64ToBytes(certificateHash) }] }
    : {};
  let wt: WebTransport;
  try {
    wt = new WebTransport(parsed.href, options);
  } catch (cause) {
    throw new WebTransportConnectError(`Cannot connect to the relay at ${parsed.host}: ${cause}`, {
      cause,
    });
  }
  const onAbort = () => wt.close({ closeCode: 0, reason: "aborted" });
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await wt.ready;
  } catch (cause) {
    throw new WebTransportConnectError(
      `Cannot connect to the relay at ${parsed.host}: the WebTransport handshake failed ` +
        `(relay unreachable, or its certificate does not match the expected hash)`,
      { cause },
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return new BrowserWebTransport(wt, parsed);
}
