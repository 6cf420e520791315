/**
 * What SDP negotiated for an RTP session: the audio payload type (one of the codec
 * registry's RTP codecs) and the telephone-event payload type, and the voice capability the
 * audio maps to. Negotiation itself is the SIP gateway's (`src/sip/sdp.ts`), on the same
 * registry (`src/codecs/codec.ts`).
 *
 * @module
 */
import { capabilityOf, type RtpCodec, type VoiceCapability } from "../codecs/codec.ts";

/** Audio codecs an RTP leg carries: the registry's RTP codecs. */
export type RtpAudioCodec = RtpCodec;

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
  /** RFC 3389 comfort noise (8 kHz), when negotiated: sent instead of silence frames. */
  readonly comfortNoise?: { readonly payloadType: number };
}

/**
 * The voice capability tag (`voice/g711_ulaw`, …) of the negotiated audio codec: what the
 * leg publishes on the uplink.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { capabilityOfRtp } from "./payload_types.ts";
 * assertEquals(capabilityOfRtp({ payloadType: 0, codec: "g711_ulaw", clockRate: 8000 }), "voice/g711_ulaw");
 * ```
 */
export function capabilityOfRtp(format: RtpAudioFormat): VoiceCapability {
  return capabilityOf(format.codec);
}
