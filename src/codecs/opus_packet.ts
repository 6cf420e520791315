/**
 * Reading an Opus packet's TOC byte (RFC 6716 §3.1): how long the packet plays. The one
 * parser of it: RTP timestamps (`src/rtp`) and Ogg granule positions (the recorder) both use
 * this.
 *
 * @module
 */

/** Frame duration in 48 kHz samples per TOC config (RFC 6716 table 2). */
function frameSamplesOf(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]; // SILK 10/20/40/60 ms
  if (config < 16) return [480, 960][config % 2]; // hybrid 10/20 ms
  return [120, 240, 480, 960][config % 4]; // CELT 2.5/5/10/20 ms
}

/**
 * The duration of an Opus packet in 48 kHz samples, read from its TOC byte (and frame
 * count byte for code 3), or `undefined` when the packet is malformed (empty, a missing
 * count byte, zero frames, more than 120 ms).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { opusPacketSamples } from "@clutchcall/voice/codecs";
 * assertEquals(opusPacketSamples(new Uint8Array([0xf8])), 960); // CELT FB 20 ms, 1 frame
 * assertEquals(opusPacketSamples(new Uint8Array(0)), undefined);
 * ```
 */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  if (packet.length === 0) return undefined;
  const toc = packet[0];
  const size = frameSamplesOf(toc >> 3);
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code !== 3) frames = 2;
  else {
    if (packet.length < 2) return undefined;
    frames = packet[1] & 0x3f;
  }
  const samples = frames * size;
  return frames === 0 || samples > 5760 ? undefined : samples;
}
