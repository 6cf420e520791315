/**
 * A tiny reader for classic libpcap files (the captures sipp plays): Ethernet, Linux
 * cooked (SLL) or raw IPv4 link types, IPv4/UDP only, and the RTP packets inside.
 *
 * @module
 */

/** One UDP datagram from a capture. */
export interface PcapUdp {
  /** Capture time, seconds. */
  readonly time: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** One RTP packet from a capture (header fields plus the payload after CSRCs/extension). */
export interface PcapRtp extends PcapUdp {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly rtpPayload: Uint8Array;
}

/**
 * Reads every IPv4/UDP datagram of a pcap file's bytes; throws `SyntaxError` on a file that
 * is not a classic pcap.
 *
 * @example
 * ```ts ignore
 * import { readPcapUdp } from "./pcap.ts";
 * const udp = readPcapUdp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"));
 * console.log(udp.length);
 * ```
 */
export function readPcapUdp(bytes: Uint8Array): PcapUdp[] {
  if (bytes.length < 24) throw new SyntaxError("Cannot read pcap: shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  let little: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    little = true;
    nano = magic === 0xa1b23c4d;
  } else if (view.getUint32(0, false) === 0xa1b2c3d4 || view.getUint32(0, false) === 0xa1b23c4d) {
    little = false;
    nano = view.getUint32(0, false) === 0xa1b23c4d;
  } else throw new SyntaxError("Cannot read pcap: bad magic number");
  const linkType = view.getUint32(20, little);
  const out: PcapUdp[] = [];
  for (let at = 24; at + 16 <= bytes.length;) {
    const seconds = view.getUint32(at, little);
    const fraction = view.getUint32(at + 4, little);
    const captured = view.getUint32(at + 8, little);
    const start = at + 16;
    at = start + captured;
    if (at > bytes.length) break;
    const frame = bytes.subarray(start, at);
    const ip = ipv4Of(frame, linkType);
    if (!ip || ip.length < 20 || ip[0] >> 4 !== 4 || ip[9] !== 17) continue;
    const headerLength = (ip[0] & 0x0f) * 4;
    const udp = ip.subarray(headerLength);
    if (udp.length < 8) continue;
    const udpLength = (udp[4] << 8) | udp[5];
    out.push({
      time: seconds + fraction / (nano ? 1e9 : 1e6),
      src: ip.subarray(12, 16).join("."),
      dst: ip.subarray(16, 20).join("."),
      srcPort: (udp[0] << 8) | udp[1],
      dstPort: (udp[2] << 8) | udp[3],
      payload: udp.subarray(8, Math.min(udp.length, Math.max(8, udpLength))),
    });
  }
  return out;
}

function ipv4Of(frame: Uint8Array, linkType: number): Uint8Array | undefined {
  switch (linkType) {
    case 1: { // Ethernet, with at most one VLAN tag
      let at = 12;
      let type = (frame[at] << 8) | frame[at + 1];
      if (type === 0x8100) {
        at += 4;
        type = (frame[at] << 8) | frame[at + 1];
      }
      return type === 0x0800 ? frame.subarray(at + 2) : undefined;
    }
    case 113: // Linux cooked capture
      return ((frame[14] << 8) | frame[15]) === 0x0800 ? frame.subarray(16) : undefined;
    case 101: // raw IP
    case 228:
      return frame;
    default:
      return undefined;
  }
}

/**
 * The RTP packets (version 2) among a capture's UDP datagrams, optionally of one payload type.
 *
 * @example
 * ```ts ignore
 * import { readPcapRtp } from "./pcap.ts";
 * const alaw = readPcapRtp(await Deno.readFile("/usr/share/sip-tester/g711a.pcap"), 8);
 * ```
 */
export function readPcapRtp(bytes: Uint8Array, payloadType?: number): PcapRtp[] {
  const out: PcapRtp[] = [];
  for (const udp of readPcapUdp(bytes)) {
    const p = udp.payload;
    if (p.length < 12 || p[0] >> 6 !== 2) continue;
    const pt = p[1] & 0x7f;
    if (payloadType !== undefined && pt !== payloadType) continue;
    let at = 12 + (p[0] & 0x0f) * 4;
    if (p[0] & 0x10) {
      if (at + 4 > p.length) continue;
      at += 4 + ((p[at + 2] << 8) | p[at + 3]) * 4;
    }
    let end = p.length;
    if (p[0] & 0x20) end -= p[p.length - 1];
    if (at > end) continue;
    out.push({
      ...udp,
      payloadType: pt,
      marker: (p[1] & 0x80) !== 0,
      sequence: (p[2] << 8) | p[3],
      timestamp: ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0,
      ssrc: ((p[8] << 24) | (p[9] << 16) | (p[10] << 8) | p[11]) >>> 0,
      rtpPayload: p.subarray(at, end),
    });
  }
  return out;
}
