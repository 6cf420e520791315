/**
 * {@linkcode MoqTransport} for a WebTransport session served over HTTP/3 (ALPN `h3`).
 *
 * Deno 2.9.6's WebTransport stream layer sends no FIN on `close()` (denoland/deno#36822)
 * and never surfaces unidirectional streams opened by Chromium. So, as ENVIRONMENT.md
 * verified against Chromium, `Deno.upgradeWebTransport` is used only for the HTTP/3
 * handshake and for datagrams, and streams are read and written on the raw `QuicConn`,
 * with the WebTransport stream header (RFC 9220 / draft-ietf-webtrans-http3: signal value
 * 0x41 for bidirectional, 0x54 for unidirectional, then the session id) written and parsed
 * here. No library does this split, hence the hand-written framing.
 *
 * @module
 */
import type { BidiStream, CloseInfo, MoqTransport, OpenStreamOptions } from "./transport.ts";
import {
  encodeVarint,
  readVarintUnchecked,
  varintLengthFromFirstByte,
} from "../wire/coding/varint.ts";

const WT_BIDI_SIGNAL = 0x41;
const WT_UNI_STREAM = 0x54;

/** Reads `count` varints off the front of a stream; returns them and the remaining bytes. */
async function readVarints(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  count: number,
): Promise<{ values: number[]; rest: Uint8Array } | undefined> {
  let buf = new Uint8Array(0);
  const values: number[] = [];
  let at = 0;
  while (values.length < count) {
    if (at < buf.length) {
      const len = varintLengthFromFirstByte(buf[at]);
      if (at + len <= buf.length) {
        values.push(readVarintUnchecked(buf, at, len));
        at += len;
        continue;
      }
    }
    const { value, done } = await reader.read();
    if (done) return undefined;
    const joined = new Uint8Array(buf.length - at + value.length);
    joined.set(buf.subarray(at));
    joined.set(value, buf.length - at);
    buf = joined;
    at = 0;
  }
  return { values, rest: buf.subarray(at) };
}

/** A readable that yields `head` first, then whatever `reader` yields. */
function prepend(head: Uint8Array, reader: ReadableStreamDefaultReader<Uint8Array>) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.length > 0) controller.enqueue(head);
    },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Strips the WebTransport header off each incoming stream; foreign streams are dropped. */
function unwrapStreams<S, T>(
  incoming: ReadableStream<S>,
  readableOf: (stream: S) => ReadableStream<Uint8Array>,
  rebuild: (stream: S, readable: ReadableStream<Uint8Array>) => T,
  signal: number,
  sessionId: number,
): ReadableStream<T> {
  const { readable, writable } = new TransformStream<S, T>({
    transform(stream, controller) {
      // Header parsing runs per stream, without holding up the streams behind it.
      const reader = readableOf(stream).getReader();
      readVarints(reader, 2).then((header) => {
        if (!header || header.values[0] !== signal || header.values[1] !== sessionId) {
          reader.cancel().catch(() => {}); // a foreign stream: dropping it can fail only if it is already gone
          return;
        }
        try {
          controller.enqueue(rebuild(stream, prepend(header.rest, reader)));
        } catch {
          reader.cancel().catch(() => {}); // the session was closed meanwhile: the stream goes with it
        }
      }, () => reader.cancel().catch(() => {})); // the stream ended before its header: nothing to deliver
    },
  });
  incoming.pipeTo(writable).catch(() => {}); // the connection ended: no more incoming streams
  return readable;
}

