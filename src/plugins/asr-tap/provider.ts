/**
 * What a recognizer protocol is to the tap: how to connect (URL, headers), what to send
 * (audio, keep-alive, finalize, close) and how to read what comes back, as normalized
 * {@linkcode RecognizerResult}s. One implementation per provider (`deepgram.ts`,
 * `assemblyai.ts`, `openai.ts`); the link (`link.ts`) does the WebSocket, reconnection and
 * buffering the same way for all.
 *
 * @module
 */
import type { MediaFormat } from "../../codecs/transcoder.ts";
import type { AsrProviderName, ResolvedAsrTapOptions } from "./options.ts";

/** The audio a recognizer stream carries: mono, little-endian for PCM. */
export interface StreamFormat {
  /** Linear 16-bit PCM or G.711 bytes as they are on a SIP leg. */
  readonly encoding: "pcm16" | "g711_ulaw" | "g711_alaw";
  /** Samples per second. */
  readonly sampleRate: number;
}

/**
 * A recognizer result, times in ms of the audio sent on this connection (the tap maps them
 * to the call's timeline).
 */
export type RecognizerResult =
  /** The provider's session started (AssemblyAI `Begin`, OpenAI `…session.created`). */
  | { readonly kind: "ready" }
  /** Speech began at `at`. */
  | { readonly kind: "speech_start"; readonly at: number }
  /** Interim or final text between `start` and `end`. */
  | {
    readonly kind: "partial" | "final";
    readonly text: string;
    readonly start: number;
    readonly end: number;
    readonly confidence?: number;
  }
  /** The speaker's turn ended (at `end` when the provider says). */
  | { readonly kind: "end_of_turn"; readonly end?: number }
  /** The provider reported an error; `fatal` ends the session (no point reconnecting). */
  | { readonly kind: "error"; readonly message: string; readonly fatal: boolean }
  /** The provider acknowledged the end of the stream (no more results). */
  | { readonly kind: "closed" };

/** A malformed or unexpected message from a recognizer. */
export class RecognizerProtocolError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "RecognizerProtocolError";
  }
}

/**
 * One connection's worth of a provider's protocol. Stateful (e.g. OpenAI's deltas per
 * item): a new one per connection.
 *
 * An implementation MUST NOT throw from `parse` on hostile input except a
 * {@linkcode RecognizerProtocolError}, and MUST keep its state bounded.
 */
export interface ProviderSession {
  /** Where to connect, query parameters included. */
  readonly url: string;
  /** Upgrade request headers (the key goes here, never in a log). */
  readonly headers: Readonly<Record<string, string>>;
  /** Wait for a `ready` result before streaming audio. */
  readonly waitsForReady: boolean;
  /** Text messages to send as soon as the socket is open. */
  opening(): string[];
  /** One audio message of `bytes` in the stream's format. */
  audio(bytes: Uint8Array): string | Uint8Array;
  /** A keep-alive for a stream with no audio for a while, if the protocol has one. */
  keepAlive(): string | undefined;
  /** Flushes the recognizer's pending results (turn end, hold), if the protocol has it. */
  finalize(): string | undefined;
  /** Asks the recognizer to finish and close, if the protocol has it. */
  closing(): string | undefined;
  /**
   * Reads one message.
   *
   * @throws {RecognizerProtocolError} on a malformed message.
   */
  parse(data: string | Uint8Array): RecognizerResult[];
}

/** What a provider needs to open a session. */
export interface SessionConfig {
  /** The endpoint (the option `url` or the public one). */
  readonly url: string;
  /** The API key. */
  readonly key: string;
  /** The audio format chosen by {@linkcode RecognizerProvider.format}. */
  readonly format: StreamFormat;
  /** The plugin's options. */
  readonly options: ResolvedAsrTapOptions;
}

/** A recognizer protocol. */
export interface RecognizerProvider {
  /** Its name in the options. */
  readonly name: AsrProviderName;
  /** Audio per message, in ms (20 for Deepgram; AssemblyAI takes 50–1000). */
  readonly chunkMs: number;
  /**
   * The shortest message the recognizer takes, in ms (AssemblyAI: 50); a shorter last chunk
   * of a speech run is padded with silence.
   */
  readonly minChunkMs: number;
  /**
   * True when the recognizer must hear the silence (its own VAD finds the turns); false when
   * the tap may leave silence out and keep the stream alive with keep-alives instead.
   */
  readonly needsSilence: boolean;
  /**
   * The stream format for a track: G.711 legs pass through untranscoded where the provider
   * takes G.711; everything else is linear16.
   */
  format(track: Required<MediaFormat>, options: ResolvedAsrTapOptions): StreamFormat;
  /** A session for one connection. */
  session(config: SessionConfig): ProviderSession;
}

