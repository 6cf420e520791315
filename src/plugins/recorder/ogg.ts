/**
 * Ogg pages (RFC 3533): build one from packets, parse a stream of them, and the page CRC.
 *
 * Written here rather than taken from npm: the Ogg muxers on npm either wrap native
 * libogg (no Deno FFI build), target browsers' MediaRecorder output, or only demux. The
 * container is about a hundred lines and its CRC is a table lookup, so owning it costs
 * less than any of those dependencies.
 *
 * @module
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/**
 * The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, initial value 0, no final xor)
 * of `bytes`, as computed over a page whose checksum field is zero.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { oggCrc32 } from "./ogg.ts";
 * assertEquals(oggCrc32(new Uint8Array(0)), 0);
 * ```
 */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]) & 0xff];
  }
  return crc >>> 0;
}

/**
 * Header type flags of an Ogg page.
 *
 * @example
 * ```ts
 * import { OggFlag } from "./ogg.ts";
 * const flags = OggFlag.BOS | OggFlag.EOS;
 * ```
 */
export const OggFlag = {
  /** The page continues a packet from the previous page. */
  CONTINUED: 0x01,
  /** First page of a logical stream. */
  BOS: 0x02,
  /** Last page of a logical stream. */
  EOS: 0x04,
} as const;

/**
 * One Ogg page, as built or parsed.
 *
 * @example
 * ```ts
 * import { encodeOggPage, type OggPage } from "./ogg.ts";
 * const page: OggPage = { flags: 2, granule: 0n, serial: 1, sequence: 0, packets: [new Uint8Array(19)] };
 * const bytes = encodeOggPage(page);
 * ```
 */
export interface OggPage {
  /** {@linkcode OggFlag} bits. */
  readonly flags: number;
  /** Granule position after the last packet completed on this page (-1n: none). */
  readonly granule: bigint;
  /** Bitstream serial number. */
  readonly serial: number;
  /** Page sequence number. */
  readonly sequence: number;
  /** Whole packets on the page (packets are never split across pages here). */
  readonly packets: readonly Uint8Array[];
}

/** Most lacing values one page may hold. */
const MAX_SEGMENTS = 255;

/**
 * How many lacing values (segments) `packet` takes on a page.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { oggSegmentsOf } from "./ogg.ts";
 * assertEquals(oggSegmentsOf(new Uint8Array(255)), 2);
 * ```
 */
export function oggSegmentsOf(packet: Uint8Array): number {
  return Math.floor(packet.length / 255) + 1;
}

/**
 * Builds one page holding whole packets, CRC filled in.
 *
 * @throws {RangeError} when the packets need more than 255 lacing values.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeOggPage, parseOggPages } from "./ogg.ts";
 * const bytes = encodeOggPage({ flags: 0, granule: 960n, serial: 7, sequence: 2, packets: [new Uint8Array([1, 2])] });
 * assertEquals(parseOggPages(bytes).pages[0].granule, 960n);
 * ```
 */
export function encodeOggPage(page: OggPage): Uint8Array {
  const lacing: number[] = [];
  for (const packet of page.packets) {
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  if (lacing.length > MAX_SEGMENTS) {
    throw new RangeError(`Cannot build Ogg page: ${lacing.length} segments (at most 255)`);
  }
  const bodyLength = page.packets.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53]); // "OggS"
  out[4] = 0; // version
  out[5] = page.flags;
  view.setBigInt64(6, page.granule, true);
  view.setUint32(14, page.serial >>> 0, true);
  view.setUint32(18, page.sequence >>> 0, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const packet of page.packets) {
    out.set(packet, at);
    at += packet.length;
  }
  view.setUint32(22, oggCrc32(out), true);
  return out;
}

/**
 * What {@linkcode parseOggPages} found: the valid pages in order, the packets they carry
 * (joined across pages), and where the valid prefix of the stream ends.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseOggPages, type OggParseResult } from "./ogg.ts";
 * const result: OggParseResult = parseOggPages(new Uint8Array(0));
 * assertEquals(result.validBytes, 0);
 * ```
 */
export interface OggParseResult {
  /** Pages with a valid header and CRC, in order. */
  readonly pages: OggPage[];
  /** Every complete packet. */
  readonly packets: Uint8Array[];
  /** Length of the prefix made of whole valid pages (a crash may leave a torn page after it). */
  readonly validBytes: number;
  /** Pages whose stored CRC did not match (parsing stops at the first). */
  readonly badCrc: number;
}

/**
 * Parses consecutive Ogg pages of one logical stream, stopping at the first page that is
 * truncated, malformed or fails its CRC. Never throws on hostile input.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeOggPage, parseOggPages } from "./ogg.ts";
 * const page = encodeOggPage({ flags: 2, granule: 0n, serial: 1, sequence: 0, packets: [new Uint8Array(3)] });
 * const { packets, badCrc } = parseOggPages(page);
 * assertEquals(packets.length, 1);
 * assertEquals(badCrc, 0);
 * ```
 */
export function parseOggPages(bytes: Uint8Array): OggParseResult {
  const pages: OggPage[] = [];
  const packets: Uint8Array[] = [];
  let partial: Uint8Array[] = [];
  let at = 0;
  let badCrc = 0;
  while (at + 27 <= bytes.length) {
    if (
      bytes[at] !== 0x4f || bytes[at + 1] !== 0x67 || bytes[at + 2] !== 0x67 ||
      bytes[at + 3] !== 0x53 || bytes[at + 4] !== 0
    ) break;
    const view = new DataView(bytes.buffer, bytes.byteOffset + at);
    const segments = bytes[at + 26];
    const headerLength = 27 + segments;
    if (at + headerLength > bytes.length) break;
    const lacing = bytes.subarray(at + 27, at + headerLength);
    const bodyLength = lacing.reduce((n, v) => n + v, 0);
    const end = at + headerLength + bodyLength;
    if (end > bytes.length) break;
    const page = bytes.slice(at, end);
    const stored = view.getUint32(22, true);
    page.fill(0, 22, 26);
    if (oggCrc32(page) !== stored) {
      badCrc++;
      break;
    }
    const flags = bytes[at + 5];
    if (!(flags & OggFlag.CONTINUED)) partial = [];
    const pagePackets: Uint8Array[] = [];
    let bodyAt = at + headerLength;
    for (const value of lacing) {
      partial.push(bytes.subarray(bodyAt, bodyAt + value));
      bodyAt += value;
      if (value < 255) {
        const packet = concatBytes(partial);
        partial = [];
        packets.push(packet);
        pagePackets.push(packet);
      }
    }
    pages.push({
      flags,
      granule: view.getBigInt64(6, true),
      serial: view.getUint32(14, true),
      sequence: view.getUint32(18, true),
      packets: pagePackets,
    });
    at = end;
  }
  return { pages, packets, validBytes: at, badCrc };
}

/**
 * The bytes of `parts`, one after another.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { concatBytes } from "./ogg.ts";
 * assertEquals(concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]), Uint8Array.of(1, 2, 3));
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
