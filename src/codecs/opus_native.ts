/**
 * The native Opus backend: the system libopus through Deno FFI, plus a small C shim
 * (`ffi/opus/opus_shim.c`) for the variadic CTL calls.
 *
 * Library lookup: `CLUTCHCALL_OPUS_LIB` when set, else the loader's `libopus.so.0`. The
 * shim: `CLUTCHCALL_OPUS_SHIM` when set, else the local build `ffi/build/libopus_shim.so`
 * made by `deno task build:native` (which the test setup runs). Nothing is compiled here.
 * The build used to run here on first use, into `libopus_shim.so.<pid>.tmp` then renamed:
 * under `deno test --parallel` every test file is a worker of the same process (one pid),
 * so two workers loading Opus while the shim looked stale ran gcc into the same temporary
 * file at once, and a worker could `dlopen` a shared object the other gcc was still
 * writing — a native crash with no test failure, the crash seen in a full suite run
 * (issue 17). A build at run time also needs gcc and write access on every server. Needs
 * `--allow-ffi`; when anything is missing, {@linkcode nativeOpusStatus} says why and the
 * factories in `opus.ts` fall back to WASM (and log it once).
 *
 * @module
 */
import { CodecError } from "./error.ts";
import {
  type DecoderCore,
  type EncoderCore,
  type EncoderSetting,
  MAX_FRAME_SAMPLES,
} from "./opus_core.ts";