/**
 * The server side of a WebTransport session carrying MoQT.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { listenMoq } from "@clutchcall/voice/relay";
 * import { loadOrCreateDevCertificate } from "@clutchcall/voice/server";
 * const dataDir = await Deno.makeTempDir();
 * const cert = await loadOrCreateDevCertificate({ dataDir });
 * // The endpoint accepts h3 connections with acceptWebTransport (and moq-00 ones as raw QUIC).
 * await using endpoint = listenMoq({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   cert: cert.certPem,
 *   key: cert.keyPem,
 * });
 * const accepted = endpoint[Symbol.asyncIterator]().next();
 * const hash = Uint8Array.from(cert.sha256Hex.match(/../g)!, (h) => parseInt(h, 16));
 * const browser = new WebTransport(`https://127.0.0.1:${endpoint.addr.port}/moq?jwt=abc`, {
 *   serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
 * });
 * await browser.ready;
 * const { value: transport } = await accepted;
 * assertEquals(
 *   [transport?.kind, transport?.path, transport?.query.get("jwt")],
 *   ["webtransport", "/moq", "abc"],
 * );
 * browser.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class WebTransportServerTransport implements MoqTransport {
  readonly kind = "webtransport" as const;
  readonly remote: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly closed: Promise<CloseInfo>;
  readonly incomingBidi: ReadableStream<BidiStream>;
  readonly incomingUni: ReadableStream<ReadableStream<Uint8Array>>;
  readonly #conn: Deno.QuicConn;
  readonly #wt: WebTransport;
  readonly #sessionId: number;
  readonly #datagramWriter: WritableStreamDefaultWriter<Uint8Array>;
  #closed = false;

  /** @internal Use {@linkcode acceptWebTransport}. */
  constructor(conn: Deno.QuicConn, wt: WebTransport & { url: string }, sessionId = 0) {
    this.#conn = conn;
    this.#wt = wt;
    this.#sessionId = sessionId;
    const url = new URL(wt.url);
    this.path = url.pathname;
    this.query = url.searchParams;
    this.remote = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    this.#datagramWriter = wt.datagrams.writable.getWriter();
    this.closed = Promise.race([
      conn.closed.then((info) => ({ code: info.closeCode, reason: info.reason })),
      wt.closed.then((info) => ({ code: info.closeCode ?? 0, reason: info.reason ?? "" })),
    ]).catch((error) => ({ code: 0, reason: String(error?.message ?? error) }));
    this.closed.then(() => this.#closed = true);
    this.incomingBidi = unwrapStreams(
      conn.incomingBidirectionalStreams,
      (s) => s.readable,
      (s, readable) => ({ readable, writable: s.writable }),
      WT_BIDI_SIGNAL,
      sessionId,
    );
    this.incomingUni = unwrapStreams(
      conn.incomingUnidirectionalStreams,
      (s) => s,
      (_s, readable) => readable,
      WT_UNI_STREAM,
      sessionId,
    );
  }

  get incomingDatagrams(): ReadableStream<Uint8Array> {
    return this.#wt.datagrams.readable as ReadableStream<Uint8Array>;
  }

  get maxDatagramSize(): number {
    // HTTP/3 datagrams spend a quarter-stream-id varint of the QUIC datagram.
    return Math.max(0, (this.#conn.maxDatagramSize ?? 0) - 8);
  }

  async openBidi(): Promise<BidiStream> {
    const stream = await this.#conn.createBidirectionalStream({ waitUntilAvailable: true });
    this.#writeHeader(stream.writable, WT_BIDI_SIGNAL);
    return stream;
  }

  async openUni({ sendOrder }: OpenStreamOptions = {}): Promise<WritableStream<Uint8Array>> {
    const stream = await this.#conn.createUnidirectionalStream({
      sendOrder,
      waitUntilAvailable: true,
    });
    this.#writeHeader(stream, WT_UNI_STREAM);
    return stream;
  }

  sendDatagram(payload: Uint8Array): void {
    if (this.#closed) return;
    this.#datagramWriter.write(payload).catch(() => {}); // datagrams are unreliable: a send on a closing session is dropped
  }

  close({ code, reason }: CloseInfo = { code: 0, reason: "" }): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#wt.close({ closeCode: code, reason });
    } catch {
      // Session already gone.
    }
    // Give the CLOSE_WEBTRANSPORT_SESSION capsule a moment, then drop the connection.
    setTimeout(() => {
      try {
        this.#conn.close({ closeCode: code, reason });
      } catch {
        // Already closed.
      }
    }, 50);
  }

  #writeHeader(stream: WritableStream<Uint8Array>, signal: number): void {
    const header = new Uint8Array([...encodeVarint(signal), ...encodeVarint(this.#sessionId)]);
    // Queue the header before releasing the lock so it precedes every later write.
    const writer = stream.getWriter();
    writer.write(header).catch(() => {}); // a write on a reset stream fails again on the caller's next write
    writer.releaseLock();
  }
}

/** Completes the HTTP/3 + WebTransport handshake on an `h3` connection. */
export async function acceptWebTransport(
  conn: Deno.QuicConn,
): Promise<WebTransportServerTransport> {
  const wt = await Deno.upgradeWebTransport(conn);
  return new WebTransportServerTransport(conn, wt);
}
