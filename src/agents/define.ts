/**
 * The API for agents written in TypeScript: `defineAgent` declares one; the server loads it
 * from an agent's `module` (a path, `npm:`, `jsr:`, or `builtin:echo` / `builtin:ivr`) like a
 * plugin, and hands it each caller turn after endpointing, plus DTMF.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";

/** The audio a module agent asks for. */
export interface ModuleAgentFormat {
  /** [`"pcm16"`] */
  readonly codec?: "pcm16" | "g711_ulaw" | "g711_alaw";
  /** [16000 for PCM16, 8000 for G.711] */
  readonly sampleRate?: 8000 | 16000 | 24000 | 48000;
}

/** One caller turn, after endpointing. */
export interface CallerTurn {
  /** The turn's audio, encoded in the asked codec (PCM16: little-endian bytes). */
  readonly audio: Uint8Array;
  /** The same audio as samples. */
  readonly pcm: Int16Array;
  /** Capture time of its first voiced frame, µs since the epoch. */
  readonly startedAt: number;
  /** Capture time of the end of its last voiced frame, µs since the epoch. */
  readonly endedAt: number;
  /**
   * What a speech recognizer heard in the turn (its final text), when one taps the call's
   * uplink (`builtin:asr-tap`); absent otherwise.
   */
  readonly text?: string;
}

/** What the reply of {@linkcode AgentContext.say} or {@linkcode AgentContext.play} came to. */
export interface ReplyOutcome {
  /** True when it was played to the end; false when cut (interruption) or dropped. */
  readonly completed: boolean;
  /** Milliseconds of it played to the caller. */
  readonly playedMs: number;
  /** For text replies: the words played (estimated from the time, by characters). */
  readonly words?: string;
}

/** What a running module agent may do on its call. */
export interface AgentContext<Options = Record<string, unknown>> {
  /** The call id. */
  readonly sid: string;
  /** Caller and callee addresses. */
  readonly call: { readonly from: string; readonly to: string; readonly direction: string };
  /** The agent's options from the config. */
  readonly options: Options;
  /** Per-call parameters given at attach. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Tagged with sid and agent. */
  readonly log: Logger;
  /** Aborted when the agent is detached or the call ends. */
  readonly signal: AbortSignal;
  /** Folder the agent may read relative files from (the config file's folder). */
  readonly baseUrl: string;
  /** Plays audio frames (in the asked codec) after what is queued; resolves when played or cut. */
  play(audio: Uint8Array | Int16Array): Promise<ReplyOutcome>;
  /** Speaks text with the offline TTS (espeak-ng); resolves when played or cut. */
  say(text: string): Promise<ReplyOutcome>;
  /** Cuts whatever is playing. */
  stopPlayback(): void;
  /** Hangs the call up. */
  hangup(): Promise<void>;
  /** Hands the caller on: to another configured agent, or to an address (`client:…`, E.164). */
  transfer(target: { readonly agent: string } | { readonly to: string }): Promise<void>;
}

/** A module agent's declaration. */
export interface AgentDefinition<Options = Record<string, unknown>> {
  /** A short name, for logs. */
  readonly name: string;
  /** The audio it wants [PCM16 at 16 kHz]. */
  readonly format?: ModuleAgentFormat;
  /** Runs once when bound to a call (e.g. to play a greeting). */
  start?(ctx: AgentContext<Options>): void | Promise<void>;
  /** Each caller turn, after endpointing. */
  onTurn?(turn: CallerTurn, ctx: AgentContext<Options>): void | Promise<void>;
  /** Each DTMF digit from the caller. */
  onDtmf?(digit: string, ctx: AgentContext<Options>): void | Promise<void>;
  /** The caller barged in: the reply was cut after `playedMs` (and `words`, for text). */
  onInterrupted?(
    report: { readonly playedMs: number; readonly words?: string },
    ctx: AgentContext<Options>,
  ): void | Promise<void>;
  /** Runs when unbound. */
  stop?(ctx: AgentContext<Options>): void | Promise<void>;
}

/** The brand {@linkcode defineAgent} sets (shared across module copies). */
export const AGENT: unique symbol = Symbol.for("clutchcall.voice.agent") as never;

/** A declared agent, as a module's default export. */
export interface Agent<Options = Record<string, unknown>> extends AgentDefinition<Options> {
  /** Brand set by {@linkcode defineAgent}. */
  readonly [AGENT]: true;
}

/**
 * Declares an agent; a module default-exports the result.
 *
 * @throws {TypeError} for a malformed name or format.
 *
 * @example
 * ```ts
 * import { defineAgent } from "./define.ts";
 *
 * export default defineAgent({
 *   name: "parrot",
 *   format: { codec: "pcm16", sampleRate: 16000 },
 *   async onTurn(turn, ctx) {
 *     await ctx.play(turn.pcm); // repeat what the caller said
 *   },
 * });
 * ```
 */
export function defineAgent<Options = Record<string, unknown>>(
  definition: AgentDefinition<Options>,
): Agent<Options> {
  if (
    typeof definition?.name !== "string" || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(definition.name)
  ) {
    throw new TypeError(`Cannot define agent: name "${definition?.name}" is malformed`);
  }
  const codec = definition.format?.codec ?? "pcm16";
  const rate = definition.format?.sampleRate ?? (codec === "pcm16" ? 16000 : 8000);
  if (codec !== "pcm16" && rate !== 8000) {
    throw new TypeError(`Cannot define agent "${definition.name}": ${codec} is 8000 Hz`);
  }
  if (![8000, 16000, 24000, 48000].includes(rate)) {
    throw new TypeError(`Cannot define agent "${definition.name}": bad sample rate ${rate}`);
  }
  return Object.freeze({ ...definition, [AGENT]: true as const });
}

/** True when `value` was made by {@linkcode defineAgent}. */
export function isAgent(value: unknown): value is Agent<unknown> {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[AGENT] === true;
}
