/**
 * What SDP negotiated for an RTP session: the audio payload type (PCMU, PCMA or Opus) and
 * the telephone-event payload type, and the voice capability the audio maps to.
 *
 * @module
 */
import type { VoiceCapability } from "../codecs/codec.ts";

/** Audio codecs an RTP leg carries. */
export type RtpAudioCodec = "g711_ulaw" | "g711_alaw" | "opus";

/**
 * One `a=rtpmap` entry (or a static payload type without one).
 *
 * @example
 * ```ts
 * import type { SdpPayloadFormat } from "./payload_types.ts";
 * const opus: SdpPayloadFormat = { payloadType: 111, encoding: "opus", clockRate: 48000, channels: 2 };
 * ```
 */
export interface SdpPayloadFormat {
  /** 0–127. */
  readonly payloadType: number;
  /** Encoding name as in SDP (`PCMU`, `PCMA`, `opus`, `telephone-event`), any case. */
  readonly encoding: string;
  /** Clock rate (8000 for G.711, 48000 for Opus). */
  readonly clockRate: number;
  /** Channels from the rtpmap (Opus says 2). */
  readonly channels?: number;
}

/**
 * The negotiated audio format.
 *
 * @example
 * ```ts
 * import type { RtpAudioFormat } from "./payload_types.ts";
 * const pcmu: RtpAudioFormat = { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 };
 * ```
 */
export interface RtpAudioFormat {
  readonly payloadType: number;
  readonly codec: RtpAudioCodec;
  /** RTP clock rate: 8000 for G.711, 48000 for Opus. */
  readonly clockRate: number;
}

/**
 * The payload types of one RTP session.
 *
 * @example
 * ```ts
 * import type { RtpPayloadMap } from "./payload_types.ts";
 * const map: RtpPayloadMap = {
 *   audio: { payloadType: 8, codec: "g711_alaw", clockRate: 8000 },
 *   telephoneEvent: { payloadType: 101, clockRate: 8000 },
 * };
 * ```
 */
export interface RtpPayloadMap {
  readonly audio: RtpAudioFormat;
  /** Absent when the peer did not negotiate RFC 4733. */
  readonly telephoneEvent?: { readonly payloadType: number; readonly clockRate: number };
}

/** Static payload types of RFC 3551 that need no rtpmap. */
const STATIC: Record<number, SdpPayloadFormat> = {
  0: { payloadType: 0, encoding: "PCMU", clockRate: 8000 },
  8: { payloadType: 8, encoding: "PCMA", clockRate: 8000 },
};

function codecOfEncoding(format: SdpPayloadFormat): RtpAudioCodec | undefined {
  const name = format.encoding.toLowerCase();
  if (name === "pcmu" && format.clockRate === 8000) return "g711_ulaw";
  if (name === "pcma" && format.clockRate === 8000) return "g711_alaw";
  if (name === "opus" && format.clockRate === 48000) return "opus";
  return undefined;
}

/**
 * Picks the payload map from SDP formats in preference order (the answer's `m=` line
 * order): the first supported audio codec, and telephone-event at that codec's clock rate
 * (or any telephone-event when none matches). Static types 0 and 8 may be given without an
 * encoding (`encoding: ""`). Returns undefined when no audio codec is supported (488).
 *
 * @example
 * ```ts
 * import { negotiatePayloadMap } from "./payload_types.ts";
 * const map = negotiatePayloadMap([
 *   { payloadType: 18, encoding: "G729", clockRate: 8000 },
 *   { payloadType: 0, encoding: "PCMU", clockRate: 8000 },
 *   { payloadType: 101, encoding: "telephone-event", clockRate: 8000 },
 * ]);
 * console.log(map?.audio.codec, map?.telephoneEvent?.payloadType); // "g711_ulaw" 101
 * ```
 */
export function negotiatePayloadMap(
  formats: readonly SdpPayloadFormat[],
): RtpPayloadMap | undefined {
  let audio: RtpAudioFormat | undefined;
  for (const given of formats) {
    const format = given.encoding ? given : STATIC[given.payloadType] ?? given;
    const codec = codecOfEncoding(format);
    if (codec) {
      audio = { payloadType: format.payloadType, codec, clockRate: format.clockRate };
      break;
    }
  }
  if (!audio) return undefined;
  const events = formats.filter((f) => f.encoding.toLowerCase() === "telephone-event");
  const event = events.find((f) => f.clockRate === audio.clockRate) ?? events[0];
  return event
    ? { audio, telephoneEvent: { payloadType: event.payloadType, clockRate: event.clockRate } }
    : { audio };
}

/**
 * The voice capability tag (`voice/g711_ulaw`, …) of the negotiated audio codec: what the
 * leg publishes on the uplink.
 *
 * @example
 * ```ts
 * import { capabilityOfRtp } from "./payload_types.ts";
 * console.log(capabilityOfRtp({ payloadType: 0, codec: "g711_ulaw", clockRate: 8000 })); // "voice/g711_ulaw"
 * ```
 */
export function capabilityOfRtp(format: RtpAudioFormat): VoiceCapability {
  return `voice/${format.codec}`;
}
