/**
 * The `agents` section of the server's config file: named agents, each of one adapter type.
 *
 * ```json
 * {
 *   "agents": {
 *     "support": { "type": "media-streams", "url": "wss://bot.example.com/twilio", "parameters": { "tier": "gold" } },
 *     "concierge": {
 *       "type": "openai-realtime",
 *       "model": "gpt-realtime",
 *       "headersFromEnv": { "Authorization": "OPENAI_AUTH" },
 *       "instructions": "Be brief.",
 *       "voice": "marin"
 *     },
 *     "menu": { "type": "module", "module": "builtin:ivr", "options": { "prompt": "Press 1 for sales" } },
 *     "app": { "type": "fonoster", "url": "grpc://127.0.0.1:50061", "appRef": "my-app" }
 *   }
 * }
 * ```
 *
 * Every type also takes `turn` (engine-side endpointing: `silenceMs` [500], `minSilenceMs`,
 * `maxSilenceMs`, `minSpeechMs`) and `bargeIn` (`minSpeechMs` [400], `duckGain` [0.25],
 * `enabled` [true]).
 *
 * @module
 */
import { z } from "zod";

/** Engine-side endpointing of a caller turn. */
export interface TurnConfig {
  /** Silence that ends a turn, ms [500]. */
  readonly silenceMs?: number;
  /** Lower bound `silenceMs` is clamped to, ms [100]. */
  readonly minSilenceMs?: number;
  /** Upper bound `silenceMs` is clamped to, ms [10000]. */
  readonly maxSilenceMs?: number;
  /** Voiced time before a turn starts, ms [60]. */
  readonly minSpeechMs?: number;
  /** Which VAD: `fvad` (WebRTC VAD; the default, see BENCHMARKS.md). */
  readonly vad?: "fvad";
}

/** Barge-in: the caller talking over the agent. */
export interface BargeInConfig {
  /** Set false to let the agent talk over the caller [true]. */
  readonly enabled?: boolean;
  /** Speech needed to commit an interruption, ms [400]. */
  readonly minSpeechMs?: number;
  /** Gain while ducked, between onset and commit [0.25]. */
  readonly duckGain?: number;
}

/** What every agent type takes. */
export interface AgentCommonConfig {
  /** Engine-side endpointing. */
  readonly turn?: TurnConfig;
  /** Engine-side barge-in (module agents). */
  readonly bargeIn?: BargeInConfig;
}

