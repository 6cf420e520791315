/**
 * Voice call track conventions: `voice/<sid>/uplink` and `voice/<sid>/downlink`, capability
 * tags, grouping and capture timestamps.
 *
 * @example
 * ```ts
 * import { callNamespace, parseSid } from "./mod.ts";
 * console.log(callNamespace(parseSid("CA1")).join("/")); // "voice/CA1"
 * ```
 *
 * @module
 */
export * from "./track.ts";
export type { Codec, FrameMs, MediaFormat } from "../codecs/mod.ts";
