/**
 * `builtin:echo`: repeats each caller turn back to the caller.
 *
 * @module
 */
import { defineAgent } from "../define.ts";

/** The echo agent. */
export default defineAgent({
  name: "echo",
  format: { codec: "pcm16", sampleRate: 16000 },
  async onTurn(turn, ctx) {
    await ctx.play(turn.pcm);
  },
});
