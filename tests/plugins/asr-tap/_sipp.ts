/**
 * A sipp caller speaking a fixture: the fixture as µ-law (or A-law) RTP (20 ms) in a pcap
 * file that sipp's `play_pcap_audio` replays in real time, and a UAC scenario offering that
 * codec (and telephone-event) that plays it, optionally presses a digit, and hangs up.
 *
 * @module
 */
import { encodeAlaw, encodeUlaw } from "../../../src/codecs/g711.ts";

/** µ-law 20 ms frames of 8 kHz PCM. */
export function ulawFrames(pcm: Int16Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) out.push(encodeUlaw(pcm.subarray(i, i + 160)));
  return out;
}

/** A-law 20 ms frames of 8 kHz PCM. */
export function alawFrames(pcm: Int16Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) out.push(encodeAlaw(pcm.subarray(i, i + 160)));
  return out;
}

/**
 * A pcap (Ethernet, IPv4, UDP) of RTP packets carrying `frames` (PT `payloadType`, 0 =
 * PCMU), 20 ms apart. sipp replays the UDP payloads at the captured pace to the negotiated
 * address.
 */
export function rtpPcap(
  frames: readonly Uint8Array[],
  ssrc = 0x1234abcd,
  payloadType = 0,
): Uint8Array {
  const packets = frames.map((payload, k) => {
    const rtp = new Uint8Array(12 + payload.length);
    const v = new DataView(rtp.buffer);
    rtp[0] = 0x80;
    rtp[1] = (k === 0 ? 0x80 : 0) | payloadType; // marker on the first packet
    v.setUint16(2, k & 0xffff);
    v.setUint32(4, k * 160);
    v.setUint32(8, ssrc);
    rtp.set(payload, 12);
    const udpLength = 8 + rtp.length;
    const ipLength = 20 + udpLength;
    const frame = new Uint8Array(14 + ipLength);
    const f = new DataView(frame.buffer);
    frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0); // dst, src MAC
    f.setUint16(12, 0x0800);
    frame[14] = 0x45;
    f.setUint16(16, ipLength);
    frame[22] = 64; // TTL
    frame[23] = 17; // UDP
    frame.set([127, 0, 0, 1, 127, 0, 0, 1], 26);
    f.setUint16(34, 6000);
    f.setUint16(36, 6002);
    f.setUint16(38, udpLength);
    frame.set(rtp, 42);
    return { frame, micros: k * 20_000 };
  });
  const size = 24 + packets.reduce((n, p) => n + 16 + p.frame.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true); // Ethernet
  let at = 24;
  for (const { frame, micros } of packets) {
    view.setUint32(at, 1_700_000_000 + Math.floor(micros / 1e6), true);
    view.setUint32(at + 4, micros % 1e6, true);
    view.setUint32(at + 8, frame.length, true);
    view.setUint32(at + 12, frame.length, true);
    out.set(frame, at + 16);
    at += 16 + frame.length;
  }
  return out;
}

/** What else a {@linkcode uacScenario} does. */
export interface UacOptions {
  /** The codec offered (and in the pcap) [PCMU]. */
  readonly codec?: "PCMU" | "PCMA";
  /** The SDP's media port is sipp's `-set rec_port N` (a socket the test records on), not
   * sipp's own. */
  readonly recordPort?: boolean;
  /** A pcap of RFC 4733 events (PT 101) played after the speech and `pauseMs`. */
  readonly dtmfPcap?: string;
  /** Silence before the speech starts, ms [0]. */
  readonly leadMs?: number;
}

/**
 * A UAC scenario offering PCMU (or PCMA) that plays `pcap`, waits `pauseMs`, then (with
 * `dtmfPcap`) plays the digit and waits a second more, then sends BYE.
 */
export function uacScenario(pcap: string, pauseMs: number, options: UacOptions = {}): string {
  const { codec = "PCMU", recordPort = false, dtmfPcap, leadMs = 0 } = options;
  const pt = codec === "PCMU" ? 0 : 8;
  const port = recordPort ? "[$rec_port]" : "[auto_media_port]";
  const dtmf = dtmfPcap
    ? `
  <nop>
    <action>
      <exec play_pcap_audio="${dtmfPcap}" />
    </action>
  </nop>
  <pause milliseconds="1000" />`
    : "";
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="UAC speaking a fixture over ${codec}">
  ${recordPort ? '<Global variables="rec_port" />' : ""}
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      m=audio ${port} RTP/AVP ${pt} 101
      a=rtpmap:${pt} ${codec}/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="183" optional="true"></recv>
  <recv response="200" rtd="true"></recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  ${leadMs > 0 ? `<pause milliseconds="${leadMs}" />` : ""}
  <nop>
    <action>
      <exec play_pcap_audio="${pcap}" />
    </action>
  </nop>
  <pause milliseconds="${pauseMs}" />${dtmf}
  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"></recv>
</scenario>
`;
}
