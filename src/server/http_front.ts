/**
 * A small TCP front for `Deno.serve` that bounds how long a client may take to send a request
 * head and how long a connection may sit idle: Deno 2.9's `Deno.serve` (and its `node:http`)
 * has no header or idle timeout, so 500 sockets dribbling a header byte a second were all kept
 * for as long as they dribbled (slowloris).
 *
 * The front accepts the public TCP connections and relays bytes to the real server listening on
 * a private Unix socket. It frames requests just enough to time their heads:
 *
 * ```
 *   head ──(CRLFCRLF)──▶ body (Content-Length bytes) ──▶ head ──▶ …
 *     │                                          (Transfer-Encoding or Upgrade)
 *     └──(Transfer-Encoding / Upgrade)──▶ pass (raw bytes; the backend closes after a
 *                                               chunked request: the front adds Connection: close)
 * ```
 *
 * - **Header timeout** (HAProxy's `timeout http-request`, Apache `mod_reqtimeout`): a request
 *   head must be complete within `headerTimeoutMs` of its first byte (of the accept for the
 *   first request): otherwise `408 Request Timeout` and the connection is closed.
 * - **Idle timeout** (nginx `keepalive_timeout`): a connection with no byte either way for
 *   `idleTimeoutMs` is closed. Server-sent event streams send a keep-alive comment every 15 s,
 *   so they stay open.
 * - A head larger than `maxHeaderBytes` is `431`; a malformed or conflicting `Content-Length`
 *   is `400` (never forwarded, so the front and the backend cannot disagree on framing).
 *
 * Each head gets an `x-clutchcall-peer: <ip>:<port>` header naming the TCP peer (any such
 * header from the client is removed), since the backend only sees the Unix socket.
 *
 * Timers are one sweep over all connections (a quarter of the smaller timeout, at least 50 ms),
 * not one timer per connection reset on every chunk.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** The header the front adds to every request head: the client's `ip:port`. */
export const PEER_HEADER = "x-clutchcall-peer";

/** Options for {@linkcode HttpFront.listen}. */
export interface HttpFrontOptions {
  /** Public address to listen on. */
  readonly hostname: string;
  /** Public TCP port (0 picks a free one). */
  readonly port: number;
  /** The Unix socket the real HTTP server listens on. */
  readonly backendPath: string;
  /** A request head must be complete within this many ms of its first byte [10000]. */
  readonly headerTimeoutMs?: number;
  /** A connection with no traffic either way for this many ms is closed [60000]. */
  readonly idleTimeoutMs?: number;
  /** Largest request head accepted, in bytes [16384]. */
  readonly maxHeaderBytes?: number;
  /** Where connection errors are logged (debug). */
  readonly log?: Logger;
}

type Framing =
  | { readonly state: "head"; startedAt: number }
  | { readonly state: "body"; remaining: number }
  | { readonly state: "pass" };

const CRLFCRLF = [13, 10, 13, 10] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The listening front; disposing it closes every connection it relays.
 *
 * @example
 * ```ts ignore
 * import { HttpFront } from "./http_front.ts";
 * const backendPath = `${await Deno.makeTempDir()}/http.sock`;
 * const http = Deno.serve({ transport: "unix", path: backendPath }, () => new Response("ok"));
 * await using front = HttpFront.listen({ hostname: "127.0.0.1", port: 8080, backendPath });
 * ```
 */
