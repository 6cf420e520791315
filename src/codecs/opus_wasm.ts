/**
 * The WASM Opus backend: libopus 1.4 as compiled by `npm:opusscript@0.1.1`.
 *
 * This drives opusscript's Emscripten module (`OpusScriptHandler`) directly instead of its
 * `OpusScript` wrapper class, because the wrapper indexes `HEAPU16` with byte addresses:
 * every instance reads and writes at twice its allocated address, which overlaps other
 * instances' state once a few dozen exist and throws `RangeError` past ~80 (measured). Here
 * each instance owns correctly addressed buffers.
 *
 * The handler's conventions, from its C++ source: `_encode` takes one byte per 16-bit
 * slot (little-endian sample bytes spread out) and its length in bytes; `_decode` writes
 * one byte per 16-bit slot likewise, and always decodes with `decode_fec = 0` and a
 * 2880-sample buffer — so FEC is unavailable and concealment (a zero-length packet)
 * produces 2880 samples, of which the first frame is kept.
 *
 * @module
 */
// @ts-types="./opusscript_native.d.ts"
import createOpusScriptModule from "opusscript/build/opusscript_native_wasm.js";
import type { OpusScriptHandler, OpusScriptModule } from "./opusscript_native.d.ts";
import { CodecError } from "./error.ts";
import type { DecoderCore, EncoderCore, EncoderSetting } from "./opus_core.ts";

/** `OPUS_SET_*_REQUEST` numbers from opus_defines.h. */
const SET_REQUEST: Readonly<Record<EncoderSetting, number>> = {
  bitrate: 4002,
  max_bandwidth: 4004,
  complexity: 4010,
  inband_fec: 4012,
  packet_loss_perc: 4014,
  dtx: 4016,
  signal: 4024,
};

/** Largest frame the handler handles: 60 ms at 48 kHz per channel (its MAX_FRAME_SIZE). */
const HANDLER_MAX_FRAME = 2880;
/** Largest packet accepted for decoding. */
const MAX_PACKET_BYTES = 16384;
/** libopus's largest packet from one encode call. */
const MAX_ENCODED_BYTES = 4000;

let module: OpusScriptModule | undefined;

function wasm(): OpusScriptModule {
  return module ??= createOpusScriptModule();
}

function strerror(m: OpusScriptModule, status: number): string {
  const ptr = m._opus_strerror(status);
  const heap = m.HEAPU8;
  let end = ptr;
  while (heap[end] !== 0 && end - ptr < 256) end++;
  return new TextDecoder().decode(heap.subarray(ptr, end));
}

function newHandler(m: OpusScriptModule, rate: number, channels: number, app: number) {
  try {
    return new m.OpusScriptHandler(rate, channels, app);
  } catch (status) {
    const code = typeof status === "number" ? status : -3;
    throw CodecError.fromOpusStatus(code, strerror(m, code), "Cannot create Opus state");
  }
}

/** @internal */
export function createWasmEncoderCore(
  sampleRate: number,
  channels: number,
  application: number,
): EncoderCore {
  const m = wasm();
  const handler: OpusScriptHandler = newHandler(m, sampleRate, channels, application);
  // The handler reads up to 4 slots (8 bytes) per sample while compacting in place.
  const inPtr = m._malloc(HANDLER_MAX_FRAME * channels * 8);
  const outPtr = m._malloc(MAX_ENCODED_BYTES);
  return {
    encode(pcm, frameSize) {
      const slots = m.HEAPU16;
      const base = inPtr >> 1;
      for (let i = 0, j = base; i < pcm.length; i++, j += 2) {
        const s = pcm[i];
        slots[j] = s & 0xff;
        slots[j + 1] = (s >> 8) & 0xff;
      }
      const n = handler._encode(inPtr, pcm.length * 2, outPtr, frameSize);
      if (n < 0) throw CodecError.fromOpusStatus(n, strerror(m, n), "Cannot encode Opus");
      return m.HEAPU8.slice(outPtr, outPtr + n);
    },
    set(setting, value) {
      const status = handler._encoder_ctl(SET_REQUEST[setting], value);
      if (status < 0) {
        throw CodecError.fromOpusStatus(status, strerror(m, status), `Cannot set Opus ${setting}`);
      }
    },
    destroy() {
      m.OpusScriptHandler.destroy_handler(handler);
      m._free(inPtr);
      m._free(outPtr);
    },
  };
}

/** @internal */
export function createWasmDecoderCore(sampleRate: number, channels: number): DecoderCore {
  const m = wasm();
  const handler: OpusScriptHandler = newHandler(m, sampleRate, channels, 2048);
  const inPtr = m._malloc(MAX_PACKET_BYTES);
  const outPtr = m._malloc(HANDLER_MAX_FRAME * channels * 4);
  return {
    fecSupported: false,
    decode(packet, frameSize) {
      let length = 0;
      if (packet !== null) {
        if (packet.length > MAX_PACKET_BYTES) {
          throw new CodecError(
            "invalid_packet",
            `Cannot decode Opus: packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}`,
          );
        }
        m.HEAPU8.set(packet, inPtr);
        length = packet.length;
      }
      const n = handler._decode(inPtr, length, outPtr);
      if (n < 0) throw CodecError.fromOpusStatus(n, strerror(m, n), "Cannot decode Opus");
      const samples = (packet === null ? Math.min(n, frameSize) : n) * channels;
      const out = new Int16Array(samples);
      const slots = m.HEAPU16;
      for (let i = 0, j = outPtr >> 1; i < samples; i++, j += 2) {
        out[i] = slots[j] | (slots[j + 1] << 8);
      }
      return out;
    },
    destroy() {
      m.OpusScriptHandler.destroy_handler(handler);
      m._free(inPtr);
      m._free(outPtr);
    },
  };
}
