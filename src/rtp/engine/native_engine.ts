/**
 * The native RTP engines (`io_uring`, `xdp`) on the JS side: one `cc_engine` of
 * `libclutch_native.so` (ffi/engine/engine.h) with a shard thread per core. Each session's
 * sockets belong to one shard; datagrams come in through the shard's RX ring and go out
 * through its TX ring (ffi/ring), so JS makes no syscall per packet.
 *
 * Receive: one loop waits on the engine's doorbell (`cc_engine_wait`, a `nonblocking` FFI
 * call: it runs on a worker thread and resolves once any shard published a batch), then
 * drains every RX ring synchronously and dispatches each record to its call's handler — the
 * JS cost is one wake-up per batch, not per packet. The loop runs only while calls are open,
 * so an idle engine leaves no pending op (and a test no leaked op).
 *
 * Send: `sendNow` writes the TX ring (one copy into the ring slot) and, once per microtask
 * checkpoint, kicks the shard's eventfd (one syscall per batch).
 *
 * Filter (io_uring): a session's `filter` hands its source policy to the shard
 * (ffi/pkt/src_filter.c, decision for decision the same as `SourceLatch` + `RtpReceiver`):
 * the shard drops RTP of other payload types, sources and stale SSRCs before the ring, and
 * flags what it kept with what it changed (latched, SSRC change); JS applies only that.
 *
 * Steering (io_uring, ≥ 2 shards): each call's ports are bound once per shard in a
 * sk_reuseport group and bpf/steer.bpf.c delivers every datagram to the owner's socket.
 *
 * Validation here, at bind time; the per-packet code trusts the ring.
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import {
  NativeCode,
  NativeError,
  type NativeLibrary,
  nativeLibrary,
  unwrap,
} from "../../../ffi/mod.ts";
import { RingReader, type RingRecord, RingWriter } from "../../../ffi/ring/ring.ts";
import { inetBytes, inetText, isIpv6 } from "./inet_address.ts";
import type { RtpPortRange } from "../port_allocator.ts";
import type {
  DatagramHandler,
  RtpEngine,
  RtpEngineName,
  RtpSocket,
  RtpSockets,
  SourceFilterConfig,
  SourceFilterDrops,
} from "./types.ts";

/** ffi/abi.h engine kinds. */
const KIND: Record<Exclude<RtpEngineName, "deno">, number> = { io_uring: 1, xdp: 2 };
const KIND_RTCP = 1;
/** ffi/abi.h CC_RX_FILTERED: the shard's source filter passed this RTP packet. */
const RX_FILTERED = 4;
/** Records handed over per ring per drain (bounds one synchronous stretch of JS). */
const DRAIN_BATCH = 4096;
/** The wait wakes this often even when idle, to notice the last call closing. */
const WAIT_MS = 1000;

/** Options for {@linkcode NativeRtpEngine.open}. */
export interface NativeRtpEngineOptions {
  /** Shard threads [one per online CPU]. */
  readonly shards?: number;
  /** Records per ring (power of two) [4096]. */
  readonly ringDepth?: number;
  /** Spin this long before sleeping, µs (and SO_BUSY_POLL) [0 = off]. */
  readonly busyPollUs?: number;
  /** Pin shard i to CPU (firstCpu + i) mod ncpu [0]; -1 leaves them unpinned. */
  readonly firstCpu?: number;
  /**
   * While packets flow, drain the rings every this many ms (a batch per timer tick) instead
   * of waking on each batch the shards publish; when a drain finds nothing, sleep on the
   * doorbell again [1; 0 = wake on every batch]. Trades ≤ this much latency for one JS
   * wake-up per tick: a wake-up through a `nonblocking` FFI call costs ~10–30 µs.
   */
  readonly batchMs?: number;
  /**
   * The shard's batch tick, µs: after receiving, it sleeps this long before waiting again, so
   * it wakes once per batch rather than per packet (engine.h `CC_ENGINE_BATCH_US`) [0 = off].
   */
  readonly shardBatchUs?: number;
  /**
   * (io_uring, two shards or more) Steer each call's datagrams to the shard that owns it with
   * sk_reuseport (bpf/steer.bpf.c): the first `bind`'s port range is then bound once per shard
   * in a reuseport group per port [true]. When the program cannot load (no BPF, no object, a
   * range too wide for the socket array) the engine logs why and binds one socket per call.
   */
  readonly steer?: boolean;
  /**
   * The port range to steer (the RTP range of the configuration), set up when the engine
   * opens, so its first log lines say whether steering runs [the first `bind`'s range].
   */
  readonly steerPorts?: RtpPortRange;
  /** (xdp) The interface AF_XDP binds to [`xdpInterfaceFor(hostname)`, else `lo`]. */
  readonly interface?: string;
  /** (xdp) Its first queue [0]; one shard per queue from there. */
  readonly queue?: number;
  readonly logger?: Logger;
}

