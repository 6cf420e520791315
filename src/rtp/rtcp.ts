/**
 * Minimal RTCP (RFC 3550 §6): sender and receiver reports with report blocks, BYE, and a
 * compound-packet parser that skips types it does not know (SDES, APP, XR, feedback).
 * Parsing throws only {@linkcode RtpParseError}.
 *
 * @module
 */
import { RtpParseError } from "./error.ts";

/** RTCP packet types used here. */
export const RtcpType = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204 } as const;

/**
 * Reception statistics about one source (RFC 3550 §6.4.1).
 *
 * @example
 * ```ts
 * import type { ReportBlock } from "./rtcp.ts";
 * const block: ReportBlock = {
 *   ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSeq: 1000, jitter: 12, lsr: 0, dlsr: 0,
 * };
 * ```
 */
export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction lost since the last report, in 1/256. */
  readonly fractionLost: number;
  /** Packets lost since the start (24-bit signed). */
  readonly cumulativeLost: number;
  /** Extended highest sequence number received. */
  readonly highestSeq: number;
  /** Interarrival jitter, in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received, 0 if none. */
  readonly lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  readonly dlsr: number;
}

/**
 * One RTCP packet of a compound packet.
 *
 * @example
 * ```ts
 * import type { RtcpPacket } from "./rtcp.ts";
 * const bye: RtcpPacket = { type: "bye", ssrcs: [42] };
 * ```
 */
export type RtcpPacket =
  | {
    readonly type: "sr";
    readonly ssrc: number;
    /** NTP timestamp: seconds since 1900 and fraction, as two 32-bit words. */
    readonly ntpSeconds: number;
    readonly ntpFraction: number;
    readonly rtpTimestamp: number;
    readonly packetCount: number;
    readonly octetCount: number;
    readonly reports: readonly ReportBlock[];
  }
  | { readonly type: "rr"; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
  | { readonly type: "bye"; readonly ssrcs: readonly number[]; readonly reason?: string }
  | { readonly type: "other"; readonly packetType: number };

/**
 * Parses a compound RTCP packet.
 *
 * @throws {RtpParseError} for malformed input.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseRtcp, serializeRtcp } from "./rtcp.ts";
 * const [bye] = parseRtcp(serializeRtcp([{ type: "bye", ssrcs: [7], reason: "hangup" }]));
 * assertEquals(bye, { type: "bye", ssrcs: [7], reason: "hangup" });
 * ```
 */
export function parseRtcp(bytes: Uint8Array): RtcpPacket[] {
  if (!(bytes instanceof Uint8Array)) {
    throw new RtpParseError("bad_value", "Cannot parse RTCP packet: expected a Uint8Array");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: RtcpPacket[] = [];
  let offset = 0;
  if (bytes.length < 4) {
    throw new RtpParseError("truncated", `Cannot parse RTCP packet: ${bytes.length} bytes`);
  }
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) {
      throw new RtpParseError("truncated", "Cannot parse RTCP packet: header truncated");
    }
    const b0 = bytes[offset];
    if (b0 >> 6 !== 2) {
      throw new RtpParseError("bad_version", `Cannot parse RTCP packet: version ${b0 >> 6}`);
    }
    const count = b0 & 0x1f;
    const packetType = bytes[offset + 1];
    const end = offset + 4 + view.getUint16(offset + 2) * 4;
    if (end > bytes.length) {
      throw new RtpParseError("bad_length", "Cannot parse RTCP packet: length past the end");
    }
    let bodyEnd = end;
    if (b0 & 0x20) {
      const padding = bytes[end - 1];
      if (padding === 0 || offset + 4 + padding > end) {
        throw new RtpParseError("bad_padding", `Cannot parse RTCP packet: padding of ${padding}`);
      }
      bodyEnd -= padding;
    }
    const need = (n: number) => {
      if (offset + n > bodyEnd) {
        throw new RtpParseError(
          "bad_length",
          `Cannot parse RTCP packet: type ${packetType} too short`,
        );
      }
    };
    if (packetType === RtcpType.SR) {
      need(28 + count * 24);
      out.push({
        type: "sr",
        ssrc: view.getUint32(offset + 4),
        ntpSeconds: view.getUint32(offset + 8),
        ntpFraction: view.getUint32(offset + 12),
        rtpTimestamp: view.getUint32(offset + 16),
        packetCount: view.getUint32(offset + 20),
        octetCount: view.getUint32(offset + 24),
        reports: readBlocks(view, offset + 28, count),
      });
    } else if (packetType === RtcpType.RR) {
      need(8 + count * 24);
      out.push({
        type: "rr",
        ssrc: view.getUint32(offset + 4),
        reports: readBlocks(view, offset + 8, count),
      });
    } else if (packetType === RtcpType.BYE) {
      need(4 + count * 4);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(view.getUint32(offset + 4 + i * 4));
      let reason: string | undefined;
      const at = offset + 4 + count * 4;
      if (at < bodyEnd) {
        const length = bytes[at];
        if (at + 1 + length > bodyEnd) {
          throw new RtpParseError("bad_length", "Cannot parse RTCP BYE: reason past the end");
        }
        reason = new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + length));
      }
      out.push(reason === undefined ? { type: "bye", ssrcs } : { type: "bye", ssrcs, reason });
    } else {
      out.push({ type: "other", packetType });
    }
    offset = end;
  }
  return out;
}

