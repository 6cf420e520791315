/**
 * A native RTP engine driven straight through ffi/mod.ts and the rings, echoing every received
 * datagram back to its source from JS — the path the issue measures ("into JS and back out"):
 * shard → RX ring → JS → TX ring → shard. For the engine tests and bench/xdp_bench.ts; the
 * server uses native's engine class in src/rtp instead.
 *
 * @module
 */
import { nativeLibrary, unwrap } from "../../ffi/mod.ts";
import { RingReader, RingWriter } from "../../ffi/ring/ring.ts";

/** ffi/abi.h CC_RX_MALFORMED: a record whose bytes are not well-formed RTP or RTCP. */
const RX_MALFORMED = 2;

/** Engine kinds of ffi/abi.h. */
export type EngineKind = "io_uring" | "xdp";

/** Options of {@linkcode openEchoEngine}. */
export interface EchoEngineOptions {
  kind: EngineKind;
  /** Interface (xdp only). */
  ifname?: string;
  shards?: number;
  /** Local IPv4 of the call socket ("0.0.0.0" = any). */
  host: string;
  portMin: number;
  portMax: number;
}

/** A running engine with one call whose datagrams are echoed until disposed. */
export interface EchoEngine extends AsyncDisposable {
  /** The call's RTP port. */
  readonly port: number;
  /** Datagrams echoed so far. */
  readonly echoed: number;
  /** Datagrams the engine flagged malformed RTP (`CC_RX_MALFORMED`): seen, not echoed. */
  readonly malformedSeen: number;
  /** Engine counters of a shard [0] (ffi/engine/engine.h CC_ST_* order). */
  stats(shard?: number): bigint[];
}

function ipv4Bytes(host: string): number[] {
  return host.split(".").map(Number);
}

/**
 * Starts the engine, opens one call and echoes in the background until disposed.
 *
 * @example
 * ```ts ignore
 * await using echo = openEchoEngine({ kind: "xdp", ifname: "veth0", host: "10.0.0.1",
 *   portMin: 20000, portMax: 20100 });
 * console.log(echo.port);
 * ```
 */
export function openEchoEngine(options: EchoEngineOptions): EchoEngine {
  const lib = nativeLibrary();
  const sym = lib.symbols;
  const ifname = new TextEncoder().encode(`${options.ifname ?? ""}\0`);
  const cfg = new Uint8Array(32);
  const cv = new DataView(cfg.buffer);
  cv.setUint32(0, options.shards ?? 1, true);
  cv.setUint32(4, 4096, true);
  cv.setInt32(12, -1, true); // no pinning: the machine is shared
  if (options.ifname) {
    cv.setBigUint64(24, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(ifname))), true);
  }
  const kind = options.kind === "xdp" ? 2 : 1; // ffi/abi.h CC_ENGINE_XDP / CC_ENGINE_URING
  const out = new BigUint64Array(1);
  unwrap(
    sym.cc_engine_create(kind, cfg, new Uint8Array(out.buffer)),
    `Cannot create ${options.kind}`,
  );
  const engine = Deno.UnsafePointer.create(out[0]);
  if (!engine) throw new Error("cc_engine_create returned no engine");
  unwrap(sym.cc_engine_start(engine), "Cannot start the engine");
  const shards = sym.cc_engine_shards(engine);
  const readers: RingReader[] = [];
  const writers: RingWriter[] = [];
  for (let i = 0; i < shards; i++) {
    readers.push(new RingReader(sym.cc_engine_rx_ring(engine, i)!));
    writers.push(new RingWriter(sym.cc_engine_tx_ring(engine, i)!));
  }
  const call = new Uint8Array(32); // engine.h cc_call_cfg_t
  call.set(ipv4Bytes(options.host), 0);
  const ccv = new DataView(call.buffer);
  ccv.setUint16(4, options.portMin, true);
  ccv.setUint16(6, options.portMax, true);
  call[8] = 1; // rtcp-mux
  const opened = new Uint32Array(3);
  unwrap(sym.cc_call_open(engine, call, new Uint8Array(opened.buffer)), "Cannot open a call");
  const [callId, port, callShard] = opened;
  let echoed = 0;
  let malformedSeen = 0;
  let stopping = false;
  const loop = (async () => {
    let bell = sym.cc_engine_doorbell(engine);
    const tx = writers[callShard];
    while (!stopping) {
      let got = 0;
      for (const reader of readers) {
        got += reader.poll(1024, (rec, payload) => {
          if (rec.flags & RX_MALFORMED) {
            malformedSeen++;
            return;
          }
          // Full TX ring: the shard is behind; the datagram is dropped as a NIC would.
          if (
            tx.write(
              { call: rec.call, kind: rec.kind, port: rec.port, family: 4, ipv4: rec.ipv4 },
              payload,
            )
          ) {
            echoed++;
          }
        });
      }
      if (got > 0) {
        tx.flush();
        sym.cc_engine_kick(engine, callShard);
        continue;
      }
      const r = Number(await sym.cc_engine_wait(engine, bell, 200));
      if (r < 0) break; // stopped
      bell = r >>> 0;
    }
  })();
  let disposed = false;
  return {
    port,
    get echoed() {
      return echoed;
    },
    get malformedSeen() {
      return malformedSeen;
    },
    stats(shard = 0) {
      const s = new BigUint64Array(16);
      unwrap(sym.cc_engine_stats(engine, shard, new Uint8Array(s.buffer)), "Cannot read stats");
      return [...s];
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      stopping = true;
      sym.cc_call_close(engine, callId);
      await sym.cc_engine_stop(engine);
      await loop;
      sym.cc_engine_destroy(engine);
    },
  };
}
