/**
 * RIFF/WAVE with 16-bit PCM: parse a file's bytes, build a file, or build just the header
 * (for a recorder that streams the samples and patches the sizes at the end).
 *
 * @module
 */
import { CodecError } from "./error.ts";
import { pcm16FromBytes, pcm16ToBytes } from "./pcm16.ts";

/**
 * Decoded 16-bit PCM audio.
 *
 * @example
 * ```ts
 * import { encodeWav, type WavAudio } from "@clutchcall/voice/codecs";
 * const audio: WavAudio = { sampleRate: 8000, channels: 1, samples: new Int16Array(8000) };
 * const file = encodeWav(audio);
 * ```
 */
export interface WavAudio {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Channel count; `samples` is interleaved. */
  readonly channels: number;
  /** Interleaved 16-bit samples. */
  readonly samples: Int16Array;
}

/**
 * The fields of a WAV header.
 *
 * @example
 * ```ts
 * import { wavHeader, type WavHeaderOptions } from "@clutchcall/voice/codecs";
 * const options: WavHeaderOptions = { sampleRate: 48000, channels: 2, dataBytes: 192000 };
 * const header = wavHeader(options);
 * ```
 */
export interface WavHeaderOptions {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Channel count. */
  readonly channels: number;
  /** Length of the `data` chunk in bytes (0 while still unknown when streaming). */
  readonly dataBytes: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/**
 * Size of the header {@linkcode wavHeader} writes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WAV_HEADER_BYTES, wavHeader } from "@clutchcall/voice/codecs";
 * assertEquals(wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 }).length, WAV_HEADER_BYTES);
 * ```
 */
export const WAV_HEADER_BYTES = 44;

/**
 * Parses a RIFF/WAVE file holding 16-bit PCM (plain or WAVE_FORMAT_EXTENSIBLE).
 *
 * @throws {CodecError} with code `"invalid_wav"` on anything else, truncated or hostile input.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeWav, encodeWav } from "@clutchcall/voice/codecs";
 * const file = encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(80) });
 * const { sampleRate, samples } = decodeWav(file);
 * assertEquals(sampleRate, 8000);
 * assertEquals(samples.length, 80);
 * ```
 */
export function decodeWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || tag(bytes, 0) !== "RIFF" || tag(bytes, 8) !== "WAVE") {
    throw invalid("not a RIFF/WAVE file");
  }
  let format: { sampleRate: number; channels: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > bytes.length) throw invalid("truncated fmt chunk");
      let formatTag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (formatTag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.length) {
        formatTag = view.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      if (formatTag !== WAVE_FORMAT_PCM || bitsPerSample !== 16) {
        throw invalid(`unsupported format ${formatTag} with ${bitsPerSample} bits per sample`);
      }
      if (channels < 1 || sampleRate < 1) throw invalid("zero channels or sample rate");
      format = { sampleRate, channels };
    } else if (id === "data") {
      if (!format) throw invalid("data chunk before fmt chunk");
      // A streaming writer may leave the size at 0 or 0xffffffff: take what is there.
      const end = size === 0 || body + size > bytes.length ? bytes.length : body + size;
      const usable = (end - body) - ((end - body) % (2 * format.channels));
      return { ...format, samples: pcm16FromBytes(bytes.subarray(body, body + usable)) };
    }
    offset = body + size + (size & 1);
  }
  throw invalid(format ? "no data chunk" : "no fmt chunk");
}

/**
 * Builds the 44-byte header of a PCM16 WAV file.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { wavHeader } from "@clutchcall/voice/codecs";
 * const header = wavHeader({ sampleRate: 48000, channels: 2, dataBytes: 0 });
 * assertEquals(header.length, 44);
 * ```
 */
export function wavHeader({ sampleRate, channels, dataBytes }: WavHeaderOptions): Uint8Array {
  if (!Number.isInteger(channels) || channels < 1 || channels > 0xffff) {
    throw new RangeError(`Invalid channel count: ${channels}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new RangeError(`Invalid sample rate: ${sampleRate}`);
  }
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) header[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, Math.min(36 + dataBytes, 0xffffffff), true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, Math.min(dataBytes, 0xffffffff), true);
  return header;
}

/**
 * Builds a whole PCM16 WAV file.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeWav } from "@clutchcall/voice/codecs";
 * const file = encodeWav({ sampleRate: 8000, channels: 2, samples: new Int16Array(160) });
 * assertEquals(file.length, 44 + 320);
 * ```
 */
export function encodeWav({ sampleRate, channels, samples }: WavAudio): Uint8Array {
  if (samples.length % channels !== 0) {
    throw new RangeError(`Cannot write WAV: ${samples.length} samples for ${channels} channels`);
  }
  const data = pcm16ToBytes(samples);
  const file = new Uint8Array(WAV_HEADER_BYTES + data.length);
  file.set(wavHeader({ sampleRate, channels, dataBytes: data.length }));
  file.set(data, WAV_HEADER_BYTES);
  return file;
}

function tag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function invalid(reason: string): CodecError {
  return new CodecError("invalid_wav", `Cannot parse WAV: ${reason}`);
}
