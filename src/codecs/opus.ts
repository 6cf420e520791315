/**
 * Opus encoders and decoders behind one interface, on two backends: the system libopus
 * through Deno FFI (`"native"`, 1.3–1.6× faster) or libopus compiled to WASM by opusscript
 * (`"wasm"`, needs no permissions). {@linkcode createOpusEncoder} and
 * {@linkcode createOpusDecoder} pick the native backend when it loads and WASM otherwise,
 * and say which one they chose.
 *
 * @module
 */
import { CodecError } from "./error.ts";
import { type DecoderCore, type EncoderCore, MAX_FRAME_SAMPLES } from "./opus_core.ts";
import {
  createNativeDecoderCore,
  createNativeEncoderCore,
  nativeOpusStatus,
} from "./opus_native.ts";
import { createWasmDecoderCore, createWasmEncoderCore } from "./opus_wasm.ts";

/**
 * Sample rates libopus encodes and decodes at.
 *
 * @example
 * ```ts
 * import type { OpusSampleRate } from "@clutchcall/voice/codecs";
 * const rate: OpusSampleRate = 48000;
 * ```
 */
export type OpusSampleRate = 8000 | 12000 | 16000 | 24000 | 48000;
/**
 * The sample rates libopus accepts.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { OPUS_SAMPLE_RATES } from "@clutchcall/voice/codecs";
 * assert(OPUS_SAMPLE_RATES.includes(16000));
 * ```
 */
export const OPUS_SAMPLE_RATES: readonly OpusSampleRate[] = [8000, 12000, 16000, 24000, 48000];
/**
 * libopus's application modes: `voip` favours intelligibility, `lowdelay` drops SILK.
 *
 * @example
 * ```ts
 * import type { OpusApplication } from "@clutchcall/voice/codecs";
 * const application: OpusApplication = "voip";
 * ```
 */
export type OpusApplication = "voip" | "audio" | "lowdelay";
/**
 * Audio bandwidths (narrowband 4 kHz … fullband 20 kHz).
 *
 * @example
 * ```ts
 * import type { OpusBandwidth } from "@clutchcall/voice/codecs";
 * const telephone: OpusBandwidth = "narrowband";
 * ```
 */
export type OpusBandwidth = "narrowband" | "mediumband" | "wideband" | "superwideband" | "fullband";
/**
 * Which implementation runs an instance.
 *
 * @example
 * ```ts
 * import { createOpusDecoder, type OpusBackend } from "@clutchcall/voice/codecs";
 * using decoder = createOpusDecoder({ sampleRate: 8000 });
 * const backend: OpusBackend = decoder.backend;
 * ```
 */
export type OpusBackend = "native" | "wasm";
/**
 * Backend choice: a fixed one, or `"auto"` (native when it loads, else WASM).
 *
 * @example
 * ```ts
 * import { createOpusEncoder, type OpusBackendChoice } from "@clutchcall/voice/codecs";
 * const backend: OpusBackendChoice = "wasm"; // no FFI permission needed
 * using encoder = createOpusEncoder({ sampleRate: 8000, backend });
 * ```
 */
export type OpusBackendChoice = OpusBackend | "auto";

/**
 * Options shared by encoders and decoders.
 *
 * @example
 * ```ts
 * import type { OpusCommonOptions } from "@clutchcall/voice/codecs";
 * const common: OpusCommonOptions = { sampleRate: 48000, channels: 2 };
 * ```
 */
export interface OpusCommonOptions {
  /** API sample rate of the PCM in and out. */
  readonly sampleRate: OpusSampleRate;
  /** 1 or 2 interleaved channels (default 1). */
  readonly channels?: 1 | 2;
  /** Backend (default `"auto"`). */
  readonly backend?: OpusBackendChoice;
}

/**
 * Options of {@linkcode createOpusEncoder}.
 *
 * @example
 * ```ts
 * import { createOpusEncoder, type OpusEncoderOptions } from "@clutchcall/voice/codecs";
 * const options: OpusEncoderOptions = { sampleRate: 48000, bitrate: 32000, fec: true, packetLossPercent: 10 };
 * using encoder = createOpusEncoder(options);
 * ```
 */
