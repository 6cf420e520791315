/**
 * One direction of a call leg's media: decode → mix channels → resample → reframe →
 * encode, between PCM16, G.711 µ-law/A-law and Opus.
 *
 * @module
 */
import { type Codec, isCodec } from "./codec.ts";
import { CodecError } from "./error.ts";
import { createFramer, FRAME_DURATIONS_MS, type FrameMs } from "./framer.ts";
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from "./g711.ts";
import {
  createOpusDecoder,
  createOpusEncoder,
  type OpusApplication,
  type OpusBackendChoice,
  type OpusDecoder,
  type OpusEncoder,
  type OpusSampleRate,
} from "./opus.ts";
import { pcm16FromBytes, pcm16ToBytes, remixChannels } from "./pcm16.ts";
import { createResampler, RESAMPLER_RATES, type ResamplerRate } from "./resampler.ts";

/**
 * One side of a transcoder: what the payloads are.
 *
 * @example
 * ```ts
 * import type { MediaFormat } from "@clutchcall/voice/codecs";
 * const phone: MediaFormat = { codec: "g711_alaw", sampleRate: 8000, frameMs: 20 };
 * ```
 */
export interface MediaFormat {
  /** Payload codec. */
  readonly codec: Codec;
  /**
   * Sample rate (8000, 16000, 24000 or 48000; G.711 is 8000). For Opus this is the rate
   * the peer decodes at (48000 for WebRTC); the stream itself is rate-independent.
   */
  readonly sampleRate: number;
  /** 1 or 2 (default 1). */
  readonly channels?: 1 | 2;
  /** Frame duration: 10, 20, 40 or 60 ms. */
  readonly frameMs: FrameMs;
}

/**
 * Opus encoder settings a transcoder passes on.
 *
 * @example
 * ```ts
 * import { createTranscoder } from "@clutchcall/voice/codecs";
 * using t = await createTranscoder({
 *   from: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
 *   to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
 *   opus: { bitrate: 24000, fec: true, packetLossPercent: 5 },
 * });
 * ```
 */
export interface TranscoderOpusOptions {
  /** Default `"voip"`. */
  readonly application?: OpusApplication;
  /** Bits per second; libopus chooses when omitted. */
  readonly bitrate?: number;
  /** 0–10 (default 5). */
  readonly complexity?: number;
  /** In-band FEC (default false). */
  readonly fec?: boolean;
  /** DTX (default false). */
  readonly dtx?: boolean;
  /** Expected loss 0–100 (default 0). */
  readonly packetLossPercent?: number;
  /** Opus backend (default `"auto"`). */
  readonly backend?: OpusBackendChoice;
}

/**
 * Options of {@linkcode createTranscoder}.
 *
 * @example
 * ```ts
 * import { createTranscoder, type TranscoderOptions } from "@clutchcall/voice/codecs";
 * const options: TranscoderOptions = {
 *   from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
 *   to: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
 * };
 * using t = await createTranscoder(options);
 * ```
 */
export interface TranscoderOptions {
  /** What comes in. */
  readonly from: MediaFormat;
  /** What goes out. */
  readonly to: MediaFormat;
  /** Settings for an Opus encoder or decoder on either side. */
  readonly opus?: TranscoderOpusOptions;
  /** Speex resampler quality 0–10 (default: the resampler's default). */
  readonly resamplerQuality?: number;
}

/**
 * Counters of a transcoder's life.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTranscoder } from "@clutchcall/voice/codecs";
 * using t = await createTranscoder({
 *   from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
 *   to: { codec: "pcm16", sampleRate: 8000, frameMs: 20 },
 * });
 * t.transcode(null);
 * assertEquals(t.stats.concealed, 1);
 * ```
 */
export interface TranscoderStats {
  /** Payloads decoded. */
  readonly decoded: number;
  /** Frames concealed: `transcode(null)` or an undecodable payload. */
  readonly concealed: number;
  /** Payloads produced. */
  readonly encoded: number;
}

/**
 * A stateful converter for one direction of one leg. Keep one per direction: codec,
 * resampler and framer state carry across calls.
 *
 * @example
 * ```ts
 * import { createTranscoder, type Transcoder } from "@clutchcall/voice/codecs";
 * using t: Transcoder = await createTranscoder({
 *   from: { codec: "pcm16", sampleRate: 8000, frameMs: 20 },
 *   to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
 * });
 * const [ulaw] = t.transcode(new Uint8Array(320));
 * ```
 */
