/**
 * The public types of an `RtpSession`: its options, remote endpoint, audio frames,
 * direction and counters (re-exported by `session.ts`).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { RtpPayloadMap } from "./payload_types.ts";
import type { RtpPortRange } from "./port_allocator.ts";
import type { RtpEngine } from "./engine/types.ts";

/**
 * A remote RTP address (from SDP `c=`/`m=`, or latched).
 *
 * @example
 * ```ts
 * import type { RtpEndpoint } from "./session.ts";
 * const far: RtpEndpoint = { hostname: "192.0.2.10", port: 40000 };
 * ```
 */
export interface RtpEndpoint {
  readonly hostname: string;
  readonly port: number;
  /** RTCP port; default `port + 1` (or `port` with rtcp-mux). */
  readonly rtcpPort?: number;
}

/**
 * One received audio packet, in sequence order.
 *
 * @example
 * ```ts
 * import type { RtpAudioFrame } from "./session.ts";
 * const ms = (f: RtpAudioFrame) => f.payload.length / 8; // G.711: one byte per sample at 8 kHz
 * ```
 */
export interface RtpAudioFrame {
  readonly payload: Uint8Array;
  /** Extended sequence number (keeps counting across 16-bit wrap; restarts per SSRC). */
  readonly sequence: number;
  /** The 32-bit RTP timestamp. */
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  /** When the datagram arrived, µs since the Unix epoch. */
  readonly arrival: number;
}

/** The media direction of the session (SDP `a=sendrecv` etc., from our side). */
export type RtpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/**
 * Options of `RtpSession.open`.
 *
 * @example
 * ```ts
 * import type { RtpSessionOptions } from "./session.ts";
 * const options: RtpSessionOptions = {
 *   hostname: "0.0.0.0",
 *   portRange: { min: 20000, max: 20999 },
 *   payloads: { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } },
 *   remote: { hostname: "192.0.2.10", port: 40000 },
 * };
 * ```
 */
export interface RtpSessionOptions {
  /** Local address to bind (default `"0.0.0.0"`). */
  readonly hostname?: string;
  /** Where to find an even port (default 10000–20000). */
  readonly portRange?: RtpPortRange;
  /** RTCP on the RTP port (RFC 5761) instead of `port + 1` (default false). */
  readonly rtcpMux?: boolean;
  /** Negotiated payload types. */
  readonly payloads: RtpPayloadMap;
  /** The far end from SDP, if known yet (set later with `setRemote`). */
  readonly remote?: RtpEndpoint;
  /**
   * Symmetric RTP (default true): latch onto the first source that sends valid RTP and send
   * there; after latching, packets from other sources are dropped and counted, unless the
   * latched source has been silent for `relatchAfterMs` while the new source sent
   * `probationPackets` in sequence, then the new source is latched.
   * When false, only the SDP `remote` may send.
   */
  readonly symmetric?: boolean;
  /** Silence of the latched source after which another source may take over (default 1000). */
  readonly relatchAfterMs?: number;
  /**
   * Silence of the current SSRC after which a new SSRC (from the latched source) may take
   * over (default 500 ms: longer than Opus DTX's 400 ms keep-alive gap).
   */
  readonly ssrcChangeAfterMs?: number;
  /**
   * Consecutive in-sequence packets a new source or SSRC must send before it takes over
   * (default 3; RFC 3550 A.1's `MIN_SEQUENTIAL` is 2).
   */
  readonly probationPackets?: number;
  /**
   * Let an engine that can (io_uring) run the source filter — payload type, latching with
   * probation, the SSRC check — in its shard, so RTP this session would drop never reaches JS
   * [true]. It decides exactly as this session would (tests/ffi/src_filter_test.ts).
   */
  readonly nativeFilter?: boolean;
  /** No RTP for this long calls `onInactive` (default 30000; 0 disables). */
  readonly inactivityTimeoutMs?: number;
  /** Packets held behind a gap before it is declared lost (default 4). */
  readonly reorderWindow?: number;
  /** Longest a packet waits behind a gap (default 60 ms). */
  readonly maxReorderDelayMs?: number;
  /** RTCP report interval (default 5000 ms). */
  readonly rtcpIntervalMs?: number;
  /** Our SSRC (default random). */
  readonly ssrc?: number;
  /** Where the session logs. */
  readonly logger?: Logger;
  /**
   * The clock (ms) the send path measures pauses with to start talkspurts [performance.now].
   * Tests inject one so a busy machine cannot turn a 20 ms wait into a talkspurt.
   */
  readonly sendClock?: () => number;
  /**
   * The engine that binds, receives and sends the session's datagrams [`defaultRtpEngine()`:
   * `CLUTCH_RTP_ENGINE`, else `deno`]. Every engine behaves the same above this layer.
   */
  readonly engine?: RtpEngine;
}

/**
 * DTMF sending options.
 *
 * @example
 * ```ts
 * import type { SendDigitsOptions } from "./session.ts";
 * const slow: SendDigitsOptions = { durationMs: 200, gapMs: 100 };
 * ```
 */
export interface SendDigitsOptions {
  /** Tone length per digit (default 100 ms, the ITU minimum is 40). */
  readonly durationMs?: number;
  /** Pause between digits (default 60 ms). */
  readonly gapMs?: number;
  /** −dBm0 (default 10). */
  readonly volume?: number;
}

/**
 * Counters of a session.
 *
 * @example
 * ```ts
 * import type { RtpSessionStats } from "./session.ts";
 * const lossy = (s: RtpSessionStats) => s.lost > s.audioReceived / 20;
 * ```
 */
export interface RtpSessionStats {
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  readonly audioReceived: number;
  readonly dtmfPacketsReceived: number;
  readonly malformed: number;
  readonly unknownPayloadType: number;
  readonly wrongSource: number;
  readonly relatches: number;
  readonly ssrcChanges: number;
  /** Packets of an SSRC other than the current one, not adopted (stragglers, probation). */
  readonly staleSsrc: number;
  readonly duplicates: number;
  readonly late: number;
  readonly reordered: number;
  readonly lost: number;
  /** Audio that came before the first listener and was not kept for it (over 1 s of it). */
  readonly earlyAudioDropped: number;
  /** Interarrival jitter of the current stream, ms. */
  readonly jitterMs: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
  readonly dtmfPacketsSent: number;
  /** Audio not sent: no remote yet, direction, or a DTMF event in progress. */
  readonly audioNotSent: number;
  readonly rtcpReceived: number;
  readonly rtcpSent: number;
}

/** The mutable counters behind `RtpSessionStats`, shared by the session's parts. */
export type RtpCounters = { -readonly [K in keyof RtpSessionStats]: number };

/**
 * Fresh counters, all zero.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { newRtpCounters } from "./session_types.ts";
 * assertEquals(newRtpCounters().packetsSent, 0);
 * ```
 */
export function newRtpCounters(): RtpCounters {
  return {
    packetsReceived: 0,
    bytesReceived: 0,
    audioReceived: 0,
    dtmfPacketsReceived: 0,
    malformed: 0,
    unknownPayloadType: 0,
    wrongSource: 0,
    relatches: 0,
    ssrcChanges: 0,
    staleSsrc: 0,
    duplicates: 0,
    late: 0,
    reordered: 0,
    lost: 0,
    earlyAudioDropped: 0,
    jitterMs: 0,
    packetsSent: 0,
    bytesSent: 0,
    dtmfPacketsSent: 0,
    audioNotSent: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
  };
}
