/**
 * The ClutchCall Voice SDK: {@linkcode Voice} (calls, clients, bridge), typed results and
 * {@linkcode VoiceApiError}. Uses `fetch` only: works in Deno and in a browser bundle.
 *
 * @example
 * ```ts ignore
 * import { Voice } from "./mod.ts";
 * const voice = new Voice({ baseUrl: "http://127.0.0.1:8080", token });
 * const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
 * for await (const event of voice.calls.events(call.sid)) console.log(event.type);
 * ```
 *
 * @module
 */
export * from "./voice.ts";
// The handle is the SDK's `Call` (it wins over voice.ts's JSON `Call`, which is `CallJson` here).
export {
  type AgentAttachOptions,
  Call,
  type CallAgent,
  CallHandle,
  type CallOperations,
} from "./call_handle.ts";
export * from "./error.ts";
export { readSse, type SseMessage } from "./sse.ts";
export type { CallTimes, CallTransfer } from "../calls/call.ts";
export type { EndReason } from "../calls/status.ts";
export { AgentsClient, type AttachAgentParams } from "./agents.ts";
export type {
  AgentEvent,
  AsrEvent,
  DtmfEvent,
  InterruptionEvent,
  MediaEvent,
  SpeechEvent,
  StatusEvent,
  TranscriptEvent,
  TransferEvent,
  TurnEvent,
} from "../calls/events.ts";
export type { Transcript, TranscriptEntry } from "../calls/transcripts.ts";
export type { IncomingCall, MutationOptions, StreamOptions } from "./voice.ts";
export type {
  AttachOptions,
  AudioBridge,
  Bridge,
  BridgeFormat,
  BridgeFormatOptions,
  BridgeFrame,
  BridgeStats,
  BridgeTrack,
  Codec,
  FrameMs,
  MediaFormat,
  OpusApplication,
  OpusBackend,
  OpusBackendChoice,
  PlayoutStats,
  ReceiverStats,
  ResamplerRate,
  SenderStats,
  Sid,
  TranscoderOpusOptions,
  VoiceDirection,
} from "../bridge/mod.ts";
export {
  verifyWebhook,
  type VerifyWebhookOptions,
  WEBHOOK_SIGNATURE_HEADERS,
  type WebhookVerification,
} from "./webhook.ts";
