/**
 * The `media-streams` adapter: the engine is the WebSocket client of a bot written for
 * Twilio's bidirectional Media Streams, and speaks exactly that protocol.
 *
 * ```text
 * engine → bot   connected, start, media (every 20 ms), dtmf, mark (echo), stop
 * bot → engine   media (any length, queued in order), mark, clear
 * ```
 *
 * Text frames only, JSON, every message from the engine but `connected` numbered by a
 * `sequenceNumber` string. `start.tracks` is `["inbound"]`; the audio is 8 kHz µ-law (legs
 * in A-law or Opus are transcoded by the bridge). A `mark` is echoed once every byte queued
 * before it has been played to the caller; `clear` drops the queue at once and echoes the
 * pending marks.
 *
 * Bad bots: a binary frame, a message that is not JSON, a message over
 * {@linkcode MAX_MESSAGE_BYTES}, base64 that does not decode, too many pending marks, a bot
 * that stops reading (over {@linkcode MAX_BUFFERED_BYTES} unsent), or a bot closing the
 * socket end the agent (`agent failed` with the reason); the call goes on.
 *
 * @module
 */
import { websocketOpened } from "./websocket_open.ts";
import { AgentSocket, MAX_BUFFERED_BYTES } from "./agent_socket.ts";
import type { AgentAdapter, AgentDriver, AgentLink, CallerFrame } from "./adapter.ts";
import type { MediaStreamsAgentConfig } from "./config.ts";
import { messageOf } from "./session.ts";

/** Largest message accepted from a bot, bytes (1 MiB: ~100 s of base64 µ-law). */
export const MAX_MESSAGE_BYTES = 1 << 20;
export { MAX_BUFFERED_BYTES };
/** How long the WebSocket may take to open, ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Twilio's `accountSid` shape; the engine has no accounts, so it sends a fixed one. */
const ACCOUNT_SID = "AC" + "0".repeat(32);

/**
 * Makes the adapter for one configured bot.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { mediaStreamsAdapter } from "./media_streams.ts";
 * const adapter = mediaStreamsAdapter({ type: "media-streams", url: "ws://127.0.0.1:9000/twilio" });
 * assertEquals(adapter.format, { codec: "g711_ulaw", sampleRate: 8000 });
 * ```
 */
export function mediaStreamsAdapter(config: MediaStreamsAgentConfig): AgentAdapter {
  return {
    format: { codec: "g711_ulaw", sampleRate: 8000 },
    engineBargeIn: false,
    open: (link) => MediaStreamsDriver.connect(config, link),
  };
}

class MediaStreamsDriver implements AgentDriver {
  readonly #socket: AgentSocket;
  readonly #link: AgentLink;
  readonly #streamSid = "MZ" + hex(16);
  #sequence = 0;
  #chunk = 0;
  #firstTimestamp: number | undefined;

  private constructor(ws: WebSocket, link: AgentLink) {
    this.#link = link;
    this.#socket = new AgentSocket(ws, link, {
      peer: "bot",
      maxMessageBytes: MAX_MESSAGE_BYTES,
      binaryNote: "(Media Streams is text frames only)",
      onMessage: (message) => this.#onMessage(message),
    });
  }

  static async connect(config: MediaStreamsAgentConfig, link: AgentLink): Promise<AgentDriver> {
    // Deno's WebSocket takes request headers (a bot may want a token).
    const ws = new WebSocket(
      config.url,
      { headers: config.headers ?? {} } as unknown as string[],
    );
    await websocketOpened(ws, link.signal, { peer: "the bot", timeoutMs: CONNECT_TIMEOUT_MS });
    const driver = new MediaStreamsDriver(ws, link);
    driver.#begin(config);
    return driver;
  }

  #begin(config: MediaStreamsAgentConfig): void {
    const customParameters: Record<string, string> = { ...config.parameters };
    for (const [key, value] of Object.entries(this.#link.parameters)) {
      customParameters[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    this.#socket.send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.#send({
      event: "start",
      start: {
        accountSid: ACCOUNT_SID,
        streamSid: this.#streamSid,
        callSid: this.#link.sid,
        tracks: ["inbound"],
        customParameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
  }

  audio(frame: CallerFrame): void {
    if (this.#socket.closed || this.#socket.stalled()) return;
    this.#firstTimestamp ??= frame.timestamp;
    this.#send({
      event: "media",
      media: {
        track: "inbound",
        chunk: String(++this.#chunk),
        timestamp: String(Math.max(0, Math.round((frame.timestamp - this.#firstTimestamp) / 1000))),
        payload: toBase64(frame.payload),
      },
    });
  }

  dtmf(digit: string): void {
    if (this.#socket.closed) return;
    this.#send({ event: "dtmf", dtmf: { track: "inbound_track", digit } });
  }

  close(_reason: string): Promise<void> {
    if (this.#socket.closed) return Promise.resolve();
    this.#send({ event: "stop", stop: { accountSid: ACCOUNT_SID, callSid: this.#link.sid } });
    this.#socket.close("stream stopped");
    return Promise.resolve();
  }

  #onMessage(m: Record<string, unknown>): void {
    const fail = (reason: string) => this.#socket.fail(reason);
    switch (m.event) {
      case "media": {
        const payload = (m.media as Record<string, unknown> | undefined)?.payload;
        if (typeof payload !== "string") return fail("bot sent media without a payload string");
        let bytes: Uint8Array;
        try {
          bytes = fromBase64(payload);
        } catch (error) {
          return fail(`bot sent a payload that is not base64: ${messageOf(error)}`);
        }
        this.#link.play(bytes);
        return;
      }
      case "mark": {
        const name = (m.mark as Record<string, unknown> | undefined)?.name;
        if (typeof name !== "string") return fail("bot sent a mark without a name");
        const queued = this.#link.mark(name, () => {
          if (!this.#socket.closed) this.#send({ event: "mark", mark: { name } });
        });
        if (!queued) fail("bot has too many marks pending");
        return;
      }
      case "clear":
        this.#link.clear();
        return;
      default:
        this.#link.log.debug("Ignored a bot message", { event: String(m.event).slice(0, 64) });
    }
  }

  /** Sends a numbered message (every message after `connected`). */
  #send(message: Record<string, unknown>): void {
    this.#socket.send({
      event: message.event,
      sequenceNumber: String(++this.#sequence),
      ...message,
      streamSid: this.#streamSid,
    });
  }
}

function hex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Base64 of bytes (standard alphabet, padded). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Bytes of base64 text.
 *
 * @throws {DOMException} when it is not base64.
 */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