export interface OpusEncoderOptions extends OpusCommonOptions {
  /** Default `"voip"`. */
  readonly application?: OpusApplication;
  /** Target bits per second, 6000–510000; libopus chooses when omitted. */
  readonly bitrate?: number;
  /** 0–10 (default 5: half the cost of 10 for voice at a barely audible loss). */
  readonly complexity?: number;
  /** In-band forward error correction (LBRR) for the next packet's loss (default false). */
  readonly fec?: boolean;
  /** Discontinuous transmission: tiny packets during silence (default false). */
  readonly dtx?: boolean;
  /** Expected packet loss 0–100, tunes FEC (default 0). */
  readonly packetLossPercent?: number;
  /** Upper bound on the coded bandwidth, e.g. `"narrowband"` for a telephone source. */
  readonly maxBandwidth?: OpusBandwidth;
}

/**
 * Options of {@linkcode createOpusDecoder}.
 *
 * @example
 * ```ts
 * import { createOpusDecoder, type OpusDecoderOptions } from "@clutchcall/voice/codecs";
 * const options: OpusDecoderOptions = { sampleRate: 16000 };
 * using decoder = createOpusDecoder(options);
 * ```
 */
export type OpusDecoderOptions = OpusCommonOptions;

/**
 * Encodes PCM16 frames to Opus packets.
 *
 * An implementation MUST accept exactly one frame of 2.5/5/10/20/40/60 ms per call, MUST
 * throw {@linkcode CodecError} (never crash) on failure, and MUST make `close()` and
 * `[Symbol.dispose]()` idempotent, throwing `CodecError("closed")` on use after close.
 *
 * @example
 * ```ts
 * import { createOpusEncoder, type OpusEncoder } from "@clutchcall/voice/codecs";
 * using encoder: OpusEncoder = createOpusEncoder({ sampleRate: 16000 });
 * const packet = encoder.encode(new Int16Array(320)); // 20 ms
 * ```
 */
export interface OpusEncoder extends Disposable {
  /** The backend running this instance. */
  readonly backend: OpusBackend;
  /** API sample rate. */
  readonly sampleRate: OpusSampleRate;
  /** Channel count. */
  readonly channels: 1 | 2;
  /** Encodes one frame of interleaved samples; returns a fresh packet. */
  encode(pcm: Int16Array): Uint8Array;
  /** Frees the native or WASM state. Closing twice is a no-op. */
  close(): void;
}

/**
 * Decodes Opus packets to PCM16 frames.
 *
 * An implementation MUST conceal one frame of the last decoded frame size on
 * `decode(null)`, MUST throw {@linkcode CodecError} on a corrupt packet and keep working
 * for the next one, and MUST make `close()` idempotent.
 *
 * @example
 * ```ts
 * import { createOpusDecoder, type OpusDecoder } from "@clutchcall/voice/codecs";
 * using decoder: OpusDecoder = createOpusDecoder({ sampleRate: 16000 });
 * const concealed = decoder.decode(null); // 20 ms of concealment before any packet
 * ```
 */
export interface OpusDecoder extends Disposable {
  /** The backend running this instance. */
  readonly backend: OpusBackend;
  /** API sample rate. */
  readonly sampleRate: OpusSampleRate;
  /** Channel count. */
  readonly channels: 1 | 2;
  /** Whether {@linkcode OpusDecoder.decodeFec} recovers from in-band FEC (else it conceals). */
  readonly fecSupported: boolean;
  /** Samples per channel of the last frame decoded or concealed (20 ms before any). */
  readonly lastFrameSize: number;
  /**
   * Decodes a packet to interleaved samples, or conceals one lost frame of
   * `lastFrameSize` when `packet` is `null` or empty.
   */
  decode(packet: Uint8Array | null): Int16Array;
  /**
   * Rebuilds the lost frame before `nextPacket` from the FEC data it carries (then decode
   * `nextPacket` itself normally). Without FEC support or data this is concealment.
   */
  decodeFec(nextPacket: Uint8Array): Int16Array;
  /** Frees the native or WASM state. Closing twice is a no-op. */
  close(): void;
}

/** libopus constants used by both backends. @internal */
export const OPUS_APPLICATION: Readonly<Record<OpusApplication, number>> = {
  voip: 2048,
  audio: 2049,
  lowdelay: 2051,
};
/** @internal */
export const OPUS_BANDWIDTH: Readonly<Record<OpusBandwidth, number>> = {
  narrowband: 1101,
  mediumband: 1102,
  wideband: 1103,
  superwideband: 1104,
  fullband: 1105,
};
/** `OPUS_SIGNAL_VOICE`. @internal */
export const OPUS_SIGNAL_VOICE = 3001;

