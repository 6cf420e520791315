/**
 * How a voice call maps onto MoQT tracks, shared by every leg (bridge, SIP gateway,
 * recorder, browser): the namespace `["voice", sid]`, the tracks `uplink` (what the caller
 * says) and `downlink` (what is played back), the capability tags, one encoded frame per
 * object, a group every {@linkcode FRAMES_PER_GROUP} frames, and the capture time of each
 * frame as its object's `timestamp`, in µs since the Unix epoch ({@linkcode nowMicros}).
 *
 * The relay sees none of this: to it these are opaque names, tags and timestamps.
 *
 * @module
 */
import { type Codec, codecOf } from "../codecs/codec.ts";
import type { MediaFormat } from "../codecs/transcoder.ts";

export { callNamespace, parseSid, type Sid, sidOf } from "./sid.ts";

/** A call's two directions, named from the caller's point of view. */
export type VoiceDirection = "uplink" | "downlink";

/** Frames per group: 10 × 20 ms = 200 ms, the unit a slow subscriber loses at worst. */
export const FRAMES_PER_GROUP = 10;

/** The codec a voice capability tag names, or undefined for a tag that is not voice. */
export function voiceCodecOf(capability: string | undefined): Codec | undefined {
  if (!capability) return undefined;
  try {
    return codecOf(capability);
  } catch {
    return undefined; // not a codec we know: the tag is not voice
  }
}

/** Now, in µs since the Unix epoch, with sub-millisecond resolution. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The media format a voice capability tag implies on the track: G.711 is 8 kHz, `pcm16`
 * is 16 kHz (what speech models take), Opus is decoded at 48 kHz (the stream itself is
 * rate-independent); all mono, 20 ms frames.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { trackFormatOf } from "@clutchcall/voice/voice";
 * assertEquals(trackFormatOf("voice/g711_ulaw"), { codec: "g711_ulaw", sampleRate: 8000, channels: 1, frameMs: 20 });
 * ```
 */
export function trackFormatOf(capability: string | undefined): Required<MediaFormat> | undefined {
  const codec = voiceCodecOf(capability);
  if (!codec) return undefined;
  const sampleRate = codec === "opus" ? 48000 : codec === "pcm16" ? 16000 : 8000;
  return { codec, sampleRate, channels: 1, frameMs: 20 };
}