export class HttpFront implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #options: Required<Omit<HttpFrontOptions, "log">> & { log?: Logger };
  readonly #connections = new Set<FrontConnection>();
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #accepting: Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(listener: Deno.TcpListener, options: HttpFrontOptions) {
    this.#listener = listener;
    this.#options = {
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxHeaderBytes: 16_384,
      ...options,
    };
    const { headerTimeoutMs, idleTimeoutMs } = this.#options;
    const every = Math.max(50, Math.min(headerTimeoutMs, idleTimeoutMs) / 4);
    this.#sweep = setInterval(() => this.#expire(), every);
    Deno.unrefTimer(this.#sweep as unknown as number);
    this.#accepting = this.#accept();
  }

  /**
   * Listens on `hostname:port`; throws `Deno.errors.AddrInUse` (or the like) at once when it
   * cannot.
   */
  static listen(options: HttpFrontOptions): HttpFront {
    const listener = Deno.listen({ hostname: options.hostname, port: options.port });
    return new HttpFront(listener, options);
  }

  /** The public address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Client connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stops accepting and closes every connection. A second call returns the same promise. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      clearInterval(this.#sweep);
      this.#listener.close();
      await this.#accepting;
      for (const connection of this.#connections) connection.close();
      await Promise.all([...this.#connections].map((c) => c.done));
    })();
  }

  /** Same as {@linkcode HttpFront.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const connection = new FrontConnection(client, this.#options);
        this.#connections.add(connection);
        connection.done.finally(() => this.#connections.delete(connection));
      }
    } catch (error) {
      // The listener was closed by close(): the expected way out of the loop.
      if (!(error instanceof Deno.errors.BadResource) && !this.#closing) throw error;
    }
  }

  #expire(): void {
    const now = performance.now();
    for (const connection of this.#connections) connection.expire(now);
  }
}

/** One client connection and its backend connection. */
class FrontConnection {
  readonly done: Promise<void>;
  readonly #client: Deno.TcpConn;
  readonly #options: Required<Omit<HttpFrontOptions, "log">> & { log?: Logger };
  readonly #peer: string;
  #backend: Deno.UnixConn | undefined;
  #framing: Framing;
  /** Bytes of a head not complete yet. */
  #head: Uint8Array = new Uint8Array(0);
  #lastActivity: number;
  #firstRequest = true;
  #closed = false;

  constructor(
    client: Deno.TcpConn,
    options: Required<Omit<HttpFrontOptions, "log">> & { log?: Logger },
  ) {
    this.#client = client;
    this.#options = options;
    this.#peer = `${client.remoteAddr.hostname}:${client.remoteAddr.port}`;
    this.#lastActivity = performance.now();
    // The first head is timed from the accept: a connection that sends nothing is a slowloris too.
    this.#framing = { state: "head", startedAt: this.#lastActivity };
    this.done = this.#run();
  }

