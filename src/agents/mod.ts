/**
 * AI voice agents on calls: the runtime that binds an agent to a call (bridge, paced playout,
 * turn detection and barge-in), the adapters (`media-streams` for Twilio-Media-Streams bots,
 * `openai-realtime`, in-process `module` agents declared with {@linkcode defineAgent}), the
 * offline TTS, the `agents` config section and the HTTP routes.
 *
 * @example
 * ```ts
 * import { defineAgent } from "./mod.ts";
 * export default defineAgent({
 *   name: "greeter",
 *   async start(ctx) {
 *     await ctx.say("Hello! How can I help?");
 *   },
 * });
 * ```
 *
 * @module
 */
export * from "./adapter.ts";
export * from "./config.ts";
export * from "./define.ts";
export * from "./error.ts";
export * from "./playout.ts";
export * from "./turn_detector.ts";
export { speak, type SpeakOptions } from "./tts.ts";
export { AgentSession, type AgentSessionOptions, type SessionReports } from "./session.ts";
export { AgentRuntime, type AgentRuntimeOptions } from "./runtime.ts";
export {
  AGENT_ROUTE_SCOPES,
  type AgentRoutesOptions,
  type CallsRouteKit,
  createAgentRoutes,
} from "./routes.ts";
export type * from "./calls_port.ts";
export { ASR_TURN_WAIT_MS, type AsrResult } from "./turn_text.ts";
export { mediaStreamsAdapter } from "./media_streams.ts";
export { BUILTIN_AGENTS, loadModuleAgent } from "./module_agent.ts";
export { createAdapter } from "./adapters.ts";
