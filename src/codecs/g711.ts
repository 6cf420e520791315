/**
 * G.711 µ-law and A-law (ITU-T G.711), whole buffers at a time, table driven.
 *
 * The 16-bit input is reduced to G.711's uniform 14-bit (µ-law) or 13-bit (A-law) scale by
 * rounding to nearest, as sox does; ITU-T G.191's reference code truncates instead, which
 * moves the decision threshold by half a step for about one input value in 2048. Decoding
 * yields the G.711 reconstruction values scaled to 16 bits (µ-law ±0…±32124, A-law
 * ±8…±32256), identical to sox and G.191.
 *
 * @module
 */

const ULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;

function segmentOf(value: number, ends: readonly number[]): number {
  let segment = 0;
  while (segment < 8 && value > ends[segment]) segment++;
  return segment;
}

/** µ-law code of a 14-bit two's-complement sample (G.711 Table 2a, µ-law). */
function ulawOf14(sample: number): number {
  let mask = 0xff;
  let magnitude = sample;
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7f;
  }
  if (magnitude > 8159) magnitude = 8159;
  magnitude += 33; // the µ-law bias in 14-bit units
  const segment = segmentOf(magnitude, ULAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << 4) | ((magnitude >> (segment + 1)) & 0x0f)) ^ mask;
}

/** A-law code of a 13-bit two's-complement sample (G.711 Table 1a, A-law, even bits inverted). */
function alawOf13(sample: number): number {
  let mask = 0xd5;
  let magnitude = sample;
  if (magnitude < 0) {
    mask = 0x55;
    magnitude = -magnitude - 1;
  }
  const segment = segmentOf(magnitude, ALAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (magnitude >> 1) & 0x0f : (magnitude >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80) ? 0x84 - t : t - 0x84;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) t += 8;
  else if (segment === 1) t += 0x108;
  else t = (t + 0x108) << (segment - 1);
  return (a & 0x80) ? t : -t;
}

/** µ-law code per 14-bit sample, indexed by the sample's low 14 bits. */
const ULAW_ENCODE = new Uint8Array(1 << 14);
/** A-law code per 13-bit sample, indexed by the sample's low 13 bits. */
const ALAW_ENCODE = new Uint8Array(1 << 13);
const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
for (let s = -8192; s < 8192; s++) ULAW_ENCODE[s & 0x3fff] = ulawOf14(s);
for (let s = -4096; s < 4096; s++) ALAW_ENCODE[s & 0x1fff] = alawOf13(s);
for (let code = 0; code < 256; code++) {
  ULAW_DECODE[code] = ulawToLinear(code);
  ALAW_DECODE[code] = alawToLinear(code);
}

/**
 * Encodes PCM16 samples to µ-law, one byte per sample.
 *
 * @param pcm 16-bit samples (any channel layout; G.711 is per sample).
 * @param out Optional output of at least `pcm.length` bytes, to avoid an allocation.
 * @returns The µ-law bytes (`out` trimmed to `pcm.length` when given).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeUlaw } from "@clutchcall/voice/codecs";
 * const bytes = encodeUlaw(new Int16Array([0, 1000, -1000]));
 * assertEquals(bytes[0], 0xff);
 * ```
 */
export function encodeUlaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = out ? checkedOutput(out, n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rounded = (pcm[i] + 2) >> 2;
    dst[i] = ULAW_ENCODE[(rounded > 8191 ? 8191 : rounded) & 0x3fff];
  }
  return dst;
}

/**
 * Decodes µ-law bytes to PCM16 samples.
 *
 * @param bytes µ-law codes, one per sample.
 * @param out Optional output of at least `bytes.length` samples.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeUlaw } from "@clutchcall/voice/codecs";
 * const pcm = decodeUlaw(new Uint8Array([0x00, 0x80, 0xff]));
 * assertEquals(pcm[0], -32124);
 * assertEquals(pcm[1], 32124);
 * assertEquals(pcm[2], 0);
 * ```
 */
export function decodeUlaw(bytes: Uint8Array, out?: Int16Array): Int16Array {
  const n = bytes.length;
  const dst = out ? checkedOutput(out, n) : new Int16Array(n);
  for (let i = 0; i < n; i++) dst[i] = ULAW_DECODE[bytes[i]];
  return dst;
}

/**
 * Encodes PCM16 samples to A-law, one byte per sample.
 *
 * @param pcm 16-bit samples.
 * @param out Optional output of at least `pcm.length` bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeAlaw } from "@clutchcall/voice/codecs";
 * const bytes = encodeAlaw(new Int16Array([0]));
 * assertEquals(bytes[0], 0xd5);
 * ```
 */
export function encodeAlaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = out ? checkedOutput(out, n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rounded = (pcm[i] + 4) >> 3;
    dst[i] = ALAW_ENCODE[(rounded > 4095 ? 4095 : rounded) & 0x1fff];
  }
  return dst;
}

/**
 * Decodes A-law bytes to PCM16 samples.
 *
 * @param bytes A-law codes, one per sample.
 * @param out Optional output of at least `bytes.length` samples.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeAlaw } from "@clutchcall/voice/codecs";
 * const pcm = decodeAlaw(new Uint8Array([0xd5, 0x55]));
 * assertEquals(pcm[0], 8);
 * assertEquals(pcm[1], -8);
 * ```
 */
export function decodeAlaw(bytes: Uint8Array, out?: Int16Array): Int16Array {
  const n = bytes.length;
  const dst = out ? checkedOutput(out, n) : new Int16Array(n);
  for (let i = 0; i < n; i++) dst[i] = ALAW_DECODE[bytes[i]];
  return dst;
}

function checkedOutput<T extends Uint8Array | Int16Array>(out: T, length: number): T {
  if (out.length < length) {
    throw new RangeError(
      `Cannot convert G.711: output holds ${out.length} samples, needs ${length}`,
    );
  }
  return out.length === length ? out : out.subarray(0, length) as T;
}