/** Interface names engines point at (a few bytes each, kept for the process's life). */
const interfaceNames = new Set<Uint8Array>();

/** Engine config bytes (engine.h `cc_engine_cfg_t`) and the buffers it points into. */
interface EngineConfig {
  readonly bytes: Uint8Array;
  /** The interface name the config points at: keep it alive while the config is used. */
  readonly keep: Uint8Array | undefined;
}

function engineConfig(options: NativeRtpEngineOptions, kind = 1): EngineConfig {
  const bytes = new Uint8Array(32);
  const dv = new DataView(bytes.buffer);
  const xdp = kind === KIND.xdp;
  // One shard per NIC queue for AF_XDP (veth and lo have one).
  dv.setUint32(0, options.shards ?? (xdp ? 1 : 0), true);
  dv.setUint32(4, options.ringDepth ?? 0, true);
  dv.setUint32(8, options.busyPollUs ?? 0, true);
  dv.setInt32(12, options.firstCpu ?? 0, true);
  dv.setUint32(16, (Math.min(0xffff, options.shardBatchUs ?? 0) << 16) >>> 0, true);
  dv.setUint32(20, options.queue ?? 0, true);
  let keep: Uint8Array | undefined;
  if (xdp) {
    keep = new TextEncoder().encode(`${options.interface ?? "lo"}\0`);
    dv.setBigUint64(24, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(keep))), true);
  }
  return { bytes, keep };
}

/**
 * The interface AF_XDP must bind to for RTP on `hostname`: `lo` for loopback addresses, the
 * interface holding that IPv4 address, or undefined (`0.0.0.0` names no single interface).
 *
 * @example
 * ```ts
 * import { xdpInterfaceFor } from "./native_engine.ts";
 * console.log(xdpInterfaceFor("127.0.0.1")); // lo
 * ```
 */
export function xdpInterfaceFor(hostname: string): string | undefined {
  if (hostname.startsWith("127.")) return "lo";
  if (hostname === "0.0.0.0") return undefined;
  return Deno.networkInterfaces().find((i) => i.family === "IPv4" && i.address === hostname)
    ?.name;
}

/**
 * Whether engine `name` can run on this machine: `undefined` when it can, else why not
 * (library missing, no io_uring, AF_XDP not built …).
 *
 * @example
 * ```ts ignore
 * import { nativeEngineUnavailable } from "./native_engine.ts";
 * console.log(nativeEngineUnavailable("io_uring") ?? "io_uring works here");
 * ```
 */
export function nativeEngineUnavailable(
  name: Exclude<RtpEngineName, "deno">,
  options: NativeRtpEngineOptions = {},
): string | undefined {
  let lib: NativeLibrary;
  try {
    lib = nativeLibrary();
  } catch (error) {
    return (error as Error).message;
  }
  const cfg = engineConfig(options, KIND[name]);
  const rc = lib.symbols.cc_engine_probe(KIND[name], cfg.bytes);
  if (rc === 0) return undefined;
  return new NativeError(`Cannot run the ${name} engine`, rc, lastError(lib)).message;
}

function lastError(lib: NativeLibrary): string {
  const p = lib.symbols.cc_engine_last_error();
  return p ? Deno.UnsafePointerView.getCString(p) : "";
}

function ipv4Of(hostname: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) {
    throw new TypeError(
      `Cannot bind a native RTP socket: "${hostname}" is not an IPv4 or IPv6 address`,
    );
  }
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/**
 * `hostname` as the source filter's 16 bytes (IPv6, IPv4 IPv4-mapped: inet_address.ts); `::`
 * (no datagram's source) for what is not an address literal, so nothing matches it.
 */
function filterAddress(hostname: string): Uint8Array {
  try {
    return inetBytes(hostname);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return new Uint8Array(16); // a host name: the SDP gave no address to fix the source to
  }
}