/** libopus, as declared in opus.h (parameter names from the header). */
const OPUS_SYMBOLS = {
  /** const char *opus_get_version_string(void) */
  opus_get_version_string: { parameters: [], result: "pointer" },
  /** const char *opus_strerror(int error) */
  opus_strerror: { parameters: ["i32"], result: "pointer" },
  /** OpusEncoder *opus_encoder_create(opus_int32 Fs, int channels, int application, int *error) */
  opus_encoder_create: { parameters: ["i32", "i32", "i32", "buffer"], result: "pointer" },
  /**
   * opus_int32 opus_encode(OpusEncoder *st, const opus_int16 *pcm, int frame_size,
   *                        unsigned char *data, opus_int32 max_data_bytes)
   */
  opus_encode: { parameters: ["pointer", "buffer", "i32", "buffer", "i32"], result: "i32" },
  /** void opus_encoder_destroy(OpusEncoder *st) */
  opus_encoder_destroy: { parameters: ["pointer"], result: "void" },
  /** OpusDecoder *opus_decoder_create(opus_int32 Fs, int channels, int *error) */
  opus_decoder_create: { parameters: ["i32", "i32", "buffer"], result: "pointer" },
  /**
   * int opus_decode(OpusDecoder *st, const unsigned char *data, opus_int32 len,
   *                 opus_int16 *pcm, int frame_size, int decode_fec)
   * `data` is a pointer so that NULL requests packet-loss concealment.
   */
  opus_decode: {
    parameters: ["pointer", "pointer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  /** void opus_decoder_destroy(OpusDecoder *st) */
  opus_decoder_destroy: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** ffi/opus/opus_shim.c (parameter names from its source). */
const SHIM_SYMBOLS = {
  /** uint32_t cc_opus_shim_abi(void) */
  cc_opus_shim_abi: { parameters: [], result: "u32" },
  /** int cc_opus_shim_bind(const char *libopus_path) */
  cc_opus_shim_bind: { parameters: ["buffer"], result: "i32" },
  /** int cc_opus_encoder_set_bitrate(OpusEncoder *st, opus_int32 bitrate) */
  cc_opus_encoder_set_bitrate: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_complexity(OpusEncoder *st, opus_int32 complexity) */
  cc_opus_encoder_set_complexity: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_inband_fec(OpusEncoder *st, opus_int32 enabled) */
  cc_opus_encoder_set_inband_fec: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_packet_loss_perc(OpusEncoder *st, opus_int32 percent) */
  cc_opus_encoder_set_packet_loss_perc: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_dtx(OpusEncoder *st, opus_int32 enabled) */
  cc_opus_encoder_set_dtx: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_max_bandwidth(OpusEncoder *st, opus_int32 bandwidth) */
  cc_opus_encoder_set_max_bandwidth: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_set_signal(OpusEncoder *st, opus_int32 signal) */
  cc_opus_encoder_set_signal: { parameters: ["pointer", "i32"], result: "i32" },
  /** int cc_opus_encoder_get_lookahead(OpusEncoder *st, opus_int32 *lookahead) */
  cc_opus_encoder_get_lookahead: { parameters: ["pointer", "buffer"], result: "i32" },
  /** int cc_opus_decoder_get_last_packet_duration(OpusDecoder *st, opus_int32 *samples) */
  cc_opus_decoder_get_last_packet_duration: { parameters: ["pointer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The shim ABI this file was written against (CC_OPUS_SHIM_ABI in opus_shim.c). */
const SHIM_ABI = 1;
const MAX_PACKET_BYTES = 4000;

type OpusLib = Deno.DynamicLibrary<typeof OPUS_SYMBOLS>["symbols"];
type ShimLib = Deno.DynamicLibrary<typeof SHIM_SYMBOLS>["symbols"];

interface Native {
  readonly opus: OpusLib;
  readonly shim: ShimLib;
  readonly version: string;
}

let loaded: { native: Native } | { reason: string } | undefined;

/**
 * Whether the native backend is usable, and if not, why; loads libopus and the shim (and
 * builds the shim) on the first call only.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { nativeOpusStatus } from "./opus_native.ts";
 * const status = nativeOpusStatus();
 * // A version when it loads (libopus 1.x), else why not.
 * assertEquals(typeof (status.available ? status.version : status.reason), "string");
 * ```
 */
export function nativeOpusStatus(): { available: boolean; reason?: string; version?: string } {
  loaded ??= load();
  return "native" in loaded
    ? { available: true, version: loaded.native.version }
    : { available: false, reason: loaded.reason };
}

function native(): Native {
  loaded ??= load();
  if ("native" in loaded) return loaded.native;
  throw new CodecError("backend_unavailable", `Cannot use native Opus: ${loaded.reason}`);
}

function granted(name: Deno.PermissionName): boolean {
  return Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state === "granted";
}

function load(): { native: Native } | { reason: string } {
  if (!granted("ffi")) return { reason: "FFI permission not granted (--allow-ffi)" };
  const libPath = (granted("env") && Deno.env.get("CLUTCHCALL_OPUS_LIB")) || "libopus.so.0";
  const override = granted("env") ? Deno.env.get("CLUTCHCALL_OPUS_SHIM") : undefined;
  const shimPath = override || opusShimPath();
  if (!shimPath) {
    return {
      reason: "the Opus shim is not built (run `deno task build:native`, or set " +
        "CLUTCHCALL_OPUS_SHIM)",
    };
  }
  let opus: OpusLib;
  try {
    opus = Deno.dlopen(libPath, OPUS_SYMBOLS).symbols;
  } catch (error) {
    return { reason: `Cannot open libopus at "${libPath}": ${(error as Error).message}` };
  }
  let shim: ShimLib;
  try {
    shim = Deno.dlopen(shimPath, SHIM_SYMBOLS).symbols;
  } catch (error) {
    return { reason: `Cannot open the Opus shim at "${shimPath}": ${(error as Error).message}` };
  }
  const abi = shim.cc_opus_shim_abi();
  if (abi !== SHIM_ABI) {
    return { reason: `Opus shim ABI ${abi} at "${shimPath}", expected ${SHIM_ABI}: rebuild it` };
  }
  if (shim.cc_opus_shim_bind(cString(libPath)) !== 0) {
    return { reason: `Opus shim cannot resolve opus_encoder_ctl in "${libPath}"` };
  }
  const version = readCString(opus.opus_get_version_string());
  return { native: { opus, shim, version } };
}

/**
 * The local build of the shim, `ffi/build/libopus_shim.so` (from `deno task build:native`),
 * or undefined when it is not there (or this module is not on disk).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { opusShimPath } from "@clutchcall/voice/codecs";
 * const path = opusShimPath(); // undefined until `deno task build:native`
 * assert(path === undefined || Deno.statSync(path).isFile);
 * ```
 */
export function opusShimPath(): string | undefined {
  const root = new URL("../../", import.meta.url);
  if (root.protocol !== "file:") return undefined;
  const path = new URL("ffi/build/libopus_shim.so", root).pathname;
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
      return undefined; // not built, or no read permission: the WASM backend then
    }
    throw error;
  }
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function readCString(pointer: Deno.PointerValue): string {
  return pointer === null ? "" : new Deno.UnsafePointerView(pointer).getCString();
}

/** Throws a CodecError for a negative libopus status; returns non-negative ones. */
function unwrap(status: number, context: string): number {
  if (status >= 0) return status;
  const text = readCString(native().opus.opus_strerror(status));
  throw CodecError.fromOpusStatus(status, text, context);
}

function createState(
  create: (error: Int32Array<ArrayBuffer>) => Deno.PointerValue,
  what: string,
): Deno.PointerObject {
  const error = new Int32Array(1);
  const state = create(error);
  unwrap(error[0], `Cannot create ${what}`);
  if (state === null) throw new CodecError("alloc_fail", `Cannot create ${what}: out of memory`);
  return state;
}

/** @internal */
export function createNativeEncoderCore(
  sampleRate: number,
  channels: number,
  application: number,
): EncoderCore {
  const { opus, shim } = native();
  const setters: Readonly<Record<EncoderSetting, (st: Deno.PointerObject, v: number) => number>> = {
    bitrate: shim.cc_opus_encoder_set_bitrate,
    complexity: shim.cc_opus_encoder_set_complexity,
    inband_fec: shim.cc_opus_encoder_set_inband_fec,
    packet_loss_perc: shim.cc_opus_encoder_set_packet_loss_perc,
    dtx: shim.cc_opus_encoder_set_dtx,
    max_bandwidth: shim.cc_opus_encoder_set_max_bandwidth,
    signal: shim.cc_opus_encoder_set_signal,
  };
  const state = createState(
    (error) => opus.opus_encoder_create(sampleRate, channels, application, error),
    "Opus encoder",
  );
  const packet = new Uint8Array(MAX_PACKET_BYTES);
  return {
    encode(pcm, frameSize) {
      const n = unwrap(
        opus.opus_encode(state, pcm, frameSize, packet, MAX_PACKET_BYTES),
        "Cannot encode Opus",
      );
      return packet.slice(0, n);
    },
    set(setting, value) {
      unwrap(setters[setting](state, value), `Cannot set Opus ${setting}`);
    },
    destroy() {
      opus.opus_encoder_destroy(state);
    },
  };
}

/** @internal */
export function createNativeDecoderCore(sampleRate: number, channels: number): DecoderCore {
  const { opus } = native();
  const state = createState(
    (error) => opus.opus_decoder_create(sampleRate, channels, error),
    "Opus decoder",
  );
  const pcm = new Int16Array(MAX_FRAME_SAMPLES * channels);
  return {
    fecSupported: true,
    decode(packet, frameSize, fec) {
      const data = packet === null ? null : Deno.UnsafePointer.of(packet);
      const length = packet === null ? 0 : packet.length;
      const n = unwrap(
        opus.opus_decode(state, data, length, pcm, frameSize, fec ? 1 : 0),
        fec ? "Cannot decode Opus FEC" : "Cannot decode Opus",
      );
      return pcm.slice(0, n * channels);
    },
    destroy() {
      opus.opus_decoder_destroy(state);
    },
  };
}
