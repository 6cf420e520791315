/**
 * The built-in ASR tap: streams each call's voice tracks to a streaming speech recognizer
 * (Deepgram live, AssemblyAI v3, OpenAI realtime transcription) and puts the results on
 * the call as `transcript` events (SSE, webhooks, plugins) and into
 * `GET /v1/calls/{sid}/transcript`.
 *
 * ```json
 * { "plugins": [{ "module": "builtin:asr-tap", "options": {
 *   "provider": "deepgram", "apiKeyEnv": "DEEPGRAM_API_KEY",
 *   "tracks": ["uplink"], "language": "en", "match": "voice/*" } }] }
 * ```
 *
 * @module
 */
export { default, PROVIDERS } from "./plugin.ts";
export * from "./options.ts";
export * from "./provider.ts";
export { deepgram } from "./deepgram.ts";
export { assemblyai } from "./assemblyai.ts";
export { openai } from "./openai.ts";
export { StreamTimeline } from "./timeline.ts";
export { type AudioChunk, RecognizerLink, type RecognizerLinkOptions, redact } from "./link.ts";
export { type CallClock, tapTrack, type TrackTapOptions } from "./track_tap.ts";
