/**
 * The WebSocket to an agent that speaks JSON text frames (a Media Streams bot, a Realtime
 * server), as both adapters use it: incoming frames checked (text only, bounded size, a JSON
 * object) before the adapter sees them, outgoing messages sent only while open, a peer that
 * stops reading detected, and every way the socket can end reported once.
 *
 * @module
 */
import type { AgentLink } from "./adapter.ts";
import { messageOf } from "./session.ts";

/** Unsent bytes to a peer that stopped reading before it is dropped (~20 s of G.711 media). */
export const MAX_BUFFERED_BYTES = 1 << 19;

/** Options of an {@linkcode AgentSocket}. */
export interface AgentSocketOptions {
  /** The far end in failure reasons, e.g. `"bot"` or `"realtime server"`. */
  readonly peer: string;
  /** Largest message accepted, bytes. */
  readonly maxMessageBytes: number;
  /** Added to the reason a binary frame fails the agent with, e.g. `"(text frames only)"`. */
  readonly binaryNote?: string;
  /** A message that is a JSON object (only while the socket is not closed). */
  readonly onMessage: (message: Record<string, unknown>) => void;
}

/**
 * An open agent WebSocket and its failure handling. Any failure (a bad frame, the peer
 * closing or erroring, {@linkcode fail}) closes the socket and ends the binding through
 * `link.fail` once; {@linkcode close} ends it quietly.
 *
 * @example
 * ```ts ignore
 * const socket = new AgentSocket(ws, link, { peer: "bot", maxMessageBytes: 1 << 20, onMessage });
 * socket.send({ event: "connected" });
 * socket.close("stream stopped");
 * ```
 */
export class AgentSocket {
  readonly #ws: WebSocket;
  readonly #link: AgentLink;
  readonly #options: AgentSocketOptions;
  #closed = false;

  /** Takes over `ws` (already open): its handlers are this socket's from now on. */
  constructor(ws: WebSocket, link: AgentLink, options: AgentSocketOptions) {
    this.#ws = ws;
    this.#link = link;
    this.#options = options;
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => {
      if (this.#closed) return;
      this.#closed = true;
      link.fail(
        `${options.peer} closed the connection (code ${event.code}${
          event.reason ? `: ${event.reason}` : ""
        })`,
      );
    };
    ws.onerror = (event) =>
      this.fail(`${options.peer} connection failed: ${(event as ErrorEvent).message ?? "error"}`);
  }

  /** True once closed or failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends `message` as JSON while the socket is open; nothing otherwise. */
  send(message: Record<string, unknown>): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /**
   * True (and the agent failed) when the peer stopped reading: more than
   * {@linkcode MAX_BUFFERED_BYTES} are waiting to be sent.
   */
  stalled(): boolean {
    if (this.#ws.bufferedAmount <= MAX_BUFFERED_BYTES) return false;
    this.fail(`${this.#options.peer} is not reading (${this.#ws.bufferedAmount} bytes unsent)`);
    return true;
  }

  /** Closes the socket and ends the binding with `reason`. Only the first call counts. */
  fail(reason: string): void {
    if (this.#closed) return;
    this.#close(reason.slice(0, 120));
    this.#link.fail(reason);
  }

  /** Closes the socket quietly (the binding ends on the runtime's side). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#close(reason);
  }

  #close(reason: string): void {
    this.#closed = true;
    try {
      this.#ws.close(1000, reason);
    } catch (error) {
      this.#link.log.debug(`Closing the ${this.#options.peer} socket failed`, { error });
    }
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    const { peer, maxMessageBytes, binaryNote } = this.#options;
    if (typeof data !== "string") {
      return this.fail(`${peer} sent a binary frame${binaryNote ? ` ${binaryNote}` : ""}`);
    }
    if (data.length > maxMessageBytes) {
      return this.fail(`${peer} sent a ${data.length}-byte message (limit ${maxMessageBytes})`);
    }
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch (error) {
      return this.fail(`${peer} sent invalid JSON: ${messageOf(error)}`);
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      return this.fail(`${peer} sent a message that is not a JSON object`);
    }
    this.#options.onMessage(message as Record<string, unknown>);
  }
}