function sameAddr6(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

function ipv4Text(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** The handlers and address cache of one open call. */
interface CallEntry {
  readonly shard: number;
  onRtp: DatagramHandler | undefined;
  onRtcp: DatagramHandler | undefined;
  /** The last source seen, reused while it does not change (no string per packet). */
  fromFamily: number;
  fromIp: number;
  readonly from6: Uint8Array;
  fromPort: number;
  from: Deno.NetAddr | undefined;
  ended: PromiseWithResolvers<void>;
}

/**
 * A native engine. Open with {@linkcode NativeRtpEngine.open}; close after every session
 * closed (closing twice is a no-op). Sessions get its sockets through `bind`.
 *
 * @example
 * ```ts ignore
 * import { NativeRtpEngine } from "./native_engine.ts";
 * await using engine = NativeRtpEngine.open("io_uring", { shards: 2 });
 * const sockets = engine.bind("127.0.0.1", { min: 30000, max: 30999 }, false);
 * sockets.close();
 * ```
 */
export class NativeRtpEngine implements RtpEngine, AsyncDisposable {
  readonly name: RtpEngineName;
  readonly #lib: NativeLibrary;
  readonly #handle: Deno.PointerObject;
  readonly #rx: RingReader[] = [];
  readonly #tx: RingWriter[] = [];
  readonly #calls = new Map<number, CallEntry>();
  readonly #dirty = new Set<number>();
  readonly #logger: Logger | undefined;
  readonly #batchMs: number;
  #kickScheduled = false;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #out3 = new Uint32Array(3);
  readonly #callCfg = new Uint8Array(32); // engine.h cc_call_cfg_t
  readonly #stats = new BigUint64Array(16);
  readonly #drops = new Uint32Array(3);
  readonly #steerWanted: boolean;
  #steering: { readonly active: boolean; readonly why: string } | undefined;
  /** Records whose call was already closed (late packets in the ring). */
  unknownCall = 0;

  private constructor(
    name: RtpEngineName,
    lib: NativeLibrary,
    handle: Deno.PointerObject,
    logger: Logger | undefined,
    batchMs: number,
    steer: boolean,
  ) {
    this.name = name;
    this.#steerWanted = steer;
    this.#lib = lib;
    this.#handle = handle;
    this.#logger = logger;
    this.#batchMs = batchMs;
    const shards = lib.symbols.cc_engine_shards(handle);
    for (let i = 0; i < shards; i++) {
      this.#rx.push(new RingReader(lib.symbols.cc_engine_rx_ring(handle, i)!));
      this.#tx.push(new RingWriter(lib.symbols.cc_engine_tx_ring(handle, i)!));
    }
  }

  /**
   * Creates and starts the engine's shard threads.
   *
   * @throws {NativeError} when it cannot run here (`code` -1005), or setup failed.
   * @throws {Error} when the library is not built or not loadable.
   */
  static open(
    name: Exclude<RtpEngineName, "deno">,
    options: NativeRtpEngineOptions = {},
  ): NativeRtpEngine {
    const lib = nativeLibrary();
    const out = new BigUint64Array(1);
    const cfg = engineConfig(options, KIND[name]);
    const rc = lib.symbols.cc_engine_create(KIND[name], cfg.bytes, new Uint8Array(out.buffer));
    if (cfg.keep) interfaceNames.add(cfg.keep); // the engine may read it after create
    if (rc !== 0) throw new NativeError(`Cannot create the ${name} engine`, rc, lastError(lib));
    const handle = Deno.UnsafePointer.create(out[0])!;
    const started = lib.symbols.cc_engine_start(handle);
    if (started !== 0) {
      const error = new NativeError(`Cannot start the ${name} engine`, started, lastError(lib));
      lib.symbols.cc_engine_destroy(handle);
      throw error;
    }
    const engine = new NativeRtpEngine(
      name,
      lib,
      handle,
      options.logger,
      options.batchMs ?? 1,
      options.steer ?? true,
    );
    if (options.steerPorts) engine.#setUpSteering(options.steerPorts);
    return engine;
  }

  /** Shard threads. */
  get shards(): number {
    return this.#rx.length;
  }

  /** Calls open now. */
  get openCalls(): number {
    return this.#calls.size;
  }

  /** The native counters of one shard (ffi/engine/engine.h `CC_ST_*`). */
  stats(shard: number): Record<string, number> {
    unwrap(
      this.#lib.symbols.cc_engine_stats(this.#handle, shard, new Uint8Array(this.#stats.buffer)),
      "stats",
    );
    const names = [
      "rxPackets",
      "rxBytes",
      "rxMalformed",
      "rxRingFull",
      "rxUnknownCall",
      "txPackets",
      "txBytes",
      "txErrors",
      "txNoRemote",
      "wakeups",
      "batches",
      "rxStray",
      "rxFiltered",
    ];
    return Object.fromEntries(names.map((n, i) => [n, Number(this.#stats[i])]));
  }

  /**
   * Whether sk_reuseport steering runs, and why (or why not); undefined until the first
   * `bind` (it is set up for that bind's port range).
   */
  get steering(): { readonly active: boolean; readonly why: string } | undefined {
    return this.#steering;
  }

  /** The steering program's counters (bpf/cc_bpf.h `CC_STEER_STAT_*`), when it runs. */
  steerStats(): { flow: number; port: number; unsteered: number; missed: number } | undefined {
    if (!this.#steering?.active) return undefined;
    const out = new BigUint64Array(4);
    unwrap(
      this.#lib.symbols.cc_engine_steer_stats(this.#handle, new Uint8Array(out.buffer)),
      "steer stats",
    );
    const [flow, port, unsteered, missed] = [...out].map(Number);
    return { flow, port, unsteered, missed };
  }

  /** Sets steering up once, for the first range bound (setup, not per call). */
  #setUpSteering(range: RtpPortRange): void {
    if (this.#steering) return;
    const shards = this.shards;
    if (!this.#steerWanted || this.name !== "io_uring" || shards < 2) {
      const why = !this.#steerWanted
        ? "steering is off (steer: false)"
        : this.name !== "io_uring"
        ? `the ${this.name} engine steers by NIC queue`
        : "one shard: nothing to steer";
      this.#steering = { active: false, why };
      return;
    }
    const rc = this.#lib.symbols.cc_engine_steer(this.#handle, range.min, range.max);
    if (rc === 0) {
      this.#steering = {
        active: true,
        why: `sk_reuseport steers ports ${range.min}-${range.max} across ${shards} shards`,
      };
      this.#logger?.info("RTP steering: sk_reuseport", {
        engine: this.name,
        shards,
        ports: `${range.min}-${range.max}`,
      });
      return;
    }
    this.#steering = { active: false, why: lastError(this.#lib) };
    this.#logger?.warn("RTP steering off: one socket per call on its shard", {
      engine: this.name,
      shards,
      reason: this.#steering.why,
    });
  }

  bind(hostname: string, range: RtpPortRange, mux: boolean): RtpSockets {
    if (this.#closing) {
      throw new Error(`Cannot bind RTP sockets: the ${this.name} engine is closed`);
    }
    const min = range.min + (range.min % 2);
    const max = range.max - (mux ? 0 : 1);
    if (
      !Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min > max
    ) {
      throw new RangeError(`Invalid RTP port range: ${range.min}-${range.max}`);
    }
    this.#setUpSteering(range);
    const cfg = new DataView(this.#callCfg.buffer);
    this.#callCfg.fill(0);
    if (isIpv6(hostname)) { // dual-stack sockets (io_uring; the xdp engine refuses)
      cfg.setUint8(9, 6);
      inetBytes(hostname, this.#callCfg.subarray(16, 32));
    } else {
      // ipv4 in network byte order in memory.
      cfg.setUint32(0, ipv4Of(hostname), false);
      cfg.setUint8(9, 4);
    }
    cfg.setUint16(4, range.min, true);
    cfg.setUint16(6, range.max, true);
    cfg.setUint8(8, mux ? 1 : 0);
    cfg.setUint16(12, 0, true);
    const rc = this.#lib.symbols.cc_call_open(
      this.#handle,
      this.#callCfg,
      new Uint8Array(this.#out3.buffer),
    );
    if (rc === NativeCode.full || rc === -98 /* EADDRINUSE */) {
      throw new Deno.errors.AddrInUse(
        `Cannot bind RTP socket: no free port pair in ${range.min}-${range.max}`,
      );
    }
    if (rc !== 0) throw new NativeError("Cannot bind RTP sockets", rc, lastError(this.#lib));
    const [call, port, shard] = this.#out3;
    const entry: CallEntry = {
      shard,
      onRtp: undefined,
      onRtcp: undefined,
      fromFamily: 0,
      fromIp: -1,
      from6: new Uint8Array(16),
      fromPort: -1,
      from: undefined,
      ended: Promise.withResolvers<void>(),
    };
    this.#calls.set(call, entry);
    const socket = (kind: number): RtpSocket => {
      // The destination parsed once per peer, not per send: a leg sends to the same latched
      // source 50 times a second (the regex in ipv4Of was 1.7 % of the server's CPU).
      const dest = { call, kind, port: 0, family: 4, ipv4: 0, addr6: new Uint8Array(16) };
      let destHost: string | undefined;
      const sendNow = (bytes: Uint8Array, to: Deno.NetAddr): boolean => {
        if (!this.#calls.has(call)) return false;
        if (to.hostname !== destHost) {
          // IPv6 (or an IPv4-mapped literal) as 16 bytes: the shard maps IPv4 as its socket needs.
          if (to.hostname.includes(":")) {
            dest.family = 6;
            inetBytes(to.hostname, dest.addr6);
          } else {
            dest.family = 4;
            dest.ipv4 = ipv4Of(to.hostname);
          }
          destHost = to.hostname;
        }
        dest.port = to.port;
        const ok = this.#tx[shard].write(dest, bytes);
        if (ok) this.#scheduleKick(shard);
        return ok;
      };
      return {
        sendNow,
        send: (bytes, to) =>
          sendNow(bytes, to)
            ? Promise.resolve(bytes.length)
            : Promise.reject(new Error("Cannot send RTP: the TX ring is full or the call closed")),
      };
    };
    let closed = false;
    let finalDrops: SourceFilterDrops | undefined;
    const filterDrops = (): SourceFilterDrops => {
      const out = new Uint32Array(3);
      this.#lib.symbols.cc_call_filter_drops(this.#handle, call, new Uint8Array(out.buffer));
      return { wrongSource: out[0], staleSsrc: out[1], unknownPayloadType: out[2] };
    };
    return {
      port,
      rtp: socket(0),
      rtcp: mux ? undefined : socket(KIND_RTCP),
      listen: (onRtp, onRtcp) => {
        entry.onRtp = onRtp;
        entry.onRtcp = onRtcp;
        this.#ensureLoop();
        return entry.ended.promise;
      },
      filter: this.name === "io_uring"
        ? (config: SourceFilterConfig): boolean => {
          const cfg = new Uint8Array(16);
          const dv = new DataView(cfg.buffer);
          dv.setUint32(0, Math.min(0xffffffff, Math.max(0, Math.round(config.relatchUs))), true);
          dv.setUint32(4, Math.min(0xffffffff, Math.max(0, Math.round(config.ssrcChangeUs))), true);
          cfg[8] = Math.min(255, Math.max(1, Math.floor(config.probationPackets)));
          cfg[9] = config.symmetric ? 1 : 0;
          cfg[10] = config.audioPayloadType & 0x7f;
          cfg[11] = config.eventPayloadType === undefined ? 0xff : config.eventPayloadType & 0x7f;
          return this.#lib.symbols.cc_call_filter(this.#handle, call, cfg) === 0;
        }
        : undefined,
      filterRemote: (remote) => {
        const rtcp = remote.rtcpPort ?? 0x10000;
        this.#lib.symbols.cc_call_filter_remote(
          this.#handle,
          call,
          filterAddress(remote.hostname),
          remote.port,
          rtcp,
        );
      },
      filterDrops: (): SourceFilterDrops => {
        if (finalDrops) return finalDrops;
        const out = this.#drops;
        this.#lib.symbols.cc_call_filter_drops(this.#handle, call, new Uint8Array(out.buffer));
        return { wrongSource: out[0], staleSsrc: out[1], unknownPayloadType: out[2] };
      },
      close: () => {
        if (closed) return;
        // The filter's last drops, kept for the session's counters after the call is gone.
        finalDrops = filterDrops();
        closed = true;
        this.#calls.delete(call);
        const rc = this.#lib.symbols.cc_call_close(this.#handle, call);
        if (rc !== 0) {
          this.#logger?.warn("Native RTP call close failed", {
            call,
            reason: lastError(this.#lib),
          });
        }
        // The listener ends once the loop no longer serves this call (at once, or when the
        // loop exits after the last call).
        if (this.#calls.size > 0 || !this.#loop) entry.ended.resolve();
        else {
          this.#lib.symbols.cc_engine_wake(this.#handle); // the pending wait returns now
          this.#loop.then(() => entry.ended.resolve());
        }
      },
    };
  }

  #scheduleKick(shard: number): void {
    this.#dirty.add(shard);
    if (this.#kickScheduled) return;
    this.#kickScheduled = true;
    queueMicrotask(() => {
      this.#kickScheduled = false;
      for (const s of this.#dirty) {
        this.#tx[s].flush();
        this.#lib.symbols.cc_engine_kick(this.#handle, s);
      }
      this.#dirty.clear();
    });
  }

  #ensureLoop(): void {
    if (this.#loop || this.#closing) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      // A call opened while the loop was exiting.
      if (this.#calls.size > 0 && !this.#closing) this.#ensureLoop();
    });
  }

  readonly #dispatch = (rec: RingRecord, payload: Uint8Array): void => {
    const entry = this.#calls.get(rec.call);
    if (!entry) {
      this.unknownCall++;
      return;
    }
    if (rec.family === 6) {
      if (
        entry.fromFamily !== 6 || entry.fromPort !== rec.port || !sameAddr6(entry.from6, rec.addr6)
      ) {
        entry.fromFamily = 6;
        entry.from6.set(rec.addr6);
        entry.fromPort = rec.port;
        entry.from = { transport: "udp", hostname: inetText(rec.addr6), port: rec.port };
      }
    } else if (
      entry.fromFamily !== 4 || entry.fromIp !== rec.ipv4 || entry.fromPort !== rec.port
    ) {
      entry.fromFamily = 4;
      entry.fromIp = rec.ipv4;
      entry.fromPort = rec.port;
      entry.from = { transport: "udp", hostname: ipv4Text(rec.ipv4), port: rec.port };
    }
    const handler = rec.kind === KIND_RTCP ? entry.onRtcp : entry.onRtp;
    // A copy: the ring slot is reused once this batch is released, and the session's reorder
    // buffer keeps payload views.
    handler?.(
      payload.slice(),
      entry.from!,
      rec.arrivalUs,
      rec.flags & RX_FILTERED ? rec.flags : undefined,
    );
  };

  /** Drains every RX ring once; returns the records handed over. */
  drain(): number {
    let n = 0;
    for (const ring of this.#rx) {
      let got: number;
      do {
        got = ring.poll(DRAIN_BATCH, this.#dispatch);
        n += got;
      } while (got === DRAIN_BATCH);
    }
    return n;
  }

  async #run(): Promise<void> {
    const { cc_engine_doorbell, cc_engine_wait } = this.#lib.symbols;
    while (this.#calls.size > 0 && !this.#closing) {
      // Read the bell before draining: a batch published during the drain moves it, so the
      // wait below returns at once instead of sleeping on it.
      const seen = cc_engine_doorbell(this.#handle);
      if (this.drain() > 0 && this.#batchMs > 0) {
        // Packets are flowing: let the next batch gather for a tick (no wake-up per batch).
        await new Promise((resolve) => setTimeout(resolve, this.#batchMs));
        continue;
      }
      const bell = await cc_engine_wait(this.#handle, seen, WAIT_MS);
      if (Number(bell) < 0) break; // CC_ESTATE: stopping
    }
    this.drain();
  }

  /** Stops the shards (joining their threads), then frees the engine. Twice is a no-op. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const [call, entry] of this.#calls) {
        this.#lib.symbols.cc_call_close(this.#handle, call);
        entry.ended.resolve();
      }
      this.#calls.clear();
      await this.#lib.symbols.cc_engine_stop(this.#handle); // wakes the pending wait first
      await this.#loop;
      this.#lib.symbols.cc_engine_destroy(this.#handle);
    })();
    return this.#closing;
  }

  /**
   * Synchronous close for a worker or process that is exiting (`unload`): no session may be
   * open and no wait pending (the wait loop runs only while calls are open). The xdp engine
   * must detach its XDP program, which outlives the process otherwise. False when it could not.
   */
  closeNow(): boolean {
    if (this.#closing) return true;
    if (this.#loop || this.#calls.size > 0) return false;
    this.#closing = Promise.resolve();
    this.#lib.symbols.cc_engine_stop_now(this.#handle);
    this.#lib.symbols.cc_engine_destroy(this.#handle);
    return true;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
