import { assertEquals } from "@std/assert";
import { parseRtp, serializeRtp } from "../../src/rtp/packet.ts";
import { RtpSender } from "../../src/rtp/rtp_sender.ts";
import type { RtpSocket } from "../../src/rtp/engine/types.ts";
import { newRtpCounters } from "../../src/rtp/session_types.ts";

const remote: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 40000 };
const state = {
  payloads: {
    audio: { payloadType: 8, codec: "g711_alaw" as const, clockRate: 8000 },
    comfortNoise: { payloadType: 13, clockRate: 8000 },
  },
  remote,
  direction: "sendrecv" as const,
  closed: false,
};

/** Each packet as sent (copied, as a ring write copies) and as `serializeRtp` would build it. */
function sendAll(socket: RtpSocket, sent: Uint8Array[]): Uint8Array[] {
  const sender = new RtpSender({
    socket,
    ssrc: 0xdeadbeef,
    count: newRtpCounters(),
    clock: () => 0,
    logger: undefined,
    state,
  });
  sender.sendAudio(new Uint8Array(160).fill(0xd5), 160, false);
  sender.sendComfortNoise(127, 160); // a 1-byte payload: a shorter packet in the same buffer
  sender.sendAudio(new Uint8Array(160).fill(0x55), 160, false);
  sender.sendAudio(new Uint8Array(320).fill(0x2a), 320, true);
  return sent.map((bytes) => {
    const p = parseRtp(bytes);
    return serializeRtp({ ...p, csrc: undefined, extension: undefined, padding: undefined });
  });
}

Deno.test("RTP sender on a synchronous socket reuses one buffer and sends each packet exactly", () => {
  const sent: Uint8Array[] = [];
  const views = new Set<ArrayBufferLike>();
  const socket: RtpSocket = {
    send: () => Promise.reject(new Error("not used")),
    sendNow: (bytes) => {
      views.add(bytes.buffer);
      sent.push(bytes.slice());
      return true;
    },
  };
  const rebuilt = sendAll(socket, sent);
  assertEquals(sent.length, 4);
  assertEquals(views.size, 1); // no buffer per packet
  assertEquals(sent, rebuilt); // byte for byte what serializeRtp writes
  const [a, cn, b, c] = sent.map(parseRtp);
  assertEquals([a.marker, a.payloadType, a.payload.length, a.payload[0]], [true, 8, 160, 0xd5]);
  assertEquals([cn.payloadType, cn.payload.length, cn.payload[0]], [13, 1, 127]);
  // After comfort noise the next audio starts a talkspurt (RFC 3389 §4).
  assertEquals([b.marker, b.payload[0]], [true, 0x55]);
  assertEquals([c.marker, c.payload.length, c.payload[319]], [true, 320, 0x2a]);
  assertEquals(b.sequenceNumber, (a.sequenceNumber + 2) & 0xffff);
  assertEquals(c.timestamp, (b.timestamp + 160) >>> 0);
  assertEquals(a.ssrc, 0xdeadbeef);
});

Deno.test("RTP sender on an asynchronous socket gives every packet its own buffer", async () => {
  const sent: Uint8Array[] = [];
  const socket: RtpSocket = {
    send: (bytes) => {
      sent.push(bytes); // kept, not copied: the send reads it later
      return Promise.resolve(bytes.length);
    },
  };
  sendAll(socket, sent);
  // Sends are in order, one in flight: let the queue drain.
  while (sent.length < 4) await Promise.resolve();
  assertEquals(new Set(sent.map((b) => b.buffer)).size, 4);
  assertEquals(sent.map((b) => parseRtp(b).payload[0]), [0xd5, 127, 0x55, 0x2a]);
});
