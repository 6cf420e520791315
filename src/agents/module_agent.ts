/**
 * The `module` adapter: runs an agent declared with `defineAgent` in process. The engine's
 * turn detection hands it each caller turn (in the codec it asked for) and DTMF; its replies
 * (audio frames, or text spoken by the offline TTS) are queued on the playout, and a barge-in
 * cuts them and tells it what was played.
 *
 * Modules load like plugins: a path (against the config file's folder), `npm:`, `jsr:`, a
 * URL, or `builtin:echo` / `builtin:ivr`.
 *
 * @module
 */
import { encodeAlaw, encodeUlaw } from "../codecs/g711.ts";
import { pcm16ToBytes } from "../codecs/pcm16.ts";
import type {
  AgentAdapter,
  AgentAudioFormat,
  AgentDriver,
  AgentLink,
  CallerFrame,
} from "./adapter.ts";
import type { ModuleAgentConfig } from "./config.ts";
import { type Agent, type AgentContext, isAgent, type ReplyOutcome } from "./define.ts";
import { messageOf } from "./session.ts";
import type { TurnSignal } from "./turn_detector.ts";
import { type AsrResult, TurnTexts } from "./turn_text.ts";
import { speak } from "./tts.ts";

/** The agents shipped with the server, loadable as `builtin:<name>`. */
export const BUILTIN_AGENTS: Readonly<Record<string, string>> = Object.freeze({
  echo: new URL("./builtin/echo.ts", import.meta.url).href,
  ivr: new URL("./builtin/ivr.ts", import.meta.url).href,
});

/**
 * The built-ins as static imports: `deno publish` sees (and rewrites) each, so they load from
 * the published package as from a checkout. Same names as {@linkcode BUILTIN_AGENTS}.
 */
const BUILTIN_LOADERS: Readonly<Record<string, () => Promise<{ default?: unknown }>>> = {
  echo: () => import("./builtin/echo.ts"),
  ivr: () => import("./builtin/ivr.ts"),
};

/**
 * Loads a module agent and makes its adapter.
 *
 * @throws {TypeError} when the module cannot be loaded or does not default-export an agent.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadModuleAgent } from "./module_agent.ts";
 * const adapter = await loadModuleAgent({ type: "module", module: "builtin:echo" });
 * assertEquals(adapter.format.codec, "pcm16");
 * ```
 */
export async function loadModuleAgent(
  config: ModuleAgentConfig,
  { baseUrl = `file://${Deno.cwd()}/` }: { readonly baseUrl?: string } = {},
): Promise<AgentAdapter> {
  const specifier = resolveSpecifier(config.module, baseUrl);
  let mod: { default?: unknown };
  try {
    // `deno publish --dry-run` warns "unable to analyze dynamic import" here, rightly and
    // harmlessly: this is the operator's own agent module, named in the config file, unknown
    // when the package is published; its specifier is absolute by now (`file:` URL, `npm:`,
    // `jsr:`, `https:`), so it resolves without the package's import map, which is all the
    // warning is about. The built-ins are static imports (BUILTIN_LOADERS).
    mod = config.module.startsWith("builtin:")
      ? await BUILTIN_LOADERS[config.module.slice("builtin:".length)]()
      : await import(specifier);
  } catch (cause) {
    throw new TypeError(`Cannot load agent module "${config.module}": ${messageOf(cause)}`, {
      cause,
    });
  }
  if (!isAgent(mod.default)) {
    throw new TypeError(
      `Cannot load agent module "${config.module}": its default export is not a defineAgent() agent`,
    );
  }
  const agent = mod.default as Agent<Record<string, unknown>>;
  const codec = agent.format?.codec ?? "pcm16";
  const format: AgentAudioFormat = {
    codec,
    sampleRate: agent.format?.sampleRate ?? (codec === "pcm16" ? 16000 : 8000),
  };
  return {
    format,
    engineBargeIn: true,
    open: (link) =>
      Promise.resolve(new ModuleDriver(agent, config.options ?? {}, format, link, baseUrl)),
  };
}

function resolveSpecifier(module: string, baseUrl: string): string {
  if (module.startsWith("builtin:")) {
    const name = module.slice("builtin:".length);
    if (!Object.hasOwn(BUILTIN_AGENTS, name)) {
      throw new TypeError(
        `Cannot load agent module "${module}": no built-in agent "${name}" (known: ${
          Object.keys(BUILTIN_AGENTS).join(", ")
        })`,
      );
    }
    return BUILTIN_AGENTS[name];
  }
  if (/^(npm|jsr|https?|file):/.test(module)) return module;
  return new URL(module, baseUrl).href;
}

class ModuleDriver implements AgentDriver {
  readonly #agent: Agent<Record<string, unknown>>;
  readonly #format: AgentAudioFormat;
  readonly #link: AgentLink;
  readonly #ctx: AgentContext<Record<string, unknown>>;
  /** Text of the replies spoken from text, by item id (for the words of an interruption). */
  readonly #texts = new Map<string, { text: string; totalMs: number }>();
  #replies = 0;
  #closed = false;
  readonly #turnTexts = new TurnTexts();

