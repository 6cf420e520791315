/**
 * The `openai-realtime` adapter: the engine is the client of a server speaking the OpenAI
 * Realtime API (GA protocol) over a WebSocket.
 *
 * ```text
 * engine → server  session.update (audio formats, instructions, voice, turn detection),
 *                  input_audio_buffer.append (the caller, every 20 ms),
 *                  response.cancel + conversation.item.truncate (on barge-in)
 * server → engine  response.output_audio.delta (played to the caller, in order),
 *                  input_audio_buffer.speech_started (barge-in), response.created/done, error
 * ```
 *
 * Barge-in follows the server's VAD: on `input_audio_buffer.speech_started` while the agent's
 * audio plays, the playout is flushed within one frame, `response.cancel` is sent if a
 * response is still in progress, and `conversation.item.truncate` tells the server how much
 * of the item was actually played to the caller (`audio_end_ms`, counted at the playout, not
 * at the queue).
 *
 * Why a plain WebSocket and not the `openai` npm package's realtime client: its client
 * (openai 7.55.0, `openai/realtime/ws`) forces `wss:` (`buildRealtimeURL` rewrites the
 * scheme and refuses custom URLs that are not `wss:`), so it cannot reach a `ws://`
 * Realtime-compatible server on a private network, and it needs the optional `ws` peer. The
 * protocol is a handful of JSON messages; this file speaks them directly.
 *
 * @module
 */
import { websocketOpened } from "./websocket_open.ts";
import type {
  AgentAdapter,
  AgentAudioFormat,
  AgentDriver,
  AgentLink,
  CallerFrame,
} from "./adapter.ts";
import type { OpenAiRealtimeAgentConfig } from "./config.ts";
import { CONNECT_TIMEOUT_MS, fromBase64, toBase64 } from "./media_streams.ts";
import { AgentSocket } from "./agent_socket.ts";
import { messageOf } from "./session.ts";

/** The default server. */
export const OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime";
/** Largest message accepted from the server, bytes. */
export const MAX_REALTIME_MESSAGE_BYTES = 4 << 20;

/** Realtime GA audio format objects by our format name. */
function realtimeFormat(format: AgentAudioFormat): Record<string, unknown> {
  switch (format.codec) {
    case "g711_ulaw":
      return { type: "audio/pcmu" };
    case "g711_alaw":
      return { type: "audio/pcma" };
    case "pcm16":
      return { type: "audio/pcm", rate: 24000 };
  }
}

/**
 * Makes the adapter. `legCodec` is the codec the call's leg carries: the default format is
 * that G.711 (no transcoding), PCM16 at 24 kHz for other legs.
 *
 * @throws {TypeError} when a header's environment variable is unset.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { openaiRealtimeAdapter } from "./openai_realtime.ts";
 * const adapter = openaiRealtimeAdapter({ type: "openai-realtime", url: "ws://127.0.0.1:9/v1/realtime" }, "g711_alaw");
 * assertEquals(adapter.format.codec, "g711_alaw");
 * ```
 */
export function openaiRealtimeAdapter(
  config: OpenAiRealtimeAgentConfig,
  legCodec?: string,
): AgentAdapter {
  const codec = config.format ??
    (legCodec === "g711_ulaw" || legCodec === "g711_alaw" ? legCodec : "pcm16");
  const format: AgentAudioFormat = { codec, sampleRate: codec === "pcm16" ? 24000 : 8000 };
  const headers: Record<string, string> = { ...config.headers };
  for (const [name, variable] of Object.entries(config.headersFromEnv ?? {})) {
    const value = Deno.env.get(variable);
    if (value === undefined) {
      throw new TypeError(`Cannot configure agent: environment variable ${variable} is unset`);
    }
    headers[name] = value;
  }
  const url = new URL(config.url ?? OPENAI_REALTIME_URL);
  if (config.model) url.searchParams.set("model", config.model);
  return {
    format,
    engineBargeIn: false,
    open: (link) => RealtimeDriver.connect(url.href, headers, config, format, link),
  };
}

class RealtimeDriver implements AgentDriver {
  readonly #socket: AgentSocket;
  readonly #link: AgentLink;
  /** The response in progress (between response.created and response.done). */
  #response: string | undefined;
  /** The output item whose audio was last queued, and its transcript so far. */
  #item: { id: string; transcript: string; queuedMs: number } | undefined;
  readonly #bytesPerMs: number;