export interface Transcoder extends Disposable {
  /** The input format. */
  readonly from: Required<MediaFormat>;
  /** The output format. */
  readonly to: Required<MediaFormat>;
  /** The rate Opus runs at internally on the input side (decode) or output side (encode). */
  readonly opusRate: number | undefined;
  /** Counters. */
  readonly stats: TranscoderStats;
  /**
   * Converts one payload, or conceals one lost frame when `payload` is `null`. A payload
   * that cannot be decoded is concealed too (and counted), never thrown. Returns the
   * output payloads completed (zero or more, in order).
   */
  transcode(payload: Uint8Array | null): Uint8Array[];
  /** Encodes what is held back, padded with silence to a whole frame. */
  flush(): Uint8Array[];
  /** Frees codec and resampler state. Closing twice is a no-op. */
  close(): void;
}

/**
 * Makes a transcoder.
 *
 * Opus runs at the lowest rate either side needs, because an Opus stream does not depend
 * on the API rate it was encoded or decoded at: a packet encoded from 8 kHz input is an
 * ordinary narrowband (SILK NB) packet that a 48 kHz WebRTC decoder plays. So µ-law 8 kHz
 * → Opus "48 kHz" encodes at an 8 kHz API rate: no 8 → 48 kHz resampling (which would only
 * add empty spectrum), SILK narrowband chosen without spending bits or analysis on empty
 * bands above 4 kHz, and an encode about 3× cheaper than at 48 kHz (see BENCHMARKS.md).
 * The other direction decodes Opus straight at 8 kHz: libopus skips the CELT bands above
 * 4 kHz and down-samples SILK itself, so no resampler runs there either. Complexity stays
 * at 5 by default: for SILK narrowband it costs about half of 10 with no audible loss in
 * a telephone band already limited by G.711.
 *
 * @throws {RangeError} for an unknown codec, a rate or frame duration the codec cannot
 * use, or a channel count other than 1 or 2.
 * @throws {CodecError} when a required Opus backend cannot load.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTranscoder } from "@clutchcall/voice/codecs";
 * using toWeb = await createTranscoder({
 *   from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
 *   to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
 * });
 * const packets = toWeb.transcode(new Uint8Array(160).fill(0xff)); // one 20 ms frame
 * const concealed = toWeb.transcode(null); // a lost frame
 * assertEquals(packets.length, 1);
 * assertEquals(concealed.length, 1);
 * ```
 */
export async function createTranscoder(options: TranscoderOptions): Promise<Transcoder> {
  const from = normalize(options.from, "source");
  const to = normalize(options.to, "target");
  const opusOptions = options.opus ?? {};

  // The rate of the PCM after decoding, and the rate the encoder is fed at.
  const decodeRate = from.codec === "opus"
    ? Math.min(from.sampleRate, to.sampleRate)
    : from.sampleRate;
  const encodeRate = to.codec === "opus" ? Math.min(to.sampleRate, decodeRate) : to.sampleRate;

  const resources: Disposable[] = [];
  try {
    const resampler = await createResampler({
      inputRate: decodeRate as ResamplerRate,
      outputRate: encodeRate as ResamplerRate,
      channels: Math.min(from.channels, to.channels) as 1 | 2,
      quality: options.resamplerQuality,
    });
    resources.push(resampler);
    const decoder = from.codec === "opus"
      ? createOpusDecoder({
        sampleRate: decodeRate as OpusSampleRate,
        channels: from.channels,
        backend: opusOptions.backend,
      })
      : undefined;
    if (decoder) resources.push(decoder);
    const encoder = to.codec === "opus"
      ? createOpusEncoder({
        sampleRate: encodeRate as OpusSampleRate,
        channels: to.channels,
        application: opusOptions.application,
        bitrate: opusOptions.bitrate,
        complexity: opusOptions.complexity,
        fec: opusOptions.fec,
        dtx: opusOptions.dtx,
        packetLossPercent: opusOptions.packetLossPercent,
        backend: opusOptions.backend,
        maxBandwidth: encodeRate <= 8000 ? "narrowband" : undefined,
      })
      : undefined;
    if (encoder) resources.push(encoder);
    const framer = createFramer({
      sampleRate: encodeRate,
      channels: to.channels,
      frameMs: to.frameMs,
    });
    return new PipelineTranscoder(from, to, decodeRate, {
      decoder,
      encoder,
      resampler,
      framer,
      opusRate: decoder ? decodeRate : encoder ? encodeRate : undefined,
    });
  } catch (error) {
    for (const resource of resources) resource[Symbol.dispose]();
    throw error;
  }
}

function normalize(format: MediaFormat, side: string): Required<MediaFormat> {
  const { codec, sampleRate, channels = 1, frameMs } = format;
  if (!isCodec(codec)) throw new RangeError(`Unknown ${side} codec: ${String(codec)}`);
  if (!RESAMPLER_RATES.includes(sampleRate as ResamplerRate)) {
    throw new RangeError(`Unsupported ${side} sample rate for ${codec}: ${sampleRate}`);
  }
  if ((codec === "g711_ulaw" || codec === "g711_alaw") && sampleRate !== 8000) {
    throw new RangeError(
      `Unsupported ${side} sample rate for ${codec}: ${sampleRate} (G.711 is 8000)`,
    );
  }
  if (channels !== 1 && channels !== 2) {
    throw new RangeError(`Unsupported ${side} channel count: ${channels}`);
  }
  if (!FRAME_DURATIONS_MS.includes(frameMs)) {
    throw new RangeError(
      `Unsupported ${side} frame duration: ${frameMs} ms (use 10, 20, 40 or 60)`,
    );
  }
  return { codec, sampleRate, channels, frameMs };
}

