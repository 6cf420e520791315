/**
 * RTP engines: the layer under `RtpSession` that binds, receives and sends its datagrams —
 * `deno` (Deno UDP sockets), `io_uring` (native shards over SPSC rings, `ffi/uring`) and
 * `xdp` (AF_XDP, `ffi/xdp`) — and the choice between them (`sip.rtpEngine`).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { openRtpEngine } from "./mod.ts";
 * const engine = openRtpEngine("auto"); // the fastest engine that runs here
 * assert(["xdp", "io_uring", "deno"].includes(engine.name));
 * await engine.close();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export { denoRtpEngine } from "./deno_engine.ts";
export {
  nativeEngineUnavailable,
  NativeRtpEngine,
  type NativeRtpEngineOptions,
} from "./native_engine.ts";
export {
  defaultRtpEngine,
  isRtpEngineChoice,
  openRtpEngine,
  rtpEngineOverride,
  rtpEngineUnavailable,
} from "./select.ts";
