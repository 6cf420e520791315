/**
 * What a bridge user asks for (codec, rate, channels, frame duration), checked before any
 * network work, and the frame sizes each fixed-size codec implies.
 *
 * @module
 */
import { type Codec, isCodec } from "../codecs/codec.ts";
import { FRAME_DURATIONS_MS, type FrameMs } from "../codecs/framer.ts";
import { RESAMPLER_RATES, type ResamplerRate } from "../codecs/resampler.ts";
import type { MediaFormat } from "../codecs/transcoder.ts";

/**
 * The audio format on the application's side of a bridge.
 *
 * @example
 * ```ts
 * import type { BridgeFormat } from "@clutchcall/voice/bridge";
 * const forAsr: BridgeFormat = { codec: "pcm16", sampleRate: 16000, channels: 1, frameMs: 20 };
 * ```
 */
export interface BridgeFormat extends Required<MediaFormat> {
  /** Sample rate in Hz: 8000, 16000, 24000 or 48000 (G.711 is 8000). */
  readonly sampleRate: ResamplerRate;
  /** Frame duration: 10, 20, 40 or 60 ms. */
  readonly frameMs: FrameMs;
}

/**
 * The format fields of the attach options, each optional.
 *
 * @example
 * ```ts
 * import type { BridgeFormatOptions } from "@clutchcall/voice/bridge";
 * const phone: BridgeFormatOptions = { codec: "g711_ulaw" }; // 8000 Hz, mono, 20 ms
 * ```
 */
export interface BridgeFormatOptions {
  /** Codec of the frames the application reads and writes [`"opus"`]. */
  readonly codec?: Codec;
  /**
   * Sample rate: 8000, 16000, 24000 or 48000 [48000; G.711 is always 8000, its default].
   * For Opus, the rate the application would decode at.
   */
  readonly sampleRate?: number;
  /** 1 or 2 [1]. Voice tracks are mono: stereo is up- or down-mixed. */
  readonly channels?: number;
  /** 10, 20, 40 or 60 ms [20]. */
  readonly frameMs?: number;
}

/**
 * Checks and completes a requested format.
 *
 * @throws {RangeError} for an unknown codec, a rate, channel count or frame duration that
 * cannot be used (G.711 at anything but 8000 Hz included).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveBridgeFormat } from "@clutchcall/voice/bridge";
 * assertEquals(resolveBridgeFormat({ codec: "pcm16", sampleRate: 16000 }), {
 *   codec: "pcm16",
 *   sampleRate: 16000,
 *   channels: 1,
 *   frameMs: 20,
 * });
 * ```
 */
export function resolveBridgeFormat(options: BridgeFormatOptions): BridgeFormat {
  const { codec = "opus", channels = 1, frameMs = 20 } = options;
  if (!isCodec(codec)) throw new RangeError(`Cannot attach: unknown codec "${String(codec)}"`);
  const g711 = codec === "g711_ulaw" || codec === "g711_alaw";
  const sampleRate = options.sampleRate ?? (g711 ? 8000 : 48000);
  if (!RESAMPLER_RATES.includes(sampleRate as ResamplerRate)) {
    throw new RangeError(
      `Cannot attach: unsupported sample rate ${sampleRate} (use ${RESAMPLER_RATES.join(", ")})`,
    );
  }
  if (g711 && sampleRate !== 8000) {
    throw new RangeError(`Cannot attach: ${codec} is 8000 Hz, got ${sampleRate}`);
  }
  if (channels !== 1 && channels !== 2) {
    throw new RangeError(`Cannot attach: unsupported channel count ${channels} (use 1 or 2)`);
  }
  if (!FRAME_DURATIONS_MS.includes(frameMs as FrameMs)) {
    throw new RangeError(
      `Cannot attach: unsupported frame duration ${frameMs} ms (use ${
        FRAME_DURATIONS_MS.join(", ")
      })`,
    );
  }
  return {
    codec,
    sampleRate: sampleRate as ResamplerRate,
    channels,
    frameMs: frameMs as FrameMs,
  };
}

/**
 * The exact byte length of one frame for codecs with fixed-size frames (G.711, PCM16), or
 * `undefined` for Opus, whose packets vary.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { frameBytes } from "@clutchcall/voice/bridge";
 * assertEquals(frameBytes({ codec: "g711_ulaw", sampleRate: 8000, channels: 1, frameMs: 20 }), 160);
 * ```
 */
export function frameBytes(format: Required<MediaFormat>): number | undefined {
  const samples = format.sampleRate * format.frameMs / 1000 * format.channels;
  switch (format.codec) {
    case "opus":
      return undefined;
    case "pcm16":
      return samples * 2;
    default:
      return samples;
  }
}

/**
 * One frame of silence in a fixed-size codec (PCM16 zeros, µ-law 0xFF, A-law 0xD5), or an
 * empty payload for Opus: the conventional "lost packet" that Opus decoders conceal.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { silenceFrame } from "@clutchcall/voice/bridge";
 * assertEquals(silenceFrame({ codec: "g711_ulaw", sampleRate: 8000, channels: 1, frameMs: 10 })[0], 255);
 * ```
 */
export function silenceFrame(format: Required<MediaFormat>): Uint8Array {
  const bytes = new Uint8Array(frameBytes(format) ?? 0);
  if (format.codec === "g711_ulaw") bytes.fill(0xff);
  if (format.codec === "g711_alaw") bytes.fill(0xd5);
  return bytes;
}

/**
 * True when two formats describe the same payloads (then no transcoding is needed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sameFormat } from "@clutchcall/voice/bridge";
 * const a = { codec: "opus", sampleRate: 48000, channels: 1, frameMs: 20 } as const;
 * assertEquals(sameFormat(a, { ...a, frameMs: 10 }), false);
 * ```
 */
export function sameFormat(a: Required<MediaFormat>, b: Required<MediaFormat>): boolean {
  return a.codec === b.codec && a.sampleRate === b.sampleRate && a.channels === b.channels &&
    a.frameMs === b.frameMs;
}
