/**
 * The server process: configuration, logging, the development certificate, the HTTP app and
 * {@linkcode VoiceServer}, which ties the relay, the plugin host and HTTP together.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadConfig } from "@clutchcall/voice/server";
 * const config = await loadConfig(["--http-port", "0", "--moq-port", "0"], {});
 * assertEquals([config.httpPort, config.moqPort], [0, 0]); // the OS picks both ports
 * // `await using server = await VoiceServer.start(config, createLogger())` serves it (see
 * // VoiceServer's example, which starts one and asks it for /healthz).
 * ```
 *
 * @module
 */
export * from "./certificate.ts";
export * from "./config.ts";
export { configJsonSchema } from "./config_schema.ts";
export * from "../log/mod.ts"; // re-exported for compatibility: the logger now lives in the leaf module `src/log`
export * from "./server.ts";
export { StartupError } from "./startup_error.ts";
export type {
  Authorize,
  BidiStream,
  CloseInfo,
  ForwarderStats,
  GroupConsumer,
  GroupProducer,
  MoqEndpoint,
  MoqError,
  MoqObject,
  MoqTransport,
  NamespaceEvent,
  OpenStreamOptions,
  Operation,
  Origin,
  Parameters,
  ParameterValue,
  Registration,
  Relay,
  Session,
  SessionState,
  SubscribeOptions,
  TrackConsumer,
  TrackForwarder,
  TrackInfo,
  TrackProducer,
  TrackSource,
} from "../relay/mod.ts";
export {
  PLUGIN,
  type Plugin,
  type PluginContext,
  type PluginDefinition,
  type PluginHost,
  type PluginState,
  type PluginStatus,
  type PluginTeardown,
} from "../plugins/mod.ts";
export type { SipConfig } from "../sip/config.ts";
export type {
  AgentCommonConfig,
  AgentConfig,
  AgentsConfig,
  BargeInConfig,
  FonosterAgentConfig,
  MediaStreamsAgentConfig,
  ModuleAgentConfig,
  OpenAiRealtimeAgentConfig,
  TurnConfig,
} from "../agents/config.ts";
export type { WebhooksConfig } from "../calls/url_policy.ts";
export type { ClusterAdvertise, ClusterConfig } from "../cluster/config.ts";
export {
  type Grant,
  type ResourceLimits,
  type Scope,
  SCOPES,
  type TokenVerifier,
} from "../auth/mod.ts";
export type {
  InboundAction,
  InboundRoute,
  SipTransportName,
  TrunkConfig,
  TrunkCredentials,
} from "../sip/config.ts";
export type { PluginSpec } from "../plugins/host.ts";
export type { CheckResult, ReadinessCheck, ReadinessReport } from "./readiness.ts";
export { VERSION } from "./version.ts";
