/**
 * Voice call track conventions: `voice/<sid>/uplink` and `voice/<sid>/downlink`, capability
 * tags, grouping and capture timestamps.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { callNamespace, parseSid, sidOf } from "@clutchcall/voice/voice";
 *
 * assertEquals(callNamespace(parseSid("CA1")).join("/"), "voice/CA1");
 * assertEquals(sidOf(["voice", "CA1"]), "CA1");
 * ```
 *
 * @module
 */
export * from "./track.ts";
export type { Codec, FrameMs, MediaFormat } from "../codecs/mod.ts";
export type * from "./transcript.ts";
