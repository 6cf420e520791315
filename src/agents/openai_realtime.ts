/**
 * The `openai-realtime` adapter (placeholder until the client lands).
 *
 * @module
 */
import type { AgentAdapter } from "./adapter.ts";
import type { OpenAiRealtimeAgentConfig } from "./config.ts";

/** Makes the adapter for one configured Realtime server. */
export function openaiRealtimeAdapter(_config: OpenAiRealtimeAgentConfig): AgentAdapter {
  throw new TypeError("The openai-realtime adapter is not available in this build");
}
