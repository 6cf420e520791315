/**
 * The native source filter (ffi/pkt/src_filter.c: latching, source probation, the SSRC check)
 * against its reference, the TypeScript `SourceLatch` + `RtpReceiver` in the order
 * `RtpSession` applies them: both get the same packets and the same signalling, and every
 * verdict must agree — on the spoofing case of issue 17 and on seeded random streams.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { nativeLibrary } from "../../ffi/mod.ts";
import { SourceLatch } from "../../src/rtp/source_latch.ts";
import { RtpReceiver } from "../../src/rtp/rtp_receiver.ts";
import { newRtpCounters, type RtpCounters } from "../../src/rtp/session_types.ts";
import { parseRtp, serializeRtp } from "../../src/rtp/packet.ts";
import { inetBytes } from "../../src/rtp/engine/inet_address.ts";

const SF = {
  accept: 0x001,
  latched: 0x002,
  relatched: 0x004,
  ssrcChange: 0x008,
  dropPt: 0x100,
  dropSource: 0x200,
  dropStale: 0x400,
} as const;
const PAYLOADS = {
  audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
  telephoneEvent: { payloadType: 101, clockRate: 8000 },
} as const;

interface Packet {
  host: string;
  port: number;
  pt: number;
  seq: number;
  ssrc: number;
  at: number;
}

interface Options {
  symmetric: boolean;
  relatchUs: number;
  ssrcChangeUs: number;
  probation: number;
}

/** The TypeScript reference: RtpSession.#onRtp's decisions, as verdict bits. */
class Reference {
  readonly count: RtpCounters = newRtpCounters();
  readonly latch: SourceLatch;
  readonly receiver: RtpReceiver;

  constructor(o: Options) {
    this.latch = new SourceLatch({
      symmetric: o.symmetric,
      relatchUs: o.relatchUs,
      probationPackets: o.probation,
      rtcpPort: true,
      count: this.count,
      logger: undefined,
    });
    this.receiver = new RtpReceiver({
      reorderWindow: 4,
      maxReorderDelayMs: 60,
      ssrcChangeUs: o.ssrcChangeUs,
      probationPackets: o.probation,
      count: this.count,
      handlers: {
        payloads: PAYLOADS,
        onAudio: undefined,
        onDtmf: undefined,
        onSsrcChange: undefined,
      },
    });
  }

  rtp(p: Packet): number {
    const packet = parseRtp(serializeRtp({
      marker: false,
      payloadType: p.pt,
      sequenceNumber: p.seq,
      timestamp: 0,
      ssrc: p.ssrc,
      payload: new Uint8Array(4),
    }));
    if (p.pt !== PAYLOADS.audio.payloadType && p.pt !== PAYLOADS.telephoneEvent.payloadType) {
      this.count.unknownPayloadType++;
      return SF.dropPt;
    }
    const relatches = this.count.relatches;
    const verdict = this.latch.accept(
      { transport: "udp", hostname: p.host, port: p.port },
      p.at,
      p.seq,
    );
    if (verdict === "other") return SF.dropSource;
    let bits = SF.accept;
    if (verdict === "latched") {
      bits |= SF.latched | (this.count.relatches !== relatches ? SF.relatched : 0);
      this.receiver.expectNewStream();
    }
    const stale = this.count.staleSsrc, changes = this.count.ssrcChanges;
    this.receiver.receive(packet, p.at);
    if (this.count.staleSsrc !== stale) return SF.dropStale;
    if (this.count.ssrcChanges !== changes) bits |= SF.ssrcChange;
    return bits;
  }
}

/** The native filter over FFI. */
class Native {
  readonly #lib = nativeLibrary();
  readonly #mem = new Uint8Array(Number(this.#lib.symbols.cc_src_filter_footprint()));

  constructor(o: Options) {
    const cfg = new Uint8Array(16);
    const dv = new DataView(cfg.buffer);
    dv.setUint32(0, o.relatchUs, true);
    dv.setUint32(4, o.ssrcChangeUs, true);
    cfg[8] = o.probation;
    cfg[9] = o.symmetric ? 1 : 0;
    cfg[10] = PAYLOADS.audio.payloadType;
    cfg[11] = PAYLOADS.telephoneEvent.payloadType;
    assertEquals(this.#lib.symbols.cc_src_filter_init(this.#mem, cfg), 0);
  }

  remote(host: string, port: number): void {
    this.#lib.symbols.cc_src_filter_remote(this.#mem, inetBytes(host), port, 0x10000);
  }

  rtp(p: Packet): number {
    return this.#lib.symbols.cc_src_filter_rtp(
      this.#mem,
      inetBytes(p.host),
      p.port,
      p.pt,
      p.seq,
      p.ssrc,
      BigInt(p.at),
    );
  }
}