  constructor(
    agent: Agent<Record<string, unknown>>,
    options: Record<string, unknown>,
    format: AgentAudioFormat,
    link: AgentLink,
    baseUrl: string,
  ) {
    this.#agent = agent;
    this.#format = format;
    this.#link = link;
    this.#ctx = {
      sid: link.sid,
      call: link.call,
      options,
      parameters: link.parameters,
      log: link.log,
      signal: link.signal,
      baseUrl,
      play: (audio) => this.#play(audio),
      say: (text) => this.#say(text),
      stopPlayback: () => void link.clear(),
      hangup: () => link.hangup(),
      transfer: (target) => link.transfer(target),
    };
    this.#run("start", () => agent.start?.(this.#ctx));
  }

  audio(_frame: CallerFrame): void {
    // Module agents get whole turns (see turn()), not frames.
  }

  turn(signal: TurnSignal, audio: Int16Array | undefined): void {
    if (signal.type !== "turn_end" || !audio || !this.#agent.onTurn) return;
    const turn = {
      audio: this.#encode(audio),
      pcm: audio,
      startedAt: signal.startedAt,
      endedAt: signal.at,
    };
    // With an ASR tap on the call, the turn waits (bounded) for what it heard.
    this.#turnTexts.turnEnded((text) =>
      this.#run(
        "onTurn",
        () => this.#agent.onTurn?.(text === undefined ? turn : { ...turn, text }, this.#ctx),
      )
    );
  }

  transcript(result: AsrResult): void {
    this.#turnTexts.result(result);
  }

  dtmf(digit: string): void {
    this.#run("onDtmf", () => this.#agent.onDtmf?.(digit, this.#ctx));
  }

  interrupted(report: { readonly playedMs: number; readonly item?: string }): { words?: string } {
    const words = report.item === undefined
      ? undefined
      : this.#wordsOf(report.item, report.playedMs);
    this.#run(
      "onInterrupted",
      () => this.#agent.onInterrupted?.({ playedMs: report.playedMs, words }, this.#ctx),
    );
    return { words };
  }

  async close(_reason: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#turnTexts[Symbol.dispose]();
    try {
      await this.#agent.stop?.(this.#ctx);
    } catch (error) {
      this.#link.log.warn("Agent stop() threw", { error });
    }
  }

  #run(what: string, work: () => void | Promise<void>): void {
    if (this.#closed) return;
    try {
      Promise.resolve(work()).catch((error) => this.#threw(what, error));
    } catch (error) {
      this.#threw(what, error);
    }
  }

  #threw(what: string, error: unknown): void {
    if (this.#closed || this.#link.signal.aborted) return;
    this.#link.fail(`agent ${what}() threw: ${messageOf(error)}`);
  }

  #encode(pcm: Int16Array): Uint8Array {
    switch (this.#format.codec) {
      case "pcm16":
        return pcm16ToBytes(pcm);
      case "g711_ulaw":
        return encodeUlaw(pcm);
      case "g711_alaw":
        return encodeAlaw(pcm);
    }
  }

  #play(audio: Uint8Array | Int16Array, text?: string): Promise<ReplyOutcome> {
    if (this.#closed || this.#link.signal.aborted) {
      return Promise.resolve({ completed: false, playedMs: 0 });
    }
    const item = `reply-${++this.#replies}`;
    const bytes = audio instanceof Int16Array ? this.#encode(audio) : audio;
    const samples = this.#format.codec === "pcm16" ? bytes.length / 2 : bytes.length;
    const totalMs = (samples * 1000) / this.#format.sampleRate;
    if (text !== undefined) {
      this.#texts.set(item, { text, totalMs });
      if (this.#texts.size > 16) this.#texts.delete(this.#texts.keys().next().value!);
    }
    this.#link.play(bytes, item);
    return new Promise((resolve) => {
      const queued = this.#link.mark(item, (cleared) => {
        const playedMs = Math.round(this.#link.playedMs(item));
        const words = text === undefined ? undefined : this.#wordsOf(item, playedMs);
        resolve({ completed: !cleared, playedMs, ...(words === undefined ? {} : { words }) });
      });
      if (!queued) resolve({ completed: false, playedMs: 0 });
    });
  }

  async #say(text: string): Promise<ReplyOutcome> {
    let pcm: Int16Array;
    try {
      pcm = await speak(text, { sampleRate: this.#format.sampleRate }, this.#link.signal);
    } catch (error) {
      // The binding ended while the TTS worked: nothing was played.
      if (this.#link.signal.aborted) return { completed: false, playedMs: 0 };
      throw error;
    }
    return await this.#play(pcm, text);
  }

  /** The words of a text reply played in `playedMs`: by characters, cut at a word boundary. */
  #wordsOf(item: string, playedMs: number): string | undefined {
    const spoken = this.#texts.get(item);
    if (!spoken) return undefined;
    const fraction = Math.min(1, playedMs / Math.max(1, spoken.totalMs));
    const chars = Math.round(spoken.text.length * fraction);
    if (chars >= spoken.text.length) return spoken.text;
    const cut = spoken.text.slice(0, chars);
    const space = cut.lastIndexOf(" ");
    return (space > 0 ? cut.slice(0, space) : "").trim();
  }
}
