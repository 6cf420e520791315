/**
 * The server process: configuration, logging, the development certificate, the HTTP app and
 * {@linkcode VoiceServer}, which ties the relay, the plugin host and HTTP together.
 *
 * @example
 * ```ts ignore
 * import { createLogger, loadConfig, VoiceServer } from "./mod.ts";
 * const config = await loadConfig(["--http-port", "0", "--moq-port", "0"], {});
 * await using server = await VoiceServer.start(config, createLogger());
 * ```
 *
 * @module
 */
export * from "./certificate.ts";
export * from "./config.ts";
export * from "./log.ts";
export * from "./server.ts";
export type {
  Authorize,
  BidiStream,
  ClientSetup,
  CloseInfo,
  ControlMessage,
  Fetch,
  FetchCancel,
  FetchError,
  FetchOk,
  FetchRange,
  ForwarderStats,
  GoAway,
  GroupConsumer,
  GroupProducer,
  Location,
  MaxRequestId,
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
  Publish,
  PublishDone,
  PublishError,
  PublishNamespace,
  PublishNamespaceCancel,
  PublishNamespaceDone,
  PublishNamespaceError,
  PublishNamespaceOk,
  PublishOk,
  Registration,
  Relay,
  RequestErrorFields,
  RequestsBlocked,
  ServerSetup,
  Session,
  SessionState,
  Subscribe,
  SubscribeError,
  SubscribeFields,
  SubscribeNamespace,
  SubscribeNamespaceError,
  SubscribeNamespaceOk,
  SubscribeOk,
  SubscribeOkFields,
  SubscribeOptions,
  SubscribeUpdate,
  SubscriptionFilter,
  TrackConsumer,
  TrackForwarder,
  TrackInfo,
  TrackProducer,
  TrackSource,
  TrackStatus,
  TrackStatusError,
  TrackStatusOk,
  Unsubscribe,
  UnsubscribeNamespace,
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
