/** Helpers for RTP tests over real UDP on loopback. */
import {
  parseRtp,
  type RtpAudioFrame,
  type RtpPacket,
  type RtpSession,
  serializeRtp,
} from "../../src/rtp/mod.ts";

/** G.711 µ-law and telephone events, as the tests' SDP agrees on them. */
export const payloads = {
  audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
  telephoneEvent: { payloadType: 101, clockRate: 8000 },
} as const;

/** The first `count` audio frames `session` delivers (resolves once it has them). */
export function frames(session: RtpSession, count: number): Promise<RtpAudioFrame[]> {
  const got: RtpAudioFrame[] = [];
  const done = Promise.withResolvers<RtpAudioFrame[]>();
  const sub = session.on("audio", (f) => {
    got.push(f);
    if (got.length === count) {
      sub[Symbol.dispose]();
      done.resolve(got);
    }
  });
  return done.promise;
}

/** A test port range away from the default, wide enough for parallel tests. */
export const TEST_PORTS = { min: 30000, max: 39999 };

/**
 * A raw UDP peer that crafts and captures RTP, bound on `hostname` (loopback, IPv4 or IPv6),
 * and sending to the same address (where the session under test listens).
 */
export class RawPeer implements Disposable {
  readonly conn: Deno.DatagramConn;
  readonly received: { bytes: Uint8Array; at: number; from: Deno.NetAddr }[] = [];
  readonly #loop: Promise<void>;

  constructor(port = 0, readonly hostname = "127.0.0.1") {
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
    this.conn = conn;
    this.#loop = (async () => {
      try {
        for (;;) {
          const [bytes, from] = await conn.receive();
          this.received.push({ bytes, at: performance.now(), from: from as Deno.NetAddr });
        }
      } catch {
        // closed
      }
    })();
  }

  get port(): number {
    return (this.conn.addr as Deno.NetAddr).port;
  }

  packets(): RtpPacket[] {
    return this.received.map((r) => parseRtp(r.bytes));
  }

  send(to: number, packet: Partial<RtpPacket> & { sequenceNumber: number }): Promise<number> {
    return this.conn.send(
      serializeRtp({
        marker: false,
        payloadType: 0,
        timestamp: packet.sequenceNumber * 160,
        ssrc: 0x1111,
        payload: new Uint8Array(160).fill(0xff),
        ...packet,
      }),
      { transport: "udp", hostname: this.hostname, port: to },
    );
  }

  sendRaw(to: number, bytes: Uint8Array): Promise<number> {
    return this.conn.send(bytes, { transport: "udp", hostname: this.hostname, port: to });
  }

  [Symbol.dispose](): void {
    this.conn.close();
    void this.#loop;
  }
}

/** Waits until `condition()` holds, polling every 5 ms, or throws after `ms`. */
export async function waitFor(
  condition: () => boolean,
  ms = 2000,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
