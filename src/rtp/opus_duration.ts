/**
 * The duration of an Opus packet from its TOC byte (RFC 6716 §3.1), for RTP timestamps.
 *
 * @module
 */

const SILK_MS = [10, 20, 40, 60];
const CELT_MS = [2.5, 5, 10, 20];

/**
 * Samples at 48 kHz in an Opus packet, or 0 for an empty or malformed packet.
 *
 * @example
 * ```ts
 * import { opusPacketSamples } from "./opus_duration.ts";
 * console.log(opusPacketSamples(new Uint8Array([0x78, 0, 0]))); // 960 (CELT FB 20 ms, one frame)
 * ```
 */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const toc = packet[0];
  const config = toc >> 3;
  const frameMs = config < 12
    ? SILK_MS[config & 3]
    : config < 16
    ? (config & 1 ? 20 : 10)
    : CELT_MS[config & 3];
  const code = toc & 3;
  let frames = 1;
  if (code === 1 || code === 2) frames = 2;
  else if (code === 3) {
    if (packet.length < 2) return 0;
    frames = packet[1] & 0x3f;
  }
  const samples = frames * frameMs * 48;
  return samples > 5760 ? 0 : samples;
}
