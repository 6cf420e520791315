/**
 * A raw UDP SIP peer on loopback for tests that must send what no well-behaved UA sends
 * (never ACK, drop headers) and see every datagram the gateway sends back.
 *
 * @module
 */

/** A datagram the peer received. */
export interface Datagram {
  readonly text: string;
  readonly at: number;
  readonly from: Deno.NetAddr;
}

/** A raw UDP peer on loopback that records every datagram it gets. */
export function rawPeer(): Disposable & {
  readonly port: number;
  readonly received: Datagram[];
  send(text: string, to: Deno.NetAddr): Promise<void>;
  waitFor(check: (all: Datagram[]) => boolean, what: string, ms?: number): Promise<void>;
} {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const received: Datagram[] = [];
  const decoder = new TextDecoder();
  (async () => {
    try {
      for await (const [bytes, from] of socket) {
        received.push({
          text: decoder.decode(bytes),
          at: performance.now(),
          from: from as Deno.NetAddr,
        });
      }
    } catch { /* closed */ }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    received,
    async send(text, to) {
      await socket.send(new TextEncoder().encode(text), to);
    },
    async waitFor(check, what, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!check(received)) {
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for ${what}: got ${received.map(firstLine)}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    [Symbol.dispose]() {
      try {
        socket.close();
      } catch { /* closed */ }
    },
  };
}

export const firstLine = (d: Datagram) => d.text.slice(0, d.text.indexOf("\r\n"));
export const header = (text: string, name: string) =>
  new RegExp(`^${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, "im").exec(text)?.[1] ?? "";

/** A response to `request` built from its headers. */
export function responseTo(request: string, status: string, toTag: string): string {
  return [
    `SIP/2.0 ${status}`,
    `Via: ${header(request, "Via")}`,
    `From: ${header(request, "From")}`,
    `To: ${header(request, "To")};tag=${toTag}`,
    `Call-ID: ${header(request, "Call-ID")}`,
    `CSeq: ${header(request, "CSeq")}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** An SDP offer of PCMU from 127.0.0.1:`rtpPort` (nothing is sent there). */
export function pcmuOffer(rtpPort = 40_000): string {
  return [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${rtpPort} RTP/AVP 0 101`,
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "",
  ].join("\r\n");
}

/**
 * An INVITE from the raw peer (on `peerPort`) to the gateway (on `port`); `headers` replace
 * the body headers [`Content-Type: application/sdp`].
 */
export function rawInvite(
  port: number,
  peerPort: number,
  options: { callId?: string; body?: string; bodyHeaders?: string[] } = {},
): { text: string; callId: string; branch: string } {
  const branch = `z9hG4bK${crypto.randomUUID().slice(0, 8)}`;
  const callId = options.callId ?? `${branch}@127.0.0.1`;
  const body = options.body ?? pcmuOffer();
  const text = [
    `INVITE sip:+14155550199@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:+14155550100@127.0.0.1:${peerPort}>;tag=raw`,
    `To: <sip:+14155550199@127.0.0.1:${port}>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    `Contact: <sip:+14155550100@127.0.0.1:${peerPort}>`,
    ...(options.bodyHeaders ?? ["Content-Type: application/sdp"]),
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    "",
    body,
  ].join("\r\n");
  return { text, callId, branch };
}

/** The 200 OK to a BYE (or any request) `request`, echoing its headers. */
export function okTo(request: string): string {
  return [
    "SIP/2.0 200 OK",
    `Via: ${header(request, "Via")}`,
    `From: ${header(request, "From")}`,
    `To: ${header(request, "To")}`,
    `Call-ID: ${header(request, "Call-ID")}`,
    `CSeq: ${header(request, "CSeq")}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}