/**
 * Makes an Opus encoder on the native backend when libopus loads, else on WASM.
 *
 * @throws {RangeError} on an unsupported rate, channel count or setting out of range.
 * @throws {CodecError} when the requested backend cannot load.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { createOpusEncoder, opusPacketSamples } from "@clutchcall/voice/codecs";
 * using encoder = createOpusEncoder({ sampleRate: 48000, bitrate: 24000 });
 * const packet = encoder.encode(new Int16Array(960)); // one 20 ms frame
 * assert(encoder.backend === "native" || encoder.backend === "wasm");
 * assertEquals(opusPacketSamples(packet), 960);
 * ```
 */
export function createOpusEncoder(options: OpusEncoderOptions): OpusEncoder {
  const {
    sampleRate,
    channels = 1,
    application = "voip",
    bitrate,
    complexity = 5,
    fec = false,
    dtx = false,
    packetLossPercent = 0,
    maxBandwidth,
  } = options;
  checkCommon(sampleRate, channels);
  if (!(application in OPUS_APPLICATION)) {
    throw new RangeError(`Invalid Opus application: ${application}`);
  }
  checkRange("bitrate", bitrate, 6000, 510000);
  checkRange("complexity", complexity, 0, 10);
  checkRange("packet loss percentage", packetLossPercent, 0, 100);
  if (maxBandwidth !== undefined && !(maxBandwidth in OPUS_BANDWIDTH)) {
    throw new RangeError(`Invalid Opus bandwidth: ${maxBandwidth}`);
  }
  const backend = chooseBackend(options.backend);
  const appCode = OPUS_APPLICATION[application];
  const core = backend === "native"
    ? createNativeEncoderCore(sampleRate, channels, appCode)
    : createWasmEncoderCore(sampleRate, channels, appCode);
  try {
    if (bitrate !== undefined) core.set("bitrate", bitrate);
    core.set("complexity", complexity);
    core.set("inband_fec", fec ? 1 : 0);
    core.set("packet_loss_perc", packetLossPercent);
    core.set("dtx", dtx ? 1 : 0);
    if (application === "voip") core.set("signal", OPUS_SIGNAL_VOICE);
    if (maxBandwidth !== undefined) core.set("max_bandwidth", OPUS_BANDWIDTH[maxBandwidth]);
  } catch (error) {
    core.destroy();
    throw error;
  }
  return new Encoder(core, backend, sampleRate, channels);
}

/**
 * Makes an Opus decoder on the native backend when libopus loads, else on WASM.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createOpusDecoder, createOpusEncoder } from "@clutchcall/voice/codecs";
 * using encoder = createOpusEncoder({ sampleRate: 16000 });
 * using decoder = createOpusDecoder({ sampleRate: 16000 });
 * const pcm = decoder.decode(encoder.encode(new Int16Array(320)));
 * const concealed = decoder.decode(null); // a lost packet
 * assertEquals(pcm.length, 320);
 * assertEquals(concealed.length, 320);
 * ```
 */
export function createOpusDecoder(options: OpusDecoderOptions): OpusDecoder {
  const { sampleRate, channels = 1 } = options;
  checkCommon(sampleRate, channels);
  const backend = chooseBackend(options.backend);
  const core = backend === "native"
    ? createNativeDecoderCore(sampleRate, channels)
    : createWasmDecoderCore(sampleRate, channels);
  return new Decoder(core, backend, sampleRate, channels);
}

/**
 * Whether the native backend loads here, and if not, why. Loading is attempted once.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { opusNativeAvailability } from "@clutchcall/voice/codecs";
 * const { available, reason } = opusNativeAvailability();
 * assertEquals(typeof reason === "string", !available); // a reason exactly when unavailable
 * ```
 */
export function opusNativeAvailability(): { available: boolean; reason?: string } {
  return nativeOpusStatus();
}

let fallbackLogged = false;

