/**
 * RTP packets (RFC 3550 §5.1): parse and serialize the fixed header, CSRC list, header
 * extension and padding. Parsing is zero-copy (the payload is a view of the datagram) and
 * throws only {@linkcode RtpParseError}.
 *
 * @module
 */
import { RtpParseError } from "./error.ts";

/**
 * One RTP packet.
 *
 * @example
 * ```ts
 * import type { RtpPacket } from "./packet.ts";
 * const packet: RtpPacket = {
 *   marker: true, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 0x1234,
 *   payload: new Uint8Array(160),
 * };
 * ```
 */
export interface RtpPacket {
  /** Marker bit (start of a talkspurt for audio, start of an event for RFC 4733). */
  readonly marker: boolean;
  /** Payload type, 0–127. */
  readonly payloadType: number;
  /** 16-bit sequence number. */
  readonly sequenceNumber: number;
  /** 32-bit media timestamp. */
  readonly timestamp: number;
  /** 32-bit synchronization source. */
  readonly ssrc: number;
  /** Contributing sources (at most 15). */
  readonly csrc?: readonly number[];
  /** Header extension (RFC 3550 §5.3.1): 16-bit profile id and its 32-bit-word data. */
  readonly extension?: { readonly profile: number; readonly data: Uint8Array };
  /** The payload (padding removed). */
  readonly payload: Uint8Array;
  /** Padding bytes to add when serializing (1–255); parsed packets report what they had. */
  readonly padding?: number;
}

/** Smallest RTP header: 12 bytes. */
export const RTP_HEADER_BYTES = 12;

/**
 * Parses one RTP packet.
 *
 * @throws {RtpParseError} for anything that is not a well-formed RTP version 2 packet.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseRtp, serializeRtp } from "./packet.ts";
 * const bytes = serializeRtp({
 *   marker: false, payloadType: 8, sequenceNumber: 7, timestamp: 1120, ssrc: 42,
 *   payload: new Uint8Array(160),
 * });
 * assertEquals(parseRtp(bytes).sequenceNumber, 7);
 * ```
 */
export function parseRtp(bytes: Uint8Array): RtpPacket {
  if (!(bytes instanceof Uint8Array)) {
    throw new RtpParseError("bad_value", "Cannot parse RTP packet: expected a Uint8Array");
  }
  const length = bytes.length;
  if (length < RTP_HEADER_BYTES) {
    throw new RtpParseError("truncated", `Cannot parse RTP packet: ${length} bytes is too short`);
  }
  const b0 = bytes[0];
  if (b0 >> 6 !== 2) {
    throw new RtpParseError("bad_version", `Cannot parse RTP packet: version ${b0 >> 6}`);
  }
  const b1 = bytes[1];
  const cc = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + cc * 4;
  if (offset > length) {
    throw new RtpParseError("truncated", `Cannot parse RTP packet: CSRC list of ${cc} truncated`);
  }
  // The fixed header is read byte-wise and a DataView made only for CSRCs or an extension:
  // this runs for every received packet of every call, most of which have neither.
  const view = cc > 0 || (b0 & 0x10)
    ? new DataView(bytes.buffer, bytes.byteOffset, length)
    : undefined;
  let csrc: number[] | undefined;
  if (view && cc > 0) {
    csrc = [];
    for (let i = 0; i < cc; i++) csrc.push(view.getUint32(RTP_HEADER_BYTES + i * 4));
  }
  let extension: RtpPacket["extension"];
  if (view && (b0 & 0x10)) {
    if (offset + 4 > length) {
      throw new RtpParseError("truncated", "Cannot parse RTP packet: extension header truncated");
    }
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    const end = offset + 4 + words * 4;
    if (end > length) {
      throw new RtpParseError("truncated", "Cannot parse RTP packet: extension data truncated");
    }
    extension = { profile, data: bytes.subarray(offset + 4, end) };
    offset = end;
  }
  let end = length;
  let padding: number | undefined;
  if (b0 & 0x20) {
    padding = bytes[length - 1];
    if (padding === 0 || offset + padding > length) {
      throw new RtpParseError("bad_padding", `Cannot parse RTP packet: padding of ${padding}`);
    }
    end -= padding;
  }
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: (bytes[2] << 8) | bytes[3],
    timestamp: ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0,
    ssrc: ((bytes[8] << 24) | (bytes[9] << 16) | (bytes[10] << 8) | bytes[11]) >>> 0,
    csrc,
    extension,
    payload: bytes.subarray(offset, end),
    padding,
  };
}

/**
 * Serializes one RTP packet (version 2) into a new buffer.
 *
 * @throws {RangeError} for a field out of its range.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { serializeRtp } from "./packet.ts";
 * const bytes = serializeRtp({
 *   marker: true, payloadType: 0, sequenceNumber: 65535, timestamp: 0xffffff00, ssrc: 1,
 *   payload: new Uint8Array(160),
 * });
 * assertEquals(bytes.length, 172);
 * ```
 */
export function serializeRtp(packet: RtpPacket): Uint8Array {
  const { payloadType, sequenceNumber, timestamp, ssrc, csrc = [], extension, payload } = packet;
  const padding = packet.padding ?? 0;
  checkInt("payload type", payloadType, 0x7f);
  checkInt("sequence number", sequenceNumber, 0xffff);
  checkInt("timestamp", timestamp, 0xffffffff);
  checkInt("SSRC", ssrc, 0xffffffff);
  checkInt("padding", padding, 0xff);
  if (csrc.length > 15) throw new RangeError(`Invalid RTP CSRC count: ${csrc.length}`);
  if (extension) {
    checkInt("extension profile", extension.profile, 0xffff);
    if (extension.data.length % 4 !== 0 || extension.data.length > 0xffff * 4) {
      throw new RangeError(`Invalid RTP extension length: ${extension.data.length}`);
    }
  }
  const extBytes = extension ? 4 + extension.data.length : 0;
  const headerBytes = RTP_HEADER_BYTES + csrc.length * 4 + extBytes;
  const out = new Uint8Array(headerBytes + payload.length + padding);
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (padding ? 0x20 : 0) | (extension ? 0x10 : 0) | csrc.length;
  out[1] = (packet.marker ? 0x80 : 0) | payloadType;
  view.setUint16(2, sequenceNumber);
  view.setUint32(4, timestamp);
  view.setUint32(8, ssrc);
  let offset = RTP_HEADER_BYTES;
  for (const source of csrc) {
    checkInt("CSRC", source, 0xffffffff);
    view.setUint32(offset, source);
    offset += 4;
  }
  if (extension) {
    view.setUint16(offset, extension.profile);
    view.setUint16(offset + 2, extension.data.length / 4);
    out.set(extension.data, offset + 4);
    offset += extBytes;
  }
  out.set(payload, offset);
  if (padding) out[out.length - 1] = padding;
  return out;
}

/**
 * True when a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 §4: the
 * second byte, read as RTCP packet type, is 192–223).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isRtcpPacket } from "./packet.ts";
 * assertEquals(isRtcpPacket(new Uint8Array([0x80, 200, 0, 6])), true); // (SR)
 * ```
 */
export function isRtcpPacket(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[1] >= 192 && bytes[1] <= 223;
}

function checkInt(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Invalid RTP ${what}: ${value}`);
  }
}