interface Stages {
  readonly decoder: OpusDecoder | undefined;
  readonly encoder: OpusEncoder | undefined;
  readonly resampler: Disposable & { process(input: Int16Array): Int16Array };
  readonly framer: ReturnType<typeof createFramer>;
  readonly opusRate: number | undefined;
}

/** Concealment of PCM and G.711 frames: the last frame again, halved per loss in a row. */
const CONCEALMENT_GAIN = 0.5;

class PipelineTranscoder implements Transcoder {
  readonly from: Required<MediaFormat>;
  readonly to: Required<MediaFormat>;
  readonly opusRate: number | undefined;
  readonly #stages: Stages;
  #last: Int16Array;
  #lossRun = 0;
  #closed = false;
  #decoded = 0;
  #concealed = 0;
  #encoded = 0;

  constructor(
    from: Required<MediaFormat>,
    to: Required<MediaFormat>,
    decodeRate: number,
    stages: Stages,
  ) {
    this.from = from;
    this.to = to;
    this.#stages = stages;
    this.opusRate = stages.opusRate;
    this.#last = new Int16Array(decodeRate * from.frameMs / 1000 * from.channels);
  }

  get stats(): TranscoderStats {
    return { decoded: this.#decoded, concealed: this.#concealed, encoded: this.#encoded };
  }

  transcode(payload: Uint8Array | null): Uint8Array[] {
    if (this.#closed) throw new CodecError("closed", "Cannot transcode: the transcoder is closed");
    let pcm = payload === null ? undefined : this.#decode(payload);
    if (pcm === undefined) {
      pcm = this.#conceal();
      this.#concealed++;
    } else {
      this.#decoded++;
      this.#lossRun = 0;
      this.#last = pcm;
    }
    return this.#encodeFrames(this.#stages.framer.push(this.#convert(pcm)));
  }

  flush(): Uint8Array[] {
    if (this.#closed) throw new CodecError("closed", "Cannot flush: the transcoder is closed");
    const frame = this.#stages.framer.flush();
    return frame ? this.#encodeFrames([frame]) : [];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { decoder, encoder, resampler } = this.#stages;
    decoder?.close();
    encoder?.close();
    resampler[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Decoded PCM at the decode rate, or `undefined` when the payload is undecodable. */
  #decode(payload: Uint8Array): Int16Array | undefined {
    const { codec, channels } = this.from;
    switch (codec) {
      case "g711_ulaw":
        return payload.length % channels === 0 ? decodeUlaw(payload) : undefined;
      case "g711_alaw":
        return payload.length % channels === 0 ? decodeAlaw(payload) : undefined;
      case "pcm16":
        return payload.length % (2 * channels) === 0 ? pcm16FromBytes(payload) : undefined;
      case "opus":
        try {
          return this.#stages.decoder!.decode(payload);
        } catch (error) {
          if (error instanceof CodecError && error.code !== "closed") return undefined;
          throw error;
        }
    }
  }

  #conceal(): Int16Array {
    const decoder = this.#stages.decoder;
    if (decoder) return decoder.decode(null);
    this.#lossRun++;
    const gain = CONCEALMENT_GAIN ** this.#lossRun;
    const last = this.#last;
    const out = new Int16Array(last.length);
    for (let i = 0; i < last.length; i++) out[i] = Math.round(last[i] * gain);
    return out;
  }

  /** Channels and rate: downmix before resampling, upmix after (fewer samples to filter). */
  #convert(pcm: Int16Array): Int16Array {
    const fromChannels = this.from.channels, toChannels = this.to.channels;
    const resampler = this.#stages.resampler;
    if (toChannels < fromChannels) {
      return resampler.process(remixChannels(pcm, fromChannels, toChannels));
    }
    return remixChannels(resampler.process(pcm), fromChannels, toChannels);
  }

  #encodeFrames(frames: Int16Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of frames) {
      switch (this.to.codec) {
        case "g711_ulaw":
          out.push(encodeUlaw(frame));
          break;
        case "g711_alaw":
          out.push(encodeAlaw(frame));
          break;
        case "pcm16":
          out.push(pcm16ToBytes(frame));
          break;
        case "opus":
          out.push(this.#stages.encoder!.encode(frame));
          break;
      }
    }
    this.#encoded += out.length;
    return out;
  }
}