function chooseBackend(choice: OpusBackendChoice = "auto"): OpusBackend {
  if (choice === "wasm") return "wasm";
  const status = nativeOpusStatus();
  if (status.available) return "native";
  if (choice === "native") {
    throw new CodecError("backend_unavailable", `Cannot load native Opus: ${status.reason}`);
  }
  if (!fallbackLogged) {
    fallbackLogged = true;
    console.warn(`Opus: using the WASM backend, native libopus unavailable: ${status.reason}`);
  }
  return "wasm";
}

function checkCommon(sampleRate: number, channels: number): void {
  if (!OPUS_SAMPLE_RATES.includes(sampleRate as OpusSampleRate)) {
    throw new RangeError(`Invalid Opus sample rate: ${sampleRate}`);
  }
  if (channels !== 1 && channels !== 2) {
    throw new RangeError(`Invalid Opus channel count: ${channels}`);
  }
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid Opus ${name}: ${value} (expected ${min}–${max})`);
  }
}

const coreRegistry = new FinalizationRegistry<{ destroy(): void }>((core) => core.destroy());

/**
 * What an encoder and a decoder share: the native or WASM core each owns, registered with
 * {@linkcode coreRegistry} as a backstop and released by the first {@linkcode close}.
 */
abstract class CoreOwner<Core extends { destroy(): void }> implements Disposable {
  readonly backend: OpusBackend;
  readonly sampleRate: OpusSampleRate;
  readonly channels: 1 | 2;
  readonly #role: "encoder" | "decoder";
  #core: Core | undefined;

  constructor(
    role: "encoder" | "decoder",
    core: Core,
    backend: OpusBackend,
    sampleRate: OpusSampleRate,
    channels: 1 | 2,
  ) {
    this.#role = role;
    this.#core = core;
    this.backend = backend;
    this.sampleRate = sampleRate;
    this.channels = channels;
    coreRegistry.register(this, core, this);
  }

  close(): void {
    const core = this.#core;
    if (!core) return;
    this.#core = undefined;
    coreRegistry.unregister(this);
    core.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The core, for `action`; throws a `closed` {@linkcode CodecError} after close. */
  protected open(action: string): Core {
    if (!this.#core) {
      throw new CodecError("closed", `Cannot ${action}: the Opus ${this.#role} is closed`);
    }
    return this.#core;
  }
}

class Encoder extends CoreOwner<EncoderCore> implements OpusEncoder {
  readonly #validFrameSizes: ReadonlySet<number>;

  constructor(
    core: EncoderCore,
    backend: OpusBackend,
    sampleRate: OpusSampleRate,
    channels: 1 | 2,
  ) {
    super("encoder", core, backend, sampleRate, channels);
    // 2.5, 5, 10, 20, 40, 60 ms
    this.#validFrameSizes = new Set([1, 2, 4, 8, 16, 24].map((k) => k * sampleRate / 400));
  }

  encode(pcm: Int16Array): Uint8Array {
    const core = this.open("encode");
    const frameSize = pcm.length / this.channels;
    if (!this.#validFrameSizes.has(frameSize)) {
      throw new RangeError(
        `Cannot encode Opus: ${pcm.length} samples is not a 2.5–60 ms frame at ${this.sampleRate} Hz × ${this.channels}`,
      );
    }
    return core.encode(pcm, frameSize);
  }
}

class Decoder extends CoreOwner<DecoderCore> implements OpusDecoder {
  readonly fecSupported: boolean;
  #lastFrameSize: number;

  constructor(
    core: DecoderCore,
    backend: OpusBackend,
    sampleRate: OpusSampleRate,
    channels: 1 | 2,
  ) {
    super("decoder", core, backend, sampleRate, channels);
    this.fecSupported = core.fecSupported;
    this.#lastFrameSize = sampleRate / 50;
  }

  get lastFrameSize(): number {
    return this.#lastFrameSize;
  }

  decode(packet: Uint8Array | null): Int16Array {
    const core = this.open("decode");
    if (packet === null || packet.length === 0) {
      return core.decode(null, this.#lastFrameSize, false);
    }
    const pcm = core.decode(packet, MAX_FRAME_SAMPLES, false);
    this.#lastFrameSize = pcm.length / this.channels;
    return pcm;
  }

  decodeFec(nextPacket: Uint8Array): Int16Array {
    const core = this.open("decode FEC");
    if (!core.fecSupported || nextPacket.length === 0) {
      return core.decode(null, this.#lastFrameSize, false);
    }
    return core.decode(nextPacket, this.#lastFrameSize, true);
  }
}
