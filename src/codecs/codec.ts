/**
 * The codec registry: the one place a codec is named. Each entry gives the codec's name on
 * the voice path (`g711_ulaw`, carried as the capability tag `voice/g711_ulaw`), the PCM
 * rate it works at, and how SDP spells it (`PCMU/8000`, static payload type 0). Everything
 * else — the SIP gateway's offer/answer, the RTP payload map, the capability tags — reads
 * this table, so a new codec (G.722, say) is one entry here (plus its coder).
 *
 * Modelled on LiveKit's media-sdk codec registry (`CodecInfo{SDPName, SampleRate,
 * RTPClockRate, RTPDefType, RTPIsStatic, Priority}` registered once, looked up by name).
 *
 * @module
 */

/**
 * How SDP (RFC 4566 `a=rtpmap`, RFC 3551 static types) names a codec.
 *
 * @example
 * ```ts
 * import type { SdpCodecName } from "@clutchcall/voice/codecs";
 * const pcma: SdpCodecName = { name: "PCMA", clockRate: 8000, channels: 1, payloadType: 8, static: true };
 * ```
 */
export interface SdpCodecName {
  /** The rtpmap encoding name (matched without regard to case). */
  readonly name: string;
  /** The RTP clock rate. */
  readonly clockRate: number;
  /** Channels in the rtpmap (Opus is always written `/2`, RFC 7587 §7). */
  readonly channels: number;
  /** The payload type we offer: the static one, else our dynamic choice. */
  readonly payloadType: number;
  /** True for an RFC 3551 static payload type (no rtpmap needed). */
  readonly static: boolean;
  /** The `a=fmtp` parameters we send with it, if any. */
  readonly fmtp?: string;
}

/**
 * One registry entry.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { codecInfo } from "@clutchcall/voice/codecs";
 * assertEquals(codecInfo("opus").sampleRate, 48000);
 * ```
 */
export interface CodecInfo {
  /** The codec's name on the voice path (the capability tag is `voice/<codec>`). */
  readonly codec: string;
  /** The PCM sample rate it encodes from and decodes to. */
  readonly sampleRate: number;
  /** How SDP names it; absent for codecs that never go over RTP (raw PCM16). */
  readonly sdp?: SdpCodecName;
}

/**
 * The registry, in the order a peer should prefer the codecs (Opus first, raw PCM last).
 * Adding a codec is adding an entry here.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CODEC_REGISTRY } from "@clutchcall/voice/codecs";
 * assertEquals(CODEC_REGISTRY.map((e) => e.codec), ["opus", "g711_ulaw", "g711_alaw", "pcm16"]);
 * ```
 */
export const CODEC_REGISTRY = [
  {
    codec: "opus",
    sampleRate: 48000,
    sdp: {
      name: "opus",
      clockRate: 48000,
      channels: 2,
      payloadType: 111,
      static: false,
      fmtp: "useinbandfec=1",
    },
  },
  {
    codec: "g711_ulaw",
    sampleRate: 8000,
    sdp: { name: "PCMU", clockRate: 8000, channels: 1, payloadType: 0, static: true },
  },
  {
    codec: "g711_alaw",
    sampleRate: 8000,
    sdp: { name: "PCMA", clockRate: 8000, channels: 1, payloadType: 8, static: true },
  },
  { codec: "pcm16", sampleRate: 48000 },
] as const satisfies readonly CodecInfo[];

/**
 * One entry of {@linkcode CODEC_REGISTRY}, with its literal names.
 *
 * @example
 * ```ts
 * import type { CodecEntry } from "@clutchcall/voice/codecs";
 * const names = (e: CodecEntry) => [e.codec, e.sampleRate];
 * ```
 */
export type CodecEntry = (typeof CODEC_REGISTRY)[number];

/**
 * A codec a voice track can carry.
 *
 * @example
 * ```ts
 * import type { Codec } from "@clutchcall/voice/codecs";
 * const codec: Codec = "g711_ulaw";
 * ```
 */
export type Codec = CodecEntry["codec"];

/**
 * A codec that can be negotiated in SDP and carried over RTP.
 *
 * @example
 * ```ts
 * import type { RtpCodec } from "@clutchcall/voice/codecs";
 * const codec: RtpCodec = "g711_alaw";
 * ```
 */
export type RtpCodec = Extract<CodecEntry, { sdp: SdpCodecName }>["codec"];

/**
 * Every codec, in the order a peer should prefer them (Opus first, raw PCM last).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CODECS } from "@clutchcall/voice/codecs";
 * assertEquals(CODECS[0], "opus");
 * ```
 */
