/**
 * A module agent for the playback tests: asks for PCM16 at 8 kHz and, when bound, plays
 * 3 s of `turns-8k.wav` (from 1.5 s: speech) as one reply.
 *
 * @module
 */
import { defineAgent } from "../../src/agents/mod.ts";
import { turns8k } from "./_audio.ts";

/** What the agent plays: 3 s of speech at 8 kHz. */
export const REPLY: Int16Array = turns8k().subarray(12_000, 36_000);

export default defineAgent({
  name: "pcm8k",
  format: { codec: "pcm16", sampleRate: 8000 },
  async start(ctx) {
    await ctx.play(REPLY);
  },
});