function both(o: Options) {
  const ref = new Reference(o), native = new Native(o);
  return {
    ref,
    remote(host: string, port: number) {
      ref.latch.setRemote({ hostname: host, port });
      native.remote(host, port);
    },
    /** Both verdicts; asserts they agree. */
    rtp(p: Packet, what: string): number {
      const want = ref.rtp(p), got = native.rtp(p);
      assertEquals(got.toString(16), want.toString(16), `${what}: ${JSON.stringify(p)}`);
      return got;
    },
    close: () => ref.receiver.close(),
  };
}

const DEFAULTS: Options = { symmetric: true, relatchUs: 1e6, ssrcChangeUs: 5e5, probation: 3 };

Deno.test("native source filter: five spoofed packets from the caller's address lose no caller frame, as in the reference", () => {
  const f = both(DEFAULTS);
  try {
    f.remote("192.0.2.1", 40000);
    let at = 1e6;
    const caller = (seq: number) => ({
      host: "192.0.2.1",
      port: 40000,
      pt: 0,
      seq,
      ssrc: 0x1111,
      at,
    });
    assertEquals(f.rtp(caller(100), "first"), SF.accept | SF.latched);
    for (let i = 1; i <= 5; i++) {
      at += 20_000;
      assertEquals(f.rtp({ ...caller(7000 + i), ssrc: 0x2222 }, "spoof"), SF.dropStale);
      assertEquals(f.rtp(caller(100 + i), "caller"), SF.accept);
    }
    // Silent caller: the new SSRC takes over on its third in-sequence packet.
    at += 600_000;
    for (let i = 0; i < 3; i++) {
      const v = f.rtp({ ...caller(9000 + i), ssrc: 0x2222, at: at + i }, "takeover");
      assertEquals(v, i < 2 ? SF.dropStale : SF.accept | SF.ssrcChange);
    }
  } finally {
    f.close();
  }
});

Deno.test("native source filter decides every packet of seeded random streams as the reference does", () => {
  // xorshift32: the same streams every run.
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  // IPv4 and IPv6 sources side by side: IPv6 ones that differ in either 8-byte half only
  // (the native filter compares the two halves as words).
  const hosts = ["192.0.2.1", "2001:db8::1", "2001:db8::2", "2001:db9::1", "198.51.100.7", "::1"];
  let checked = 0;
  const seen = { relatches: 0, ssrcChanges: 0, staleSsrc: 0, unknownPayloadType: 0 };
  for (const symmetric of [true, false]) {
    for (const probation of [1, 2, 3]) {
      const f = both({
        ...DEFAULTS,
        symmetric,
        probation,
        relatchUs: 200_000,
        ssrcChangeUs: 100_000,
      });
      try {
        // Six streams (source, SSRC), each with its own sequence, mostly in order; streams 1
        // and 5 share an address and port with different SSRCs (the spoofing shape).
        const streams = Array.from({ length: 6 }, (_, i) => ({
          host: hosts[i === 5 ? 1 : i],
          port: 40000 + 2 * ((i >> 1) & 1),
          ssrc: 0x1000 + i,
          seq: rand(65536),
        }));
        let at = 1e6;
        for (let i = 0; i < 4000; i++) {
          if (rand(400) === 0) f.remote(hosts[rand(hosts.length)], 40000 + 2 * rand(2));
          // Bursts of one stream, so sources both persist and go silent.
          const s = streams[rand(10) < 7 ? i % 2 : rand(streams.length)];
          const r = rand(20);
          s.seq = (s.seq + (r === 0 ? 2 + rand(5) : r === 1 ? 0 : 1)) & 0xffff;
          at += rand(10) === 0 ? rand(400_000) : rand(25_000);
          const pt = rand(50) === 0 ? 8 : rand(10) === 0 ? 101 : 0;
          f.rtp({ host: s.host, port: s.port, pt, seq: s.seq, ssrc: s.ssrc, at }, `packet ${i}`);
          checked++;
        }
        for (const k of ["relatches", "ssrcChanges", "staleSsrc", "unknownPayloadType"] as const) {
          seen[k] += f.ref.count[k];
        }
      } finally {
        f.close();
      }
    }
  }
  assertEquals(checked, 24000);
  // The streams exercised every kind of decision, so the comparison covered them all.
  assert(Object.values(seen).every((n) => n > 0), JSON.stringify(seen));
});