export const CODECS: readonly Codec[] = CODEC_REGISTRY.map((e) => e.codec);

/**
 * The codecs that go over RTP, in preference order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RTP_CODECS } from "@clutchcall/voice/codecs";
 * assertEquals(RTP_CODECS.includes("g711_ulaw"), true);
 * assertEquals(RTP_CODECS.includes("pcm16" as never), false);
 * ```
 */
export const RTP_CODECS: readonly RtpCodec[] = CODEC_REGISTRY.flatMap((e) =>
  "sdp" in e ? [e.codec] : []
);

/**
 * The registry entry of a codec.
 *
 * @throws {RangeError} for an unknown codec name.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { codecInfo } from "@clutchcall/voice/codecs";
 * assertEquals(codecInfo("g711_alaw").sdp?.name, "PCMA");
 * ```
 */
export function codecInfo<C extends Codec>(codec: C): CodecInfo & { codec: C } {
  const entry = CODEC_REGISTRY.find((e) => e.codec === codec);
  if (!entry) throw new RangeError(`Unknown codec: ${String(codec)}`);
  return entry as CodecInfo & { codec: C };
}

/**
 * How SDP names an RTP codec.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sdpNameOf } from "@clutchcall/voice/codecs";
 * assertEquals(sdpNameOf("g711_ulaw").payloadType, 0);
 * ```
 */
export function sdpNameOf(codec: RtpCodec): SdpCodecName {
  return codecInfo(codec).sdp!;
}

/**
 * The RTP codec an SDP format names: by rtpmap encoding name and clock rate (any case), or,
 * with no rtpmap (`encoding` empty), by static payload type. Undefined when it is not one we
 * carry.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { rtpCodecOfSdp } from "@clutchcall/voice/codecs";
 * assertEquals(rtpCodecOfSdp({ encoding: "pcma", clockRate: 8000 }), "g711_alaw");
 * assertEquals(rtpCodecOfSdp({ encoding: "", clockRate: 0, payloadType: 0 }), "g711_ulaw");
 * assertEquals(rtpCodecOfSdp({ encoding: "G729", clockRate: 8000 }), undefined);
 * ```
 */
export function rtpCodecOfSdp(
  format: { readonly encoding: string; readonly clockRate: number; readonly payloadType?: number },
): RtpCodec | undefined {
  const name = format.encoding.toLowerCase();
  for (const entry of CODEC_REGISTRY) {
    if (!("sdp" in entry)) continue;
    const sdp: SdpCodecName = entry.sdp;
    if (name === "") {
      if (sdp.static && sdp.payloadType === format.payloadType) return entry.codec;
    } else if (sdp.name.toLowerCase() === name && sdp.clockRate === format.clockRate) {
      return entry.codec;
    }
  }
  return undefined;
}

/**
 * A capability tag naming a codec.
 *
 * @example
 * ```ts
 * import type { VoiceCapability } from "@clutchcall/voice/codecs";
 * const tag: VoiceCapability = "voice/opus";
 * ```
 */
export type VoiceCapability = `voice/${Codec}`;

/**
 * True when `value` names a codec.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isCodec } from "@clutchcall/voice/codecs";
 * assertEquals(isCodec("opus"), true);
 * assertEquals(isCodec("g729"), false);
 * ```
 */
export function isCodec(value: unknown): value is Codec {
  return typeof value === "string" && (CODECS as readonly string[]).includes(value);
}

/**
 * The capability tag of a codec.
 *
 * @throws {RangeError} for an unknown codec name.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { capabilityOf } from "@clutchcall/voice/codecs";
 * assertEquals(capabilityOf("g711_ulaw"), "voice/g711_ulaw");
 * ```
 */
export function capabilityOf(codec: Codec): VoiceCapability {
  if (!isCodec(codec)) throw new RangeError(`Unknown codec: ${String(codec)}`);
  return `voice/${codec}`;
}

/**
 * The codec a capability tag names.
 *
 * @throws {RangeError} when the tag is not `voice/<codec>` for a known codec.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { codecOf } from "@clutchcall/voice/codecs";
 * assertEquals(codecOf("voice/opus"), "opus");
 * ```
 */
export function codecOf(capability: string): Codec {
  const codec = capability.startsWith("voice/") ? capability.slice("voice/".length) : undefined;
  if (!isCodec(codec)) throw new RangeError(`Unknown voice capability: ${capability}`);
  return codec;
}