/** A Twilio-Media-Streams bot: the engine is its WebSocket client. */
export interface MediaStreamsAgentConfig extends AgentCommonConfig {
  /** Discriminant. */
  readonly type: "media-streams";
  /** `ws://` or `wss://`. */
  readonly url: string;
  /** Request headers of the WebSocket upgrade. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `start.customParameters`. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** An OpenAI-Realtime-compatible server: the engine is its client. */
export interface OpenAiRealtimeAgentConfig extends AgentCommonConfig {
  /** Discriminant. */
  readonly type: "openai-realtime";
  /** [`wss://api.openai.com/v1/realtime`] */
  readonly url?: string;
  /** Sent as the `model` query parameter. */
  readonly model?: string;
  /** Request headers (e.g. `Authorization: Bearer …`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Header name → environment variable holding its value. */
  readonly headersFromEnv?: Readonly<Record<string, string>>;
  /** The session's instructions. */
  readonly instructions?: string;
  /** The voice the server speaks with. */
  readonly voice?: string;
  /** Audio format both ways [the leg's own G.711, so nothing is transcoded]. */
  readonly format?: "g711_ulaw" | "g711_alaw" | "pcm16";
  /** Passed through as `session.audio.input.turn_detection`. */
  readonly turnDetection?: unknown;
}

/** An in-process agent module (`defineAgent`). */
export interface ModuleAgentConfig extends AgentCommonConfig {
  /** Discriminant. */
  readonly type: "module";
  /** A path, `npm:`, `jsr:`, a URL, or `builtin:echo` / `builtin:ivr`. */
  readonly module: string;
  /** Handed to the agent as `ctx.options`. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * A Fonoster Voice Application (`@fonoster/voice`'s `VoiceServer`): the engine is its gRPC
 * client, as Fonoster's media side is.
 */
export interface FonosterAgentConfig extends AgentCommonConfig {
  /** Discriminant. */
  readonly type: "fonoster";
  /** `grpc://host:port`, `grpcs://host:port` (TLS) or `host:port`. */
  readonly url: string;
  /** Sent as the session request's `appRef`. */
  readonly appRef?: string;
  /** Sent as the `accessKeyId` call metadata and in the session request. */
  readonly accessKeyId?: string;
  /** Sent as the `token` call metadata and the request's `sessionToken`. */
  readonly sessionToken?: string;
  /** The session request's `metadata` map (the attach's `parameters` are added to it). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Type-ahead: digits the caller presses while no `gather` runs (during a `say`, say) are
   * kept (up to 64) and consumed by the next `gather` [false: dropped, as Fonoster's media
   * side drops them].
   */
  readonly typeAhead?: boolean;
}

/** One configured agent. */
export type AgentConfig =
  | MediaStreamsAgentConfig
  | OpenAiRealtimeAgentConfig
  | ModuleAgentConfig
  | FonosterAgentConfig;

/** The validated `agents` section: name → agent. */
export type AgentsConfig = Readonly<Record<string, AgentConfig>>;

const headers = z.record(z.string().min(1), z.string());
const wsUrl = z.string().regex(/^wss?:\/\/[^\s]+$/, "must be a ws:// or wss:// URL");
const common = {
  turn: z.strictObject({
    silenceMs: z.number().int().min(100).max(10000).optional(),
    minSilenceMs: z.number().int().min(100).max(10000).optional(),
    maxSilenceMs: z.number().int().min(100).max(10000).optional(),
    minSpeechMs: z.number().int().min(20).max(2000).optional(),
    vad: z.enum(["fvad"]).optional(),
  }).optional(),
  bargeIn: z.strictObject({
    enabled: z.boolean().optional(),
    minSpeechMs: z.number().int().min(40).max(2000).optional(),
    duckGain: z.number().min(0).max(1).optional(),
  }).optional(),
};

/**
 * The zod schema of the `agents` section (for folding into the server's config schema).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { agentsConfigSchema } from "./config.ts";
 * assertEquals(agentsConfigSchema.safeParse({ a: { type: "module", module: "builtin:echo" } }).success, true);
 * ```
 */
export const agentsConfigSchema: z.ZodType<AgentsConfig> = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "malformed agent name"),
  z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("media-streams"),
      url: wsUrl,
      headers: headers.optional(),
      parameters: z.record(z.string(), z.string()).optional(),
      ...common,
    }),
    z.strictObject({
      type: z.literal("openai-realtime"),
      url: wsUrl.optional(),
      model: z.string().min(1).optional(),
      headers: headers.optional(),
      headersFromEnv: z.record(z.string().min(1), z.string().min(1)).optional(),
      instructions: z.string().optional(),
      voice: z.string().optional(),
      format: z.enum(["g711_ulaw", "g711_alaw", "pcm16"]).optional(),
      turnDetection: z.unknown().optional(),
      ...common,
    }),
    z.strictObject({
      type: z.literal("module"),
      module: z.string().min(1),
      options: z.record(z.string(), z.unknown()).optional(),
      ...common,
    }),
    z.strictObject({
      type: z.literal("fonoster"),
      url: z.string().regex(
        /^(grpcs?:\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s/:[\]]+):\d{1,5}\/?$/,
        "must be grpc://host:port, grpcs://host:port or host:port",
      ),
      appRef: z.string().optional(),
      accessKeyId: z.string().optional(),
      sessionToken: z.string().optional(),
      metadata: z.record(z.string(), z.string()).optional(),
      typeAhead: z.boolean().optional(),
      ...common,
    }),
  ]),
) as unknown as z.ZodType<AgentsConfig>;

/**
 * Validates the `agents` section.
 *
 * @throws {TypeError} naming the first offending path.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseAgentsConfig } from "./config.ts";
 * const agents = parseAgentsConfig({ echo: { type: "module", module: "builtin:echo" } });
 * assertEquals(agents.echo.type, "module");
 * ```
 */
export function parseAgentsConfig(value: unknown): AgentsConfig {
  const result = agentsConfigSchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = ["agents", ...issue.path.map(String)].join(".");
    throw new TypeError(`Invalid ${path}: ${issue.message}`);
  }
  return Object.freeze(result.data);
}
