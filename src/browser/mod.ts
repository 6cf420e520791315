/**
 * The browser SDK: place and answer calls from a web page with Opus encoded by WebCodecs,
 * carried over MoQT on the browser's WebTransport (no WebRTC, no SFU). Served bundled as an
 * ES module at `GET /sdk/browser.js`; it uses browser APIs only.
 *
 * - {@linkcode captureMicrophone}: getUserMedia (echo cancellation, AGC, noise suppression)
 *   → MediaStreamTrackProcessor → `AudioEncoder` (Opus, 20 ms, mono).
 * - {@linkcode OpusPlayer}: `AudioDecoder` → AudioWorklet ring buffer (bounded delay,
 *   silence on underrun, late frames dropped by capture time), live stats.
 * - {@linkcode attachCaller} / {@linkcode attachCallee}: a call's two tracks over a
 *   {@linkcode BrowserMoq} connection; `attachCaller({ sid })` alone uses the page's default
 *   connection and microphone ({@linkcode configureDefaultMedia}).
 * - {@linkcode Softphone}: registration as `client:<identity>`, dial, answer, reject, hang
 *   up, mute, DTMF, status from SSE, reconnect.
 *
 * @example
 * ```ts ignore
 * import { Softphone } from "/sdk/browser.js";
 * const phone = new Softphone({ token });
 * phone.addEventListener("incoming", () => phone.answer());
 * await phone.register("alice");
 * ```
 *
 * @module
 */
export * from "./webtransport.ts";
export * from "./moq_connection.ts";
export * from "./capture.ts";
export * from "./frame_stats.ts";
export * from "./frame_decoder.ts";
export * from "./player.ts";
export * from "./call_media.ts";
export * from "./default_media.ts";
export * from "./track_monitor.ts";
export * from "./softphone.ts";
export * from "../sdk/mod.ts";
export * from "../relay/model/mod.ts";
export type {
  BidiStream,
  CloseInfo,
  MoqTransport,
  OpenStreamOptions,
} from "../relay/transport/transport.ts";
export { MoqError } from "../relay/error.ts";
export type { AudioContext, MediaStream, MediaStreamTrack } from "./web_media_types.ts";
