/**
 * `builtin:ivr`: plays a prompt (text spoken by the offline TTS, or a WAV file) and maps DTMF
 * digits to another prompt, a transfer, or a hangup.
 *
 * ```json
 * { "type": "module", "module": "builtin:ivr", "options": {
 *     "prompt": "Press 1 for sales, 2 for support, 9 to hang up.",
 *     "digits": {
 *       "1": { "prompt": { "wav": "./sales.wav" } },
 *       "2": { "transfer": { "agent": "support" } },
 *       "3": { "transfer": { "to": "client:alice" } },
 *       "9": { "hangup": true, "prompt": "Goodbye." }
 *     },
 *     "invalid": "Sorry, that is not an option."
 * } }
 * ```
 *
 * @module
 */
import { decodeWav } from "../../codecs/wav.ts";
import { type AgentContext, defineAgent } from "../define.ts";
import { resample } from "../tts_synth.ts";

/** A prompt: text for the TTS, or a WAV file (relative to the config file). */
export type IvrPrompt = string | { readonly text: string } | { readonly wav: string };

/** What a digit does. */
export interface IvrAction {
  /** Play this prompt (after a `hangup`, played before hanging up). */
  readonly prompt?: IvrPrompt;
  /** Hand the caller on. */
  readonly transfer?: { readonly agent: string } | { readonly to: string };
  /** Hang up (after the prompt, if any). */
  readonly hangup?: boolean;
}

/** The IVR's options. */
export interface IvrOptions {
  /** The greeting, played when the IVR is bound to the call. */
  readonly prompt?: IvrPrompt;
  /** Digit → action. */
  readonly digits?: Readonly<Record<string, IvrAction>>;
  /** Played for a digit with no action. */
  readonly invalid?: IvrPrompt;
}

const RATE = 8000;

async function audioOf(
  prompt: IvrPrompt,
  ctx: AgentContext<IvrOptions>,
): Promise<Int16Array | string> {
  if (typeof prompt === "string") return prompt;
  if ("text" in prompt) return prompt.text;
  const wav = decodeWav(await Deno.readFile(new URL(prompt.wav, ctx.baseUrl)));
  return resample(wav.samples, wav.sampleRate, RATE);
}

async function play(prompt: IvrPrompt | undefined, ctx: AgentContext<IvrOptions>): Promise<void> {
  if (prompt === undefined) return;
  const audio = await audioOf(prompt, ctx);
  await (typeof audio === "string" ? ctx.say(audio) : ctx.play(audio));
}

/** The IVR agent. */
export default defineAgent<IvrOptions>({
  name: "ivr",
  format: { codec: "pcm16", sampleRate: RATE },
  async start(ctx) {
    await play(ctx.options.prompt, ctx);
  },
  async onDtmf(digit, ctx) {
    const action = ctx.options.digits?.[digit];
    ctx.log.info("IVR digit", { digit, action: action ? Object.keys(action) : "invalid" });
    ctx.stopPlayback();
    if (!action) return await play(ctx.options.invalid, ctx);
    await play(action.prompt, ctx);
    if (action.transfer) await ctx.transfer(action.transfer);
    else if (action.hangup) await ctx.hangup();
  },
});
