/**
 * One adapter per configured agent, by its `type`.
 *
 * @module
 */
import type { AgentAdapter } from "./adapter.ts";
import type { AgentConfig } from "./config.ts";
import { fonosterAdapter } from "./fonoster.ts";
import { mediaStreamsAdapter } from "./media_streams.ts";
import { loadModuleAgent } from "./module_agent.ts";

/**
 * Makes the adapter of agent `name` (loading its module, for `module` agents).
 *
 * @throws {TypeError} when a module cannot be loaded.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createAdapter } from "./adapters.ts";
 * const adapter = await createAdapter("bot", { type: "media-streams", url: "ws://127.0.0.1:9/ws" });
 * assertEquals(adapter.engineBargeIn, false); // the bot sends `clear`
 * ```
 */
export async function createAdapter(
  _name: string,
  config: AgentConfig,
  options: {
    readonly baseUrl?: string;
    /** The codec the call's leg carries (`g711_ulaw`…): Realtime agents default to it. */
    readonly legCodec?: string;
  } = {},
): Promise<AgentAdapter> {
  switch (config.type) {
    case "media-streams":
      return mediaStreamsAdapter(config);
    case "module":
      return await loadModuleAgent(config, options);
    case "fonoster":
      return fonosterAdapter(config);
    case "openai-realtime": {
      const { openaiRealtimeAdapter } = await import("./openai_realtime.ts");
      return openaiRealtimeAdapter(config, options.legCodec);
    }
  }
}
