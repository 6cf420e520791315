/**
 * One track's link to its recognizer: a WebSocket speaking a provider's protocol,
 * reconnected with exponential backoff when it drops, with the audio in between kept in a
 * bounded buffer (the oldest goes first, reported as a gap), keep-alives while no audio
 * flows, and a graceful close that waits for the last results.
 *
 * ```text
 *             ┌────────── dropped (attempts left) ─────────┐
 *             ▼                                             │
 *  start → connecting ──open (+ready)──▶ open ──dropped──▶ backoff
 *             │  ▲                        │                  │
 *             │  └──────── timer ─────────┼──────────────────┘
 *             │ refused key / bad request │ close()
 *             ▼                           ▼
 *           failed                     closing ──▶ closed
 * ```
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import type { AsrState } from "../../voice/transcript.ts";
import type { ResolvedAsrTapOptions } from "./options.ts";
import {
  type ProviderSession,
  RecognizerProtocolError,
  type RecognizerProvider,
  type RecognizerResult,
  type StreamFormat,
} from "./provider.ts";
import { StreamTimeline } from "./timeline.ts";

/** Contiguous audio in the stream's format, placed on the call's timeline. */
export interface AudioChunk {
  /** The bytes, as the recognizer takes them. */
  readonly bytes: Uint8Array;
  /** Call time of the first sample, ms. */
  readonly callMs: number;
  /** Duration, ms. */
  readonly durationMs: number;
}

/** Options of a {@linkcode RecognizerLink}. */
export interface RecognizerLinkOptions {
  readonly provider: RecognizerProvider;
  readonly format: StreamFormat;
  readonly url: string;
  readonly key: string;
  readonly options: ResolvedAsrTapOptions;
  readonly log: Logger;
  /** A result, with the timeline of the connection it came on. */
  readonly onResult: (result: RecognizerResult, timeline: StreamTimeline) => void;
  /** A state change to report as an `asr` event. */
  readonly onState: (
    state: AsrState,
    detail: { readonly reason?: string; readonly start?: number; readonly end?: number },
  ) => void;
}

interface Connection {
  readonly socket: WebSocket;
  readonly session: ProviderSession;
  readonly timeline: StreamTimeline;
  ready: boolean;
  readyAt: number;
  malformed: number;
  /** Why it ended, when we know better than the close event. */
  reason?: string;
  fatal: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A connection on `socket`, before its session is ready. */
function newConnection(
  socket: WebSocket,
  session: ProviderSession,
  timeline: StreamTimeline,
): Connection {
  return {
    socket,
    session,
    timeline,
    ready: false,
    readyAt: 0,
    malformed: 0,
    fatal: false,
    timer: undefined,
  };
}

/** The socket of a connection that never opened: closing it or sending on it does nothing. */
const NO_SOCKET = { close() {}, send() {}, bufferedAmount: 0 } as unknown as WebSocket;

type LinkState =
  | { readonly name: "connecting" | "open"; readonly connection: Connection }
  | { readonly name: "backoff"; readonly timer: ReturnType<typeof setTimeout> }
  | { readonly name: "closing"; readonly connection: Connection }
  | { readonly name: "failed" | "closed" };

/** Malformed messages in a row after which the connection is taken as broken. */
const MAX_MALFORMED = 20;
/** A connection ready for this long resets the backoff. */
const STABLE_MS = 10_000;
/**
 * No audio for this long is a hold (or a muted or stalled leg): the recognizer is asked to
 * finalize what it holds. Longer than the delivery jitter of a loaded server, so that a burst
 * arriving late does not cut an utterance in two.
 */
const HOLD_MS = 1000;

/**
 * The recognizer link of one track.
 *
 * @example
 * ```ts ignore
 * const link = new RecognizerLink({ provider: deepgram, format, url, key, options, log, onResult, onState });
 * link.write({ bytes, callMs: 1500, durationMs: 20 });
 * await link.close();
 * ```
 */
export class RecognizerLink implements AsyncDisposable {
  readonly #o: RecognizerLinkOptions;
  readonly #queue: AudioChunk[] = [];
  #queuedMs = 0;
  #gap: { start: number; end: number; reason: string } | undefined;
  #state: LinkState;
  #attempts = 0;
  #connections = 0;
  #lastSentAt = Date.now();
  #lastAudioAt = Date.now();
  #audioSinceFinalize = false;
  readonly #keepAlive: ReturnType<typeof setInterval>;
  readonly #done = Promise.withResolvers<void>();
  #closing: Promise<void> | undefined;

