/**
 * The ASR tap's options, as given in the server configuration, validated by one zod schema
 * ({@linkcode asrTapOptionsSchema}).
 *
 * ```json
 * { "module": "builtin:asr-tap", "options": { "provider": "deepgram", "apiKeyEnv": "DEEPGRAM_API_KEY",
 *   "tracks": ["uplink"], "language": "en", "match": "voice/*" } }
 * ```
 *
 * @module
 */
import { z } from "zod";

/** The recognizers the tap speaks to. */
export const ASR_PROVIDERS = ["deepgram", "assemblyai", "openai"] as const;

/** One of {@linkcode ASR_PROVIDERS}. */
export type AsrProviderName = typeof ASR_PROVIDERS[number];

/** Each provider's public streaming endpoint, the default `url`. */
export const DEFAULT_URLS: Readonly<Record<AsrProviderName, string>> = Object.freeze({
  deepgram: "wss://api.deepgram.com/v1/listen",
  assemblyai: "wss://streaming.assemblyai.com/v3/ws",
  openai: "wss://api.openai.com/v1/realtime?intent=transcription",
});

/** The environment variable read for the key when `apiKeyEnv` is not given. */
export const DEFAULT_KEY_ENVS: Readonly<Record<AsrProviderName, string>> = Object.freeze({
  deepgram: "DEEPGRAM_API_KEY",
  assemblyai: "ASSEMBLYAI_API_KEY",
  openai: "OPENAI_API_KEY",
});

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

const wsUrl = z.string().max(2048).refine((value) => {
  try {
    const url = new URL(value);
    // The key travels in the upgrade request: plain ws:// only to this machine.
    return url.protocol === "wss:" || url.protocol === "ws:" && LOOPBACK.test(url.hostname);
  } catch {
    return false;
  }
}, { message: "Expected a wss:// URL (ws:// only for localhost)" });

const ms = (min: number, max: number, fallback: number) =>
  z.number().int().min(min).max(max).default(fallback);

/**
 * The schema of the plugin's `options`. Strict: an unknown option is an error.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { asrTapOptionsSchema } from "./options.ts";
 * const options = asrTapOptionsSchema.parse({ provider: "deepgram" });
 * assertEquals(options.tracks, ["uplink"]);
 * assertEquals(options.match, "voice/*");
 * ```
 */
export const asrTapOptionsSchema = z.strictObject({
  /** Which recognizer protocol to speak. */
  provider: z.enum(ASR_PROVIDERS),
  /** The recognizer's WebSocket URL [the provider's public endpoint]. */
  url: wsUrl.optional(),
  /** The environment variable holding the API key [`DEEPGRAM_API_KEY`, …]. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/).optional(),
  /** The call tracks to transcribe, each on its own recognizer stream [`["uplink"]`]. */
  tracks: z.array(z.enum(["uplink", "downlink"])).min(1).max(2)
    .refine((t) => new Set(t).size === t.length, { message: "Tracks must not repeat" })
    .default(["uplink"]),
  /** The spoken language (BCP 47 / ISO 639-1) [`"en"`]. */
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).default("en"),
  /** Which tracks' capabilities to route [`"voice/*"`]. */
  match: z.string().regex(/^voice\/[A-Za-z0-9_*]+$/).default("voice/*"),
  /** The provider's model name [its default: nova-3, universal streaming, gpt-4o-transcribe]. */
  model: z.string().max(128).optional(),
  /** Ask for interim results (`partial` events) [true]. */
  interimResults: z.boolean().default(true),
  /** Silence that ends an utterance at the recognizer, in ms [300]. */
  endpointingMs: ms(10, 10_000, 300),
  /** The rate Opus legs are decoded to for linear16 (OpenAI always takes 24000) [16000]. */
  sampleRate: z.literal([8000, 16000, 24000, 48000])
    .default(16000),
  /**
   * Silence is not streamed (recognizers bill by audio) when the provider allows it: the
   * on-box VAD gates audio, with `preRollMs` before and `hangoverMs` after speech [true].
   */
  gateSilence: z.boolean().default(true),
  /** Audio kept before speech starts, sent with it, in ms [300]. */
  preRollMs: ms(0, 2000, 300),
  /** Silence still sent after speech, in ms (lets the recognizer endpoint) [600]. */
  hangoverMs: ms(100, 5000, 600),
  /** A keep-alive is sent after this long without audio (gated silence, hold) [3000]. */
  keepAliveMs: ms(100, 9000, 3000),
  /** Audio kept while the recognizer is unreachable or slow, in ms; the oldest goes first [10000]. */
  bufferMs: ms(0, 120_000, 10_000),
  /** First reconnection delay, doubled at each failure, in ms [250]. */
  reconnectDelayMs: ms(10, 60_000, 250),
  /** Longest reconnection delay, in ms [8000]. */
  maxReconnectDelayMs: ms(10, 300_000, 8000),
  /** Consecutive failed connections before giving up on a track [8]. */
  maxReconnects: z.number().int().min(0).max(1000).default(8),
  /** How long a connection (upgrade and the provider's session start) may take, in ms [10000]. */
  connectTimeoutMs: ms(100, 60_000, 10_000),
  /** How long the final results may take after the track ended, in ms [5000]. */
  closeTimeoutMs: ms(0, 60_000, 5000),
  /** The largest message accepted from the recognizer, in bytes [1 MiB]. */
  maxMessageBytes: z.number().int().min(1024).max(64 << 20).default(1 << 20),
});

/**
 * The options as written in the configuration.
 *
 * @example
 * ```ts
 * import type { AsrTapOptions } from "./options.ts";
 * const options: AsrTapOptions = { provider: "assemblyai", tracks: ["uplink", "downlink"] };
 * ```
 */
export type AsrTapOptions = z.input<typeof asrTapOptionsSchema>;

/**
 * The options with every default filled in.
 *
 * @example
 * ```ts
 * import { parseAsrTapOptions, type ResolvedAsrTapOptions } from "./options.ts";
 * const resolved: ResolvedAsrTapOptions = parseAsrTapOptions({ provider: "openai" });
 * ```
 */
export type ResolvedAsrTapOptions = z.output<typeof asrTapOptionsSchema>;

/**
 * Validates options and fills in defaults.
 *
 * @throws {TypeError} naming every invalid option.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseAsrTapOptions } from "./options.ts";
 * assertEquals(parseAsrTapOptions({ provider: "deepgram" }).keepAliveMs, 3000);
 * ```
 */
export function parseAsrTapOptions(input: unknown): ResolvedAsrTapOptions {
  const result = asrTapOptionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues
    .map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`)
    .join("; ");
  throw new TypeError(`Invalid asr-tap options: ${detail}`);
}
