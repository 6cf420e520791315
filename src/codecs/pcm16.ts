/**
 * Linear 16-bit PCM: little-endian bytes ↔ samples, channel (de)interleaving and
 * mono ↔ stereo mixing.
 *
 * @module
 */

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads little-endian PCM16 bytes into samples. Copies, so the result is aligned and
 * independent of `bytes`.
 *
 * @throws {RangeError} when `bytes` has an odd length.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pcm16FromBytes } from "@clutchcall/voice/codecs";
 * const pcm = pcm16FromBytes(new Uint8Array([0x01, 0x00, 0xff, 0xff]));
 * assertEquals(pcm[0], 1);
 * assertEquals(pcm[1], -1);
 * ```
 */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`Cannot read PCM16: odd byte length ${bytes.length}`);
  }
  const n = bytes.length >> 1;
  if (HOST_IS_LITTLE_ENDIAN) {
    const out = new Int16Array(n);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

/**
 * Writes samples as little-endian PCM16 bytes (a copy).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pcm16ToBytes } from "@clutchcall/voice/codecs";
 * const bytes = pcm16ToBytes(new Int16Array([1, -1]));
 * assertEquals(bytes.length, 4);
 * assertEquals(bytes[0], 1);
 * assertEquals(bytes[3], 0xff);
 * ```
 */
export function pcm16ToBytes(pcm: Int16Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) {
    return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength).slice();
  }
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(2 * i, pcm[i], true);
  return out;
}

/**
 * Splits interleaved samples (`L R L R …`) into one array per channel.
 *
 * @throws {RangeError} when `channels` is not a positive integer or does not divide the length.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { deinterleave } from "@clutchcall/voice/codecs";
 * const [left, right] = deinterleave(new Int16Array([1, 2, 3, 4]), 2);
 * assertEquals(left[1], 3);
 * assertEquals(right[1], 4);
 * ```
 */
export function deinterleave(interleaved: Int16Array, channels: number): Int16Array[] {
  checkChannels(interleaved.length, channels);
  const frames = interleaved.length / channels;
  const planes = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let c = 0; c < channels; c++) {
    const plane = planes[c];
    for (let i = 0, j = c; i < frames; i++, j += channels) plane[i] = interleaved[j];
  }
  return planes;
}

/**
 * Joins per-channel arrays of equal length into interleaved samples.
 *
 * @throws {RangeError} when there are no planes or their lengths differ.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { interleave } from "@clutchcall/voice/codecs";
 * const lr = interleave([new Int16Array([1, 3]), new Int16Array([2, 4])]);
 * assertEquals(lr.join(), "1,2,3,4");
 * ```
 */
export function interleave(planes: readonly Int16Array[]): Int16Array {
  const channels = planes.length;
  if (channels === 0) throw new RangeError("Cannot interleave: no channels");
  const frames = planes[0].length;
  for (const plane of planes) {
    if (plane.length !== frames) {
      throw new RangeError(
        `Cannot interleave: channel lengths differ (${frames}, ${plane.length})`,
      );
    }
  }
  const out = new Int16Array(frames * channels);
  for (let c = 0; c < channels; c++) {
    const plane = planes[c];
    for (let i = 0, j = c; i < frames; i++, j += channels) out[j] = plane[i];
  }
  return out;
}

/**
 * Mixes interleaved stereo down to mono by averaging the two channels (no clipping:
 * the mean of two int16 values is an int16).
 *
 * @throws {RangeError} when the length is odd.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { stereoToMono } from "@clutchcall/voice/codecs";
 * assertEquals(stereoToMono(new Int16Array([100, 300, -2, -4])).join(), "200,-3");
 * ```
 */
export function stereoToMono(stereo: Int16Array): Int16Array {
  checkChannels(stereo.length, 2);
  const frames = stereo.length >> 1;
  const out = new Int16Array(frames);
  for (let i = 0, j = 0; i < frames; i++, j += 2) out[i] = (stereo[j] + stereo[j + 1]) >> 1;
  return out;
}

/**
 * Duplicates mono into both channels of interleaved stereo.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { monoToStereo } from "@clutchcall/voice/codecs";
 * assertEquals(monoToStereo(new Int16Array([5, 6])).join(), "5,5,6,6");
 * ```
 */
export function monoToStereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  for (let i = 0, j = 0; i < mono.length; i++, j += 2) {
    out[j] = mono[i];
    out[j + 1] = mono[i];
  }
  return out;
}

/**
 * Converts interleaved samples between channel counts: identity, stereo → mono (average),
 * mono → stereo (duplicate). Returns the input itself when the counts match.
 *
 * @throws {RangeError} for any other pair of counts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { remixChannels } from "@clutchcall/voice/codecs";
 * assertEquals(remixChannels(new Int16Array([1, 3]), 2, 1).join(), "2");
 * ```
 */
export function remixChannels(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return pcm;
  if (from === 2 && to === 1) return stereoToMono(pcm);
  if (from === 1 && to === 2) return monoToStereo(pcm);
  throw new RangeError(`Cannot remix channels: ${from} → ${to} is not supported`);
}

function checkChannels(length: number, channels: number): void {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`Invalid channel count: ${channels}`);
  }
  if (length % channels !== 0) {
    throw new RangeError(`Cannot split ${length} samples into ${channels} channels`);
  }
}