  /** Connects right away. */
  constructor(options: RecognizerLinkOptions) {
    this.#o = options;
    this.#state = { name: "connecting", connection: this.#connect() };
    const every = Math.max(50, Math.min(1000, options.options.keepAliveMs / 2));
    this.#keepAlive = setInterval(() => this.#tick(), every);
  }

  /** The link's state name (for tests and logs). */
  get state(): LinkState["name"] {
    return this.#state.name;
  }

  /** Audio buffered while not connected, in ms. */
  get bufferedMs(): number {
    return this.#queuedMs;
  }

  /** Sends `chunk`, or buffers it (bounded) while the recognizer is not there. */
  write(chunk: AudioChunk): void {
    const state = this.#state;
    if (state.name === "failed" || state.name === "closed" || state.name === "closing") return;
    if (state.name === "open" && state.connection.ready && this.#queue.length === 0) {
      const socket = state.connection.socket;
      if (socket.bufferedAmount > this.#bytesFor(this.#o.options.bufferMs)) {
        this.#lose(chunk, "the recognizer is not keeping up");
        return;
      }
      this.#send(state.connection, chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queuedMs += chunk.durationMs;
    while (this.#queuedMs > this.#o.options.bufferMs && this.#queue.length > 0) {
      const oldest = this.#queue.shift()!;
      this.#queuedMs -= oldest.durationMs;
      this.#lose(oldest, "the buffer kept while reconnecting overflowed");
    }
  }

  /** Asks the recognizer to flush its pending results (turn end, hold). */
  finalize(): void {
    const state = this.#state;
    if (state.name !== "open" || !state.connection.ready || !this.#audioSinceFinalize) return;
    const message = state.connection.session.finalize();
    if (message) this.#sendRaw(state.connection, message);
    this.#audioSinceFinalize = false;
  }

  /**
   * Ends the stream: sends what is buffered if connected, asks the recognizer to finish,
   * waits (up to `closeTimeoutMs`) for its last results, closes. Twice is a no-op.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      clearInterval(this.#keepAlive);
      const state = this.#state;
      if (state.name === "backoff") clearTimeout(state.timer);
      if (state.name === "open" && state.connection.ready) {
        this.#flush(state.connection);
        this.finalize();
        const message = state.connection.session.closing();
        if (message) this.#sendRaw(state.connection, message);
        this.#state = { name: "closing", connection: state.connection };
        const timer = setTimeout(
          () => state.connection.socket.close(1000, "done"),
          message ? this.#o.options.closeTimeoutMs : 0,
        );
        await this.#done.promise;
        clearTimeout(timer);
      } else {
        if (state.name === "connecting" || state.name === "open") {
          this.#state = { name: "closing", connection: state.connection };
          state.connection.socket.close(1000, "done");
          await this.#done.promise;
        }
        for (const chunk of this.#queue.splice(0)) {
          this.#lose(chunk, "the recognizer was not reachable");
        }
        this.#queuedMs = 0;
      }
      if (this.#state.name !== "failed") this.#state = { name: "closed" };
      this.#reportGap();
    })();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #bytesFor(ms: number): number {
    const bytesPerSample = this.#o.format.encoding === "pcm16" ? 2 : 1;
    return Math.max(64 * 1024, (this.#o.format.sampleRate * bytesPerSample * ms) / 1000 * 2);
  }

  #connect(): Connection {
    const { provider, url, key, format, options, log } = this.#o;
    const session = provider.session({ url, key, format, options });
    const timeline = new StreamTimeline();
    let socket: WebSocket;
    try {
      socket = new WebSocket(session.url, { headers: session.headers });
    } catch (error) {
      // A URL the WebSocket API refuses: not worth retrying.
      const connection = newConnection(NO_SOCKET, session, timeline);
      connection.fatal = true;
      connection.reason = `cannot connect: ${(error as Error).message}`;
      queueMicrotask(() => this.#ended(connection, 1006));
      return connection;
    }
    socket.binaryType = "arraybuffer";
    const connection = newConnection(socket, session, timeline);
    connection.timer = setTimeout(() => {
      connection.reason = `no session within ${options.connectTimeoutMs} ms`;
      socket.close(4000, "timeout");
      // A socket still in its handshake may not fire close promptly: end it here.
      this.#ended(connection, 1006);
    }, options.connectTimeoutMs);
    socket.onopen = () => {
      for (const message of session.opening()) this.#sendRaw(connection, message);
      if (!session.waitsForReady) this.#ready(connection);
    };
    socket.onmessage = (event: MessageEvent) => {
      try {
        this.#message(connection, event.data);
      } catch (error) {
        // A bug of ours, not the recognizer's: never let it out of an event handler (it
        // would take the process down); end this connection and let the backoff retry.
        log.error("Cannot handle a recognizer message", { error });
        connection.reason = `internal error: ${(error as Error)?.message}`;
        socket.close(4011, "internal error");
      }
    };
    socket.onerror = (event: Event) => {
      const message = (event as ErrorEvent).message ?? "WebSocket error";
      connection.reason ??= message;
      const status = /status code:? (\d{3})/i.exec(message)?.[1];
      if (status && /^4(0[0-4]|1\d)$/.test(status)) {
        connection.fatal = true;
        connection.reason = status === "401" || status === "403"
          ? `the recognizer refused the key (HTTP ${status})`
          : `the recognizer rejected the request (HTTP ${status})`;
      }
    };
    socket.onclose = (event: CloseEvent) => this.#ended(connection, event.code, event.reason);
    log.debug("Connecting to the recognizer", { url: redact(session.url) });
    return connection;
  }

  #ready(connection: Connection): void {
    if (connection.ready) return;
    const state = this.#state;
    if (state.name !== "connecting" || state.connection !== connection) return;
    clearTimeout(connection.timer);
    connection.ready = true;
    connection.readyAt = Date.now();
    this.#state = { name: "open", connection };
    this.#connections++;
    this.#o.onState("connected", this.#connections > 1 ? { reason: "reconnected" } : {});
    this.#flush(connection);
    this.#reportGap();
  }

  #message(connection: Connection, data: unknown): void {
    const { options, log } = this.#o;
    const payload = typeof data === "string"
      ? data
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : undefined;
    if (payload === undefined) return;
    const size = typeof payload === "string" ? payload.length : payload.byteLength;
    if (size > options.maxMessageBytes) {
      connection.reason =
        `the recognizer sent a ${size}-byte message (limit ${options.maxMessageBytes})`;
      connection.socket.close(4009, "message too big");
      return;
    }
    let results: RecognizerResult[];
    try {
      results = connection.session.parse(payload);
      connection.malformed = 0;
    } catch (error) {
      if (!(error instanceof RecognizerProtocolError)) throw error;
      connection.malformed++;
      if (connection.malformed === 1) {
        log.warn("Malformed message from the recognizer: skipped", { error: error.message });
      }
      if (connection.malformed >= MAX_MALFORMED) {
        connection.reason = `the recognizer sent ${MAX_MALFORMED} malformed messages in a row ` +
          `(${error.message})`;
        connection.socket.close(4002, "protocol error");
      }
      return;
    }
    for (const result of results) {
      if (result.kind === "ready") this.#ready(connection);
      else if (result.kind === "closed") connection.socket.close(1000, "done");
      else if (result.kind === "error") {
        log.warn("The recognizer reported an error", { error: result.message });
        if (result.fatal) {
          connection.fatal = true;
          connection.reason = result.message;
          connection.socket.close(1000, "fatal error");
        }
      } else this.#o.onResult(result, connection.timeline);
    }
  }

  #ended(connection: Connection, code: number, closeReason = ""): void {
    clearTimeout(connection.timer);
    const state = this.#state;
    const current = (state.name === "connecting" || state.name === "open" ||
      state.name === "closing") && state.connection === connection;
    if (!current) return;
    if (state.name === "closing") {
      this.#done.resolve();
      return;
    }
    const { options, log } = this.#o;
    const reason = connection.reason ??
      (closeReason
        ? `closed by the recognizer: ${code} ${closeReason}`
        : `connection lost (${code})`);
    if (/unauthori[sz]ed|invalid.*key|authenticat/i.test(closeReason)) connection.fatal = true;
    const stable = connection.ready && Date.now() - connection.readyAt >= STABLE_MS;
    this.#attempts = stable ? 0 : this.#attempts + 1;
    if (connection.fatal || this.#attempts > options.maxReconnects) {
      const why = connection.fatal ? reason : `${reason}; gave up after ${this.#attempts} attempts`;
      log.error("Recognizer link failed: the track is not transcribed", { reason: why });
      this.#state = { name: "failed" };
      clearInterval(this.#keepAlive);
      for (const chunk of this.#queue.splice(0)) this.#lose(chunk, why);
      this.#queuedMs = 0;
      this.#o.onState("failed", { reason: why });
      this.#reportGap();
      this.#done.resolve();
      return;
    }
    const base = Math.min(
      options.maxReconnectDelayMs,
      options.reconnectDelayMs * 2 ** Math.max(0, this.#attempts - 1),
    );
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    log.warn("Recognizer link dropped: reconnecting", { reason, delayMs: delay });
    this.#o.onState("reconnecting", { reason });
    const timer = setTimeout(() => {
      if (this.#state.name !== "backoff") return;
      this.#state = { name: "connecting", connection: this.#connect() };
    }, delay);
    this.#state = { name: "backoff", timer };
  }

  #flush(connection: Connection): void {
    for (const chunk of this.#queue.splice(0)) this.#send(connection, chunk);
    this.#queuedMs = 0;
  }

  #send(connection: Connection, chunk: AudioChunk): void {
    this.#sendRaw(connection, connection.session.audio(chunk.bytes));
    connection.timeline.sent(chunk.callMs, chunk.durationMs);
    this.#audioSinceFinalize = true;
    this.#lastAudioAt = Date.now();
  }

  #sendRaw(connection: Connection, message: string | Uint8Array): void {
    try {
      connection.socket.send(message as string);
      this.#lastSentAt = Date.now();
    } catch (error) {
      // The socket closed under us: its close event takes it from here.
      this.#o.log.debug("Cannot send to the recognizer", { error });
    }
  }

  #lose(chunk: AudioChunk, reason: string): void {
    const end = chunk.callMs + chunk.durationMs;
    if (this.#gap) {
      this.#gap.start = Math.min(this.#gap.start, chunk.callMs);
      this.#gap.end = Math.max(this.#gap.end, end);
    } else this.#gap = { start: chunk.callMs, end, reason };
    const state = this.#state;
    if (state.name === "open" && state.connection.ready) this.#reportGap();
  }

  #reportGap(): void {
    const gap = this.#gap;
    if (!gap) return;
    this.#gap = undefined;
    this.#o.log.warn("Audio not transcribed", gap);
    this.#o.onState("gap", {
      reason: gap.reason,
      start: Math.round(gap.start),
      end: Math.round(gap.end),
    });
  }

  #tick(): void {
    const state = this.#state;
    if (state.name !== "open" || !state.connection.ready) return;
    const now = Date.now();
    if (now - this.#lastAudioAt >= HOLD_MS) this.finalize(); // hold: flush what it holds
    if (now - this.#lastSentAt < this.#o.options.keepAliveMs) return;
    const message = state.connection.session.keepAlive();
    if (message) this.#sendRaw(state.connection, message);
    else this.#lastSentAt = Date.now();
  }
}

/** `url` without credentials in its query (`token`, `key`, …), for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    for (const name of [...u.searchParams.keys()]) {
      if (/token|key|secret|auth/i.test(name)) u.searchParams.set(name, "…");
    }
    u.username = u.password = "";
    return u.href;
  } catch {
    return "(invalid URL)";
  }
}
