/**
 * The codec layer: G.711 µ-law/A-law, PCM16, Opus (native libopus or WASM), resampling,
 * framing, WAV files and per-direction transcoding between them. Pure computation: no
 * I/O, no network, nothing from the relay.
 *
 * ```ts
 * import { createTranscoder } from "@clutchcall/voice/codecs";
 *
 * using toCaller = await createTranscoder({
 *   from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
 *   to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
 * });
 * if (!toCaller) throw new Error("Opus to µ-law is a supported transcoding");
 * ```
 *
 * @module
 */
export * from "./codec.ts";
export * from "./error.ts";
export * from "./framer.ts";
export * from "./g711.ts";
export {
  createOpusDecoder,
  createOpusEncoder,
  OPUS_SAMPLE_RATES,
  type OpusApplication,
  type OpusBackend,
  type OpusBackendChoice,
  type OpusBandwidth,
  type OpusCommonOptions,
  type OpusDecoder,
  type OpusDecoderOptions,
  type OpusEncoder,
  type OpusEncoderOptions,
  opusNativeAvailability,
  type OpusSampleRate,
} from "./opus.ts";
export { opusShimPath } from "./opus_native.ts";
export * from "./opus_packet.ts";
export * from "./pcm16.ts";
export * from "./resampler.ts";
export * from "./transcoder.ts";
export * from "./wav.ts";