  /** Called by the sweep: closes the connection when a timeout has passed. */
  expire(now: number): void {
    if (this.#closed) return;
    const framing = this.#framing;
    const headStarted = framing.state === "head" &&
      (this.#head.length > 0 || this.#firstRequest);
    if (headStarted && now - framing.startedAt >= this.#options.headerTimeoutMs) {
      this.#reject(408, "Request Timeout");
    } else if (now - this.#lastActivity >= this.#options.idleTimeoutMs) {
      this.close();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#client);
    if (this.#backend) closeQuietly(this.#backend);
  }

  async #run(): Promise<void> {
    try {
      await this.#fromClient();
    } catch (error) {
      if (!this.#closed) this.#options.log?.debug("HTTP front connection failed", { error });
    } finally {
      this.close();
    }
  }

  /** Client → backend, framing requests; the first complete head opens the backend. */
  async #fromClient(): Promise<void> {
    const buffer = new Uint8Array(16_384);
    for (;;) {
      const n = await this.#client.read(buffer);
      if (n === null) {
        // The client is done sending: let the backend answer what it has, then end.
        await this.#backend?.closeWrite().catch(() => this.close());
        await this.#responses;
        return;
      }
      this.#lastActivity = performance.now();
      if (!await this.#consume(buffer.subarray(0, n))) return;
    }
  }

  #responses: Promise<void> | undefined;

  /** Backend → client: raw bytes, each one counting as activity. */
  async #toClient(backend: Deno.UnixConn): Promise<void> {
    const buffer = new Uint8Array(16_384);
    try {
      for (;;) {
        const n = await backend.read(buffer);
        if (n === null) break;
        this.#lastActivity = performance.now();
        await writeAll(this.#client, buffer.subarray(0, n));
      }
    } catch (error) {
      if (!this.#closed) this.#options.log?.debug("HTTP front response relay failed", { error });
    } finally {
      // The backend closed (Connection: close, a shutdown): so does the client connection.
      this.close();
    }
  }

  /** Handles one chunk from the client; false once the connection is to end. */
  async #consume(chunk: Uint8Array): Promise<boolean> {
    while (chunk.length > 0) {
      const framing = this.#framing;
      if (framing.state === "pass") {
        await this.#send(chunk);
        return true;
      }
      if (framing.state === "body") {
        const take = Math.min(framing.remaining, chunk.length);
        await this.#send(chunk.subarray(0, take));
        framing.remaining -= take;
        chunk = chunk.subarray(take);
        if (framing.remaining === 0) this.#nextHead();
        continue;
      }
      // A head: empty lines before a request line are ignored (RFC 9112 §2.2).
      if (this.#head.length === 0) {
        let skip = 0;
        while (skip < chunk.length && (chunk[skip] === 13 || chunk[skip] === 10)) skip++;
        chunk = chunk.subarray(skip);
        if (chunk.length === 0) return true;
        framing.startedAt = performance.now();
      }
      const joined = concat(this.#head, chunk);
      const end = indexOfSequence(joined, CRLFCRLF, Math.max(0, this.#head.length - 3));
      if (end < 0) {
        if (joined.length > this.#options.maxHeaderBytes) {
          return this.#reject(431, "Request Header Fields Too Large");
        }
        this.#head = joined;
        return true;
      }
      const headLength = end + 4;
      if (headLength > this.#options.maxHeaderBytes) {
        return this.#reject(431, "Request Header Fields Too Large");
      }
      this.#head = new Uint8Array(0);
      chunk = joined.subarray(headLength);
      const head = parseHead(decoder.decode(joined.subarray(0, headLength)), this.#peer);
      if (!head.ok) return this.#reject(400, "Bad Request");
      this.#firstRequest = false;
      await this.#send(encoder.encode(head.text));
      this.#framing = head.framing;
      if (head.framing.state === "body" && head.framing.remaining === 0) this.#nextHead();
    }
    return true;
  }

  #nextHead(): void {
    this.#framing = { state: "head", startedAt: performance.now() };
  }

  async #send(bytes: Uint8Array): Promise<void> {
    if (!this.#backend) {
      this.#backend = await Deno.connect({ transport: "unix", path: this.#options.backendPath });
      this.#responses = this.#toClient(this.#backend);
    }
    await writeAll(this.#backend, bytes);
  }

  /** Answers with a bare error status and closes; returns false (the connection ends). */
  #reject(status: number, reason: string): false {
    if (this.#closed) return false;
    const response =
      `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
    // Best effort: a client that stopped reading does not get to hold the connection open.
    this.#client.write(encoder.encode(response)).catch((error) =>
      this.#options.log?.debug("HTTP front could not send its error status", { status, error })
    ).finally(() => this.close());
    // Whatever the backend is still sending for an earlier request is abandoned.
    if (this.#backend) closeQuietly(this.#backend);
    return false;
  }
}

type ParsedHead =
  | { readonly ok: true; readonly text: string; readonly framing: Framing }
  | { readonly ok: false };

/**
 * Reads the framing headers of a request head and rewrites it: the peer header added, a
 * client's own copy dropped, `connection: close` added when the body is not Content-Length
 * framed (the front then stops framing this connection).
 */
function parseHead(text: string, peer: string): ParsedHead {
  const lines = text.slice(0, -4).split("\r\n");
  const requestLine = lines[0];
  if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(requestLine)) return { ok: false };
  const kept = [requestLine];
  let contentLength: number | undefined;
  let transferEncoding = false;
  let upgrade = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { ok: false };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === PEER_HEADER) continue;
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value)) return { ok: false };
      const length = Number(value);
      if (contentLength !== undefined && contentLength !== length) return { ok: false };
      contentLength = length;
    } else if (name === "transfer-encoding") {
      transferEncoding = true;
    } else if (name === "upgrade") {
      upgrade = true;
    }
    kept.push(line);
  }
  kept.push(`${PEER_HEADER}: ${peer}`);
  if (transferEncoding || upgrade) {
    // The backend frames the rest; a chunked request ends the connection after its response.
    if (transferEncoding && !upgrade) kept.push("connection: close");
    return { ok: true, text: `${kept.join("\r\n")}\r\n\r\n`, framing: { state: "pass" } };
  }
  return {
    ok: true,
    text: `${kept.join("\r\n")}\r\n\r\n`,
    framing: { state: "body", remaining: contentLength ?? 0 },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfSequence(bytes: Uint8Array, seq: readonly number[], from: number): number {
  outer: for (let i = from; i <= bytes.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (bytes[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    // Already closed (by the peer's side of the relay): the only expected failure.
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
