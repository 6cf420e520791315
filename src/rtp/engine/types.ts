/**
 * The RTP engine interface: what an {@linkcode RtpSession} needs from the layer that moves
 * its datagrams — bind a port pair in a range, deliver what arrives, send. Everything above
 * it (the source latch with probation, SSRC probation, reordering, DTMF, RTCP, pacing) is the
 * same code for every engine, which is what makes the engines behave identically.
 *
 * Engines: `deno` (`Deno.listenDatagram`, one awaited op per datagram), `io_uring` (native
 * shards over SPSC rings, `ffi/uring`), `xdp` (AF_XDP, `ffi/xdp`, same rings).
 *
 * @module
 */
import type { RtpPortRange } from "../port_allocator.ts";

/** The engines by name (`sip.rtpEngine`, pinned). */
export type RtpEngineName = "xdp" | "io_uring" | "deno";

/** What the configuration may ask for: an engine, or `auto` (the best that works here). */
export type RtpEngineChoice = "auto" | RtpEngineName;

/** The choices, best first (`auto` tries them in this order). */
export const RTP_ENGINE_NAMES: readonly RtpEngineName[] = ["xdp", "io_uring", "deno"];

/**
 * Receives one datagram: `bytes` may be a view into a buffer reused after the call (copy what
 * you keep), `from` its source, `arrivalUs` when it arrived (µs since the Unix epoch).
 */
export type DatagramHandler = (
  bytes: Uint8Array,
  from: Deno.NetAddr,
  arrivalUs: number,
  filtered?: number,
) => void;

/**
 * The decisions of an engine's own source filter on a delivered RTP packet (`filtered`, a
 * {@linkcode DatagramHandler}'s 4th argument, only when {@linkcode RtpSockets.filter} runs):
 * the packet passed the payload-type, source and SSRC checks; these bits say what it changed.
 */
export const FILTERED = {
  /** It latched its source (first, or a re-latch). */
  latched: 8,
  /** The latch moved from an established source. */
  relatched: 16,
  /** Its SSRC replaced the current one. */
  ssrcChange: 32,
} as const;

/** What a session's source filter needs (see `RtpSession`'s options). */
export interface SourceFilterConfig {
  readonly symmetric: boolean;
  readonly relatchUs: number;
  readonly ssrcChangeUs: number;
  readonly probationPackets: number;
  readonly audioPayloadType: number;
  /** The telephone-event payload type, if negotiated. */
  readonly eventPayloadType: number | undefined;
}

/** What an engine's source filter dropped so far. */
export interface SourceFilterDrops {
  readonly wrongSource: number;
  readonly staleSsrc: number;
  readonly unknownPayloadType: number;
}

/**
 * One bound UDP socket of a session (RTP, or RTCP on its own port).
 *
 * Implementations MUST send datagrams in call order.
 */
export interface RtpSocket {
  /** Sends one datagram; resolves with the bytes sent, rejects when the send failed. */
  send(bytes: Uint8Array, to: Deno.NetAddr): Promise<number>;
  /**
   * Synchronous send where the engine has one (a ring write): true when queued. Callers
   * prefer it to `send` when present. Implementations MUST copy `bytes` before returning:
   * the RTP sender builds every packet in one reused buffer.
   */
  readonly sendNow?: (bytes: Uint8Array, to: Deno.NetAddr) => boolean;
}

/**
 * The sockets of one session: an even RTP port and, unless muxed, RTCP on the next one.
 *
 * Implementations MUST deliver each socket's datagrams in arrival order, only after
 * `listen`, never after `close`; `close` releases the ports at once (the same port can be
 * bound again right after) and closing twice is a no-op.
 */
export interface RtpSockets {
  /** The RTP port (even). */
  readonly port: number;
  readonly rtp: RtpSocket;
  /** The RTCP socket, or undefined with rtcp-mux. */
  readonly rtcp: RtpSocket | undefined;
  /**
   * Starts delivering datagrams of the RTP socket to `onRtp` and of the RTCP socket to
   * `onRtcp`. Resolves once delivery has ended after `close()`.
   */
  listen(onRtp: DatagramHandler, onRtcp: DatagramHandler): Promise<void>;
  /** Closes the sockets and frees the ports. */
  close(): void;
  /**
   * (Engines that can) runs the session's source filter — payload type, symmetric-RTP
   * latching with source probation, the SSRC check — where the packets arrive, so RTP the
   * session would drop never reaches it and what does comes with the decisions
   * ({@linkcode FILTERED}). Implementations MUST decide exactly as `SourceLatch` and
   * `RtpReceiver` do. Called again, it changes only the payload types. False when it cannot.
   */
  filter?(config: SourceFilterConfig): boolean;
  /** The far end from signalling, for the filter (as `SourceLatch.setRemote`). */
  filterRemote?(remote: { hostname: string; port: number; rtcpPort?: number }): void;
  /** What the filter dropped so far. */
  filterDrops?(): SourceFilterDrops;
}

/**
 * An RTP engine: binds sessions' sockets. One engine serves many sessions.
 *
 * Implementations MUST throw `Deno.errors.AddrInUse` when the range has no free port pair
 * and `RangeError` for a bad range, as `bindRtpSockets` does.
 */
export interface RtpEngine extends AsyncDisposable {
  readonly name: RtpEngineName;
  /** Binds an even port in `range` (RTCP on port + 1 unless `mux`). */
  bind(hostname: string, range: RtpPortRange, mux: boolean): RtpSockets;
  /** Stops the engine (sessions must be closed first); closing twice is a no-op. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}