/**
 * The stream format most recognizers read a track in: the G.711 codecs in `passthrough` as
 * they are (8 kHz, untranscoded), other G.711 as PCM16 at 8 kHz, PCM16 at the track's own
 * rate, anything else (Opus) decoded to PCM16 at the options' `sampleRate`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { trackFormat } from "./provider.ts";
 * import { parseAsrTapOptions } from "./options.ts";
 * const alaw = { codec: "g711_alaw", sampleRate: 8000, channels: 1, frameMs: 20 } as const;
 * assertEquals(trackFormat(alaw, parseAsrTapOptions({ provider: "assemblyai" }), ["g711_ulaw"]), {
 *   encoding: "pcm16",
 *   sampleRate: 8000,
 * });
 * ```
 */
export function trackFormat(
  track: Required<MediaFormat>,
  options: ResolvedAsrTapOptions,
  passthrough: readonly ("g711_ulaw" | "g711_alaw")[],
): StreamFormat {
  const codec = track.codec;
  if (codec === "g711_ulaw" || codec === "g711_alaw") {
    return passthrough.includes(codec)
      ? { encoding: codec, sampleRate: 8000 }
      : { encoding: "pcm16", sampleRate: 8000 };
  }
  if (codec === "pcm16") return { encoding: "pcm16", sampleRate: track.sampleRate };
  return { encoding: "pcm16", sampleRate: options.sampleRate };
}

/**
 * The sending side of a recognizer that takes the stream's bytes as binary messages and is
 * steered by JSON `{"type": …}` text messages (Deepgram, AssemblyAI): nothing to send on open,
 * each audio chunk as it is, and the named control message for keep-alive, finalize and
 * close. `type` names the protocol's message types.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { binaryAudioJsonControl } from "./provider.ts";
 * const send = binaryAudioJsonControl({ keepAlive: "KeepAlive", finalize: "Finalize", closing: "CloseStream" });
 * const chunk = new Uint8Array([1, 2, 3]);
 * assertEquals(send.opening(), []);
 * assertEquals(send.audio(chunk), chunk);
 * assertEquals(send.finalize(), '{"type":"Finalize"}');
 * assertEquals(send.closing(), '{"type":"CloseStream"}');
 * ```
 */
export function binaryAudioJsonControl(
  type: { readonly keepAlive: string; readonly finalize: string; readonly closing: string },
): Pick<ProviderSession, "opening" | "audio" | "keepAlive" | "finalize" | "closing"> {
  return {
    opening: () => [],
    audio: (bytes) => bytes,
    keepAlive: () => JSON.stringify({ type: type.keepAlive }),
    finalize: () => JSON.stringify({ type: type.finalize }),
    closing: () => JSON.stringify({ type: type.closing }),
  };
}

/**
 * The error for a message whose `type` a protocol does not know (Deepgram and AssemblyAI send
 * a closed set).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { unknownMessageType } from "./provider.ts";
 * assertEquals(unknownMessageType({ type: "Nope" }).message, 'Unknown message type "Nope"');
 * ```
 */
export function unknownMessageType(message: Record<string, unknown>): RecognizerProtocolError {
  return new RecognizerProtocolError(`Unknown message type ${JSON.stringify(message.type)}`);
}

/**
 * Parses a JSON object message.
 *
 * @throws {RecognizerProtocolError} for binary data, invalid JSON, or a non-object.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseJsonMessage } from "./provider.ts";
 * assertEquals(parseJsonMessage('{"type":"Begin"}').type, "Begin");
 * ```
 */
export function parseJsonMessage(data: string | Uint8Array): Record<string, unknown> {
  if (typeof data !== "string") {
    throw new RecognizerProtocolError(`Unexpected binary message (${data.length} bytes)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw new RecognizerProtocolError(`Malformed JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RecognizerProtocolError("Expected a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A finite number field, or `undefined`. */
export function numberField(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A string field, or `undefined`. */
export function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `base` with `params` added to its query. */
export function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}
