/**
 * An AI voice agent in process, declared with `defineAgent`: when bound to a call it greets
 * the caller (a 660 Hz "hello" tone, so the example needs no speech models) and answers each
 * caller turn with a short 880 Hz tone. A real agent calls its speech recognizer and model in
 * `onTurn` and answers with `ctx.say(text)` (offline TTS) or `ctx.play(audio)`.
 *
 * The server loads it as the agent `greeter` from `examples/agent.json`:
 *
 * ```sh
 * npx --yes deno@2.9.6 task start --config examples/agent.json
 * ```
 *
 * @module
 */
import { defineAgent } from "@clutchcall/voice";

/** `seconds` of a sine tone, PCM16 at 16 kHz. */
function tone(hz: number, seconds: number): Int16Array {
  const samples = new Int16Array(Math.round(16000 * seconds));
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(8000 * Math.sin(2 * Math.PI * hz * i / 16000));
  }
  return samples;
}

export default defineAgent({
  name: "greeter",
  format: { codec: "pcm16", sampleRate: 16000 },
  async start(ctx) {
    ctx.log.info("greeting the caller", { from: ctx.call.from });
    await ctx.play(tone(660, 1.5));
  },
  async onTurn(turn, ctx) {
    ctx.log.info("caller turn", { ms: (turn.endedAt - turn.startedAt) / 1000 });
    await ctx.play(tone(880, 0.5));
  },
});
