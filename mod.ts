/**
 * ClutchCall Voice: a plugin-based media server for voice calls on MoQT.
 *
 * This entry is what users and plugin authors import:
 *
 * - {@linkcode definePlugin} and the plugin types, to write plugins published on JSR;
 * - {@linkcode MoqClient} and the track model, to publish and subscribe call tracks
 *   (`voice/<sid>/uplink`, `voice/<sid>/downlink`) through a running server;
 * - the codecs (G.711, PCM16, Opus, resampling, framing, transcoding);
 * - {@linkcode Voice}, the typed SDK for the Calls API (`voice.calls`, `voice.clients`);
 * - {@linkcode AudioBridge} (`attach`, `attachCaller`): two-way audio on a call in the codec you ask for;
 * - {@linkcode defineAgent} and its types, to write AI voice agents run in process
 *   (`"agents": { "<name>": { "type": "module", "module": "…" } }`).
 *
 * Server code lives under `@clutchcall/voice/server`, the relay under `/relay`.
 *
 * @example
 * ```ts
 * import { definePlugin } from "@clutchcall/voice";
 *
 * export default definePlugin({
 *   name: "track-logger",
 *   setup(ctx) {
 *     ctx.route("voice/*", (track) => {
 *       ctx.log.info("New call track", { name: track.info.name, capability: track.info.capability });
 *       track.close();
 *     });
 *   },
 * });
 * ```
 *
 * @module
 */
export {
  definePlugin,
  PLUGIN,
  type Plugin,
  type PluginContext,
  type PluginDefinition,
  type PluginTeardown,
} from "./src/plugins/define.ts";
export {
  AGENT,
  type Agent,
  type AgentContext,
  type AgentDefinition,
  type CallerTurn,
  defineAgent,
  type ModuleAgentFormat,
  type ReplyOutcome,
} from "./src/agents/define.ts";
export { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "./src/log/mod.ts";
export {
  type BidiStream,
  type CapabilityPattern,
  type CloseInfo,
  type ConnectMoqOptions,
  type ForwarderStats,
  type GroupConsumer,
  type GroupProducer,
  MoqClient,
  type MoqClientOptions,
  MoqError,
  type MoqObject,
  type MoqTransport,
  type NamespaceEvent,
  type OpenStreamOptions,
  type Origin,
  type Parameters,
  type ParameterValue,
  type Registration,
  type Session,
  type SessionState,
  type SubscribeOptions,
  type TrackConsumer,
  TrackError,
  type TrackErrorReason,
  type TrackForwarder,
  type TrackInfo,
  type TrackProducer,
  type TrackSource,
} from "./src/relay/mod.ts";
export * from "./src/codecs/mod.ts";
export {
  type AgentEvent,
  AgentsClient,
  type AsrEvent,
  type AttachAgentParams,
  Call,
  type CallAgent,
  type CallDirection,
  type CallEvent,
  CallHandle,
  type CallJson,
  CallsClient,
  type CallStatus,
  type CallTimes,
  type CallTransfer,
  type ClientRegistration,
  ClientsClient,
  type DtmfEvent,
  type EndReason,
  type IncomingCall,
  type IncomingEvent,
  type InterruptionEvent,
  type ListParams,
  type MediaEvent,
  type MutationOptions,
  type OriginateParams,
  type Problem,
  type SpeechEvent,
  type StatusEvent,
  type StreamOptions,
  type Transcript,
  type TranscriptEntry,
  type TranscriptEvent,
  type TransferEvent,
  type TurnEvent,
  Voice,
  VoiceApiError,
  type VoiceOptions,
} from "./src/sdk/mod.ts";
export {
  attach,
  attachCaller,
  type AttachOptions,
  AudioBridge,
  type Bridge,
  type BridgeConnection,
  type BridgeFormat,
  type BridgeFormatOptions,
  type BridgeFrame,
  type BridgeStats,
  type BridgeTrack,
  type BridgeVia,
  createBridge,
  type InProcessTracks,
  type PlayoutStats,
  type ReceiverStats,
  type SenderStats,
  type Sid,
  type VoiceDirection,
} from "./src/bridge/mod.ts";
