/**
 * SIP set-up of the agent tests: the `sip` config section routing every inbound call from
 * the loopback trunk to an agent, and a UDP socket standing in for the caller's media port
 * that records every RTP packet the gateway sends there (sipp only sends, from `-mp`).
 *
 * @module
 */
import { decodeAlaw, decodeUlaw } from "../../src/codecs/g711.ts";
import { isRtcpPacket, parseRtp } from "../../src/rtp/packet.ts";

/** A recording media port. */
export interface RtpRecorder {
  /** The port to name in the SDP (sipp's `-set rec_port`). */
  readonly port: number;
  /** Stops recording; resolves with the audio received in RTP sequence order. */
  stop(): Promise<Int16Array>;
}

/** Records G.711 RTP (PT 0 or 8) on a fresh loopback port. */
export function recordRtp(payloadType: 0 | 8): RtpRecorder {
  const media = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const received: { seq: number; pcm: Int16Array }[] = [];
  const decode = payloadType === 0 ? decodeUlaw : decodeAlaw;
  const recording = (async () => {
    try {
      for (;;) {
        const [bytes] = await media.receive();
        if (isRtcpPacket(bytes)) continue;
        const packet = parseRtp(bytes);
        if (packet.payloadType === payloadType) {
          received.push({ seq: packet.sequenceNumber, pcm: decode(packet.payload) });
        }
      }
    } catch (error) {
      // Closed: the test is done.
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        throw error;
      }
    }
  })();
  return {
    port: (media.addr as Deno.NetAddr).port,
    async stop() {
      media.close();
      await recording;
      received.sort((a, b) => ((a.seq - b.seq + 0x8000) & 0xffff) - 0x8000);
      const heard = new Int16Array(received.length * 160);
      received.forEach((p, i) => heard.set(p.pcm.subarray(0, 160), i * 160));
      return heard;
    },
  };
}

/**
 * The `sip` config section: a loopback trunk whose every inbound call binds `agent`. The
 * gateway listens on a port it binds itself (0: a port probed free here could be taken by a
 * test beside this one before the server binds it); call the server's `sipPort`.
 */
export function inboundToAgent(agent: string): Record<string, unknown> {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    publicAddress: "127.0.0.1",
    trunks: [{ name: "loop", address: "127.0.0.1:5999", allowFrom: ["127.0.0.1"] }],
    inbound: [{ match: "*", action: { agent } }],
  };
}