/**
 * Serializes RTCP packets into one compound packet (put an SR or RR first, RFC 3550 §6.1).
 *
 * @throws {RangeError} for more than 31 report blocks or SSRCs, or a reason over 255 bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { serializeRtcp } from "./rtcp.ts";
 * const bytes = serializeRtcp([{ type: "rr", ssrc: 1, reports: [] }, { type: "bye", ssrcs: [1] }]);
 * assertEquals(bytes.length, 16);
 * ```
 */
export function serializeRtcp(packets: readonly RtcpPacket[]): Uint8Array {
  const parts = packets.map(serializeOne);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function serializeOne(packet: RtcpPacket): Uint8Array {
  switch (packet.type) {
    case "sr": {
      const out = header(RtcpType.SR, packet.reports.length, 28 + packet.reports.length * 24);
      const view = new DataView(out.buffer);
      view.setUint32(4, packet.ssrc);
      view.setUint32(8, packet.ntpSeconds >>> 0);
      view.setUint32(12, packet.ntpFraction >>> 0);
      view.setUint32(16, packet.rtpTimestamp >>> 0);
      view.setUint32(20, packet.packetCount >>> 0);
      view.setUint32(24, packet.octetCount >>> 0);
      writeBlocks(view, 28, packet.reports);
      return out;
    }
    case "rr": {
      const out = header(RtcpType.RR, packet.reports.length, 8 + packet.reports.length * 24);
      const view = new DataView(out.buffer);
      view.setUint32(4, packet.ssrc);
      writeBlocks(view, 8, packet.reports);
      return out;
    }
    case "bye": {
      const reason = packet.reason === undefined
        ? undefined
        : new TextEncoder().encode(packet.reason);
      if (reason && reason.length > 255) throw new RangeError("Invalid RTCP BYE reason: too long");
      const raw = 4 + packet.ssrcs.length * 4 + (reason ? 1 + reason.length : 0);
      const out = header(RtcpType.BYE, packet.ssrcs.length, Math.ceil(raw / 4) * 4);
      const view = new DataView(out.buffer);
      packet.ssrcs.forEach((ssrc, i) => view.setUint32(4 + i * 4, ssrc));
      if (reason) {
        out[4 + packet.ssrcs.length * 4] = reason.length;
        out.set(reason, 5 + packet.ssrcs.length * 4);
      }
      return out;
    }
    default:
      throw new RangeError(`Cannot serialize RTCP packet type: ${packet.type}`);
  }
}

function header(type: number, count: number, bytes: number): Uint8Array {
  if (count > 31) throw new RangeError(`Invalid RTCP item count: ${count}`);
  const out = new Uint8Array(bytes);
  out[0] = 0x80 | count;
  out[1] = type;
  new DataView(out.buffer).setUint16(2, bytes / 4 - 1);
  return out;
}

function readBlocks(view: DataView, offset: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * 24;
    const lost = view.getUint32(at + 4);
    const cumulative = lost & 0xffffff;
    blocks.push({
      ssrc: view.getUint32(at),
      fractionLost: lost >>> 24,
      cumulativeLost: cumulative & 0x800000 ? cumulative - 0x1000000 : cumulative,
      highestSeq: view.getUint32(at + 8),
      jitter: view.getUint32(at + 12),
      lsr: view.getUint32(at + 16),
      dlsr: view.getUint32(at + 20),
    });
  }
  return blocks;
}

function writeBlocks(view: DataView, offset: number, blocks: readonly ReportBlock[]): void {
  blocks.forEach((block, i) => {
    const at = offset + i * 24;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost)));
    view.setUint32(at, block.ssrc >>> 0);
    view.setUint32(at + 4, ((block.fractionLost & 0xff) << 24 | (lost & 0xffffff)) >>> 0);
    view.setUint32(at + 8, block.highestSeq >>> 0);
    view.setUint32(at + 12, block.jitter >>> 0);
    view.setUint32(at + 16, block.lsr >>> 0);
    view.setUint32(at + 20, block.dlsr >>> 0);
  });
}

/**
 * Wall-clock time as the 64-bit NTP timestamp of an SR (seconds since 1900 + fraction).
 *
 * @example
 * ```ts
 * import { ntpTime } from "./rtcp.ts";
 * const { seconds, fraction } = ntpTime(Date.now());
 * ```
 */
export function ntpTime(epochMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(epochMs / 1000) + 2_208_988_800;
  const fraction = Math.floor(((epochMs % 1000) / 1000) * 0x100000000);
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}
