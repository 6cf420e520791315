/**
 * The README's plugin: logs every voice track the relay routes to it.
 *
 * Run the server with it (the config file names this module):
 *
 * ```sh
 * npx --yes deno@2.9.6 task start --config examples/track_logger.json
 * ```
 *
 * then place a call (e.g. `examples/originate_client.ts`): the server logs `new track` for the
 * call's uplink and downlink.
 *
 * @module
 */
import { definePlugin } from "@clutchcall/voice";

export default definePlugin<{ prefix?: string }>({
  name: "track-logger",
  setup(ctx, { prefix = "new track" }) {
    ctx.route("voice/*", async (track) => {
      ctx.log.info(prefix, { track: track.info.name, capability: track.info.capability });
      for (let group; (group = await track.nextGroup());) {
        while (await group.readObject()) { /* one encoded audio frame per object */ }
      }
    });
  },
});