  private constructor(ws: WebSocket, link: AgentLink, format: AgentAudioFormat) {
    this.#link = link;
    this.#bytesPerMs = format.codec === "pcm16" ? 48 : 8;
    this.#socket = new AgentSocket(ws, link, {
      peer: "realtime server",
      maxMessageBytes: MAX_REALTIME_MESSAGE_BYTES,
      onMessage: (message) => this.#onMessage(message),
    });
  }

  static async connect(
    url: string,
    headers: Record<string, string>,
    config: OpenAiRealtimeAgentConfig,
    format: AgentAudioFormat,
    link: AgentLink,
  ): Promise<AgentDriver> {
    // Deno's WebSocket takes request headers (the bearer token).
    const ws = new WebSocket(url, { headers } as unknown as string[]);
    await websocketOpened(ws, link.signal, {
      peer: "the realtime server",
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    const driver = new RealtimeDriver(ws, link, format);
    driver.#begin(config, format);
    return driver;
  }

  #begin(config: OpenAiRealtimeAgentConfig, format: AgentAudioFormat): void {
    const audioFormat = realtimeFormat(format);
    const input: Record<string, unknown> = { format: audioFormat };
    if (config.turnDetection !== undefined) input.turn_detection = config.turnDetection;
    const output: Record<string, unknown> = { format: audioFormat };
    if (config.voice !== undefined) output.voice = config.voice;
    this.#send({
      type: "session.update",
      session: {
        type: "realtime",
        ...(config.model ? { model: config.model } : {}),
        ...(config.instructions !== undefined ? { instructions: config.instructions } : {}),
        output_modalities: ["audio"],
        audio: { input, output },
      },
    });
  }

  audio(frame: CallerFrame): void {
    if (this.#socket.closed || this.#socket.stalled()) return;
    this.#send({ type: "input_audio_buffer.append", audio: toBase64(frame.payload) });
  }

  close(_reason: string): Promise<void> {
    this.#socket.close("agent detached");
    return Promise.resolve();
  }

  #onMessage(m: Record<string, unknown>): void {
    switch (m.type) {
      case "response.created":
        this.#response = (m.response as { id?: string } | undefined)?.id ?? "response";
        return;
      case "response.done":
        this.#response = undefined;
        return;
      case "response.output_audio.delta": {
        const itemId = typeof m.item_id === "string" ? m.item_id : "item";
        if (typeof m.delta !== "string") {
          return this.#fail("realtime server sent output_audio.delta without a delta");
        }
        let bytes: Uint8Array;
        try {
          bytes = fromBase64(m.delta);
        } catch (error) {
          return this.#fail(`output_audio.delta is not base64: ${messageOf(error)}`);
        }
        if (this.#item?.id !== itemId) this.#item = { id: itemId, transcript: "", queuedMs: 0 };
        this.#item.queuedMs += bytes.length / this.#bytesPerMs;
        this.#link.play(bytes, itemId);
        return;
      }
      case "response.output_audio_transcript.delta":
        if (this.#item && m.item_id === this.#item.id && typeof m.delta === "string") {
          this.#item.transcript = (this.#item.transcript + m.delta).slice(-8192);
        }
        return;
      case "input_audio_buffer.speech_started":
        this.#bargeIn();
        return;
      case "error": {
        const error = m.error as { message?: string; code?: string; type?: string } | undefined;
        // Cancelling a response that just finished is not a failure.
        if (error?.code === "response_cancel_not_active") return;
        return this.#fail(
          `realtime server error: ${error?.code ?? error?.type ?? "error"}: ${error?.message ?? ""}`
            .trim(),
        );
      }
      default:
        return;
    }
  }

  #bargeIn(): void {
    // The item being played (later items may be queued behind it; clear drops them too).
    const playing = this.#link.current;
    if (!playing || !this.#link.playing) return;
    const item = this.#item?.id === playing.id
      ? this.#item
      : { id: playing.id, transcript: "", queuedMs: 0 };
    const cleared = this.#link.clear();
    const playedMs = Math.round(cleared.item?.playedMs ?? playing.playedMs);
    if (this.#response !== undefined) {
      this.#send({ type: "response.cancel" });
      this.#response = undefined;
    }
    this.#send({
      type: "conversation.item.truncate",
      item_id: item.id,
      content_index: 0,
      audio_end_ms: playedMs,
    });
    const words = item.transcript
      ? item.transcript.slice(
        0,
        Math.round(item.transcript.length * Math.min(1, playedMs / Math.max(1, item.queuedMs))),
      )
        .replace(/\S*$/, "").trim()
      : undefined;
    this.#link.interrupted({ playedMs, ...(words === undefined ? {} : { words }) });
    this.#item = undefined;
  }

  #fail(reason: string): void {
    this.#socket.fail(reason);
  }

  #send(message: Record<string, unknown>): void {
    this.#socket.send(message);
  }
}
