/**
 * The ClutchCall Voice SDK: {@linkcode Voice} (calls, clients, bridge), typed results and
 * {@linkcode VoiceApiError}. Uses `fetch` only: works in Deno and in a browser bundle.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Voice } from "@clutchcall/voice/sdk";
 * import { createLogger, loadConfig, VoiceServer } from "@clutchcall/voice/server";
 * const dataDir = await Deno.makeTempDir();
 * const config = await loadConfig(
 *   ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir],
 *   {},
 * );
 * {
 *   // A server in development mode, and the token it minted.
 *   await using server = await VoiceServer.start(config, createLogger({ sink: () => {} }));
 *   const voice = new Voice({ baseUrl: server.httpUrl, token: server.devToken! });
 *   await voice.clients.add("alice");
 *   const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
 *   assertEquals(call.status, "dialing");
 *   await call.hangup(); // before alice answered
 *   assertEquals([call.status, call.endReason], ["completed", "canceled"]);
 *   const { calls } = await voice.calls.list({ limit: 5 });
 *   assertEquals(calls.map((c) => c.sid), [call.sid]);
 * }
 * await Deno.remove(dataDir, { recursive: true });
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
