/**
 * One RTP session (one call leg's media) on the pure-Deno UDP path.
 *
 * Sockets: `Deno.listenDatagram` (needs `--unstable-net`, which the server already runs
 * with for QUIC). Chosen over `node:dgram` because it hands each datagram over as a
 * `Uint8Array` with its source address from one awaited op — no EventEmitter, no Buffer
 * wrapper, no callback re-entry — which keeps the per-packet path short and easy to measure
 * against the native fast path later (see BENCHMARKS.md, "RTP").
 *
 * Receive path: parse → source check (symmetric RTP latching) → SSRC check → reorder and
 * de-duplicate → audio to {@linkcode RtpSession.onAudio}, RFC 4733 events to
 * {@linkcode RtpSession.onDtmf}. Send path: {@linkcode RtpSession.sendAudio} and
 * {@linkcode RtpSession.sendDigits} share one SSRC, sequence and timestamp clock.
 *
 * @module
 */
import type { Logger } from "../server/log.ts";
import { nowMicros } from "../voice/track.ts";
import { DtmfReceiver } from "./dtmf_receiver.ts";
import type { DtmfEvent } from "./dtmf_receiver.ts";
import { RtpParseError } from "./error.ts";
import { isRtcpPacket, parseRtp, type RtpPacket, serializeRtp } from "./packet.ts";
import type { RtpPayloadMap } from "./payload_types.ts";
import { bindRtpSockets, DEFAULT_RTP_PORT_RANGE, type RtpPortRange } from "./port_allocator.ts";
import { ReorderBuffer } from "./reorder_buffer.ts";
import { type ReceiveReport, ReceiveStatistics } from "./receive_statistics.ts";
import { ntpTime, parseRtcp, type RtcpPacket, serializeRtcp } from "./rtcp.ts";
import { decodeTelephoneEvent, digitToEvent, encodeTelephoneEvent } from "./telephone_event.ts";

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
 * Options of {@linkcode RtpSession.open}.
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
   * latched source has been silent for `relatchAfterMs`, then the new source is latched.
   * When false, only the SDP `remote` may send.
   */
  readonly symmetric?: boolean;
  /** Silence of the latched source after which another source may take over (default 1000). */
  readonly relatchAfterMs?: number;
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
  readonly staleSsrc: number;
  readonly duplicates: number;
  readonly late: number;
  readonly reordered: number;
  readonly lost: number;
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

const TICK_MS = 250;
/** Receive buffer per datagram: an Ethernet MTU (Deno's default is 1 KiB). */
const RECEIVE_BYTES = 1500;
const DTMF_PACKET_MS = 20;
/** A pause in sending longer than this starts a new talkspurt (marker bit, timestamp jump). */
const TALKSPURT_GAP_MS = 40;

type Counter = { -readonly [K in keyof RtpSessionStats]: number };

/**
 * One RTP session. Open with {@linkcode RtpSession.open}; set the handlers; close with
 * `close()` or `await using`. Closing sends an RTCP BYE; closing twice is a no-op.
 *
 * @example
 * ```ts
 * import { RtpSession } from "./session.ts";
 * await using session = await RtpSession.open({
 *   hostname: "127.0.0.1",
 *   payloads: {
 *     audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
 *     telephoneEvent: { payloadType: 101, clockRate: 8000 },
 *   },
 *   remote: { hostname: "127.0.0.1", port: 40000 },
 * });
 * session.onDtmf = (e) => console.log("digit", e.digit);
 * session.sendAudio(new Uint8Array(160).fill(0xff), 160);
 * await session.sendDigits("12#");
 * ```
 */
export class RtpSession implements AsyncDisposable {
  /** Called for each in-order audio packet of the negotiated payload type. */
  onAudio: ((frame: RtpAudioFrame) => void) | undefined;
  /** Called once per received telephone event. */
  onDtmf: ((event: DtmfEvent) => void) | undefined;
  /** Called once when no RTP came for `inactivityTimeoutMs` (again after RTP resumes). */
  onInactive: (() => void) | undefined;
  /** Called when the far end's SSRC changes (a new stream; sequence state was reset). */
  onSsrcChange: ((previous: number, next: number) => void) | undefined;
  /** Called when the far end sends RTCP BYE. */
  onBye: ((reason: string | undefined) => void) | undefined;

  readonly #rtp: Deno.DatagramConn;
  readonly #rtcp: Deno.DatagramConn | undefined;
  readonly #port: number;
  readonly #hostname: string;
  readonly #release: () => void;
  readonly #symmetric: boolean;
  readonly #relatchUs: number;
  readonly #maxReorderDelayMs: number;
  readonly #rtcpIntervalMs: number;
  readonly #logger: Logger | undefined;
  readonly #sendClock: () => number;
  readonly #reorder: ReorderBuffer<{ packet: RtpPacket; arrival: number }>;
  readonly #ssrc: number;
  readonly #count: Counter = {
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
    jitterMs: 0,
    packetsSent: 0,
    bytesSent: 0,
    dtmfPacketsSent: 0,
    audioNotSent: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
  };
  #payloads: RtpPayloadMap;
  #dtmfIn: DtmfReceiver;
  #remote: Deno.NetAddr | undefined;
  #remoteRtcp: Deno.NetAddr | undefined;
  #sdpRemote: RtpEndpoint | undefined;
  #latched = false;
  #lastFromRemoteUs = 0;
  #remoteSsrc: number | undefined;
  #previousSsrc: number | undefined;
  #receiveStats = new ReceiveStatistics();
  #inactivityUs: number;
  #lastRtpUs: number;
  #inactiveFired = false;
  #reorderTimer: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval>;
  #lastRtcpMs = Date.now();
  direction: RtpDirection = "sendrecv";
  // Send state.
  #seq = Math.floor(Math.random() * 0x10000);
  #timestamp = Math.floor(Math.random() * 0x100000000);
  #nextSendMs = -1;
  #sentSinceReport = false;
  #lastSentTimestamp = 0;
  #dtmfChain: Promise<void> = Promise.resolve();
  #dtmfActive = false;
  #closed = false;
  #inFlight = false;
  readonly #sendQueue: [Uint8Array, Deno.NetAddr][] = [];
  readonly #done: Promise<void>[] = [];

  private constructor(options: RtpSessionOptions) {
    const {
      hostname = "0.0.0.0",
      portRange = DEFAULT_RTP_PORT_RANGE,
      rtcpMux = false,
      payloads,
      remote,
      symmetric = true,
      relatchAfterMs = 1000,
      inactivityTimeoutMs = 30_000,
      reorderWindow = 4,
      maxReorderDelayMs = 60,
      rtcpIntervalMs = 5000,
      ssrc = (Math.random() * 0x100000000) >>> 0,
      logger,
      sendClock = () => performance.now(),
    } = options;
    this.#sendClock = sendClock;
    const bound = bindRtpSockets(hostname, portRange, rtcpMux);
    this.#rtp = bound.rtp;
    this.#rtcp = bound.rtcp;
    this.#port = bound.port;
    this.#release = bound.release;
    this.#hostname = hostname;
    this.#payloads = payloads;
    this.#symmetric = symmetric;
    this.#relatchUs = relatchAfterMs * 1000;
    this.#maxReorderDelayMs = maxReorderDelayMs;
    this.#rtcpIntervalMs = rtcpIntervalMs;
    this.#inactivityUs = inactivityTimeoutMs * 1000;
    this.#ssrc = ssrc >>> 0;
    this.#logger = logger?.child({ rtpPort: bound.port });
    this.#reorder = new ReorderBuffer(reorderWindow);
    this.#dtmfIn = this.#newDtmfReceiver();
    this.#lastRtpUs = nowMicros();
    if (remote) this.setRemote(remote);
    this.#done.push(this.#receiveLoop(this.#rtp, !this.#rtcp));
    if (this.#rtcp) this.#done.push(this.#receiveLoop(this.#rtcp, true));
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
  }

  /**
   * Binds a session's sockets (an even port in the range, RTCP on the next one unless
   * muxed) and starts receiving.
   *
   * @throws {Deno.errors.AddrInUse} when the range has no free port pair.
   * @throws {RangeError} for a bad port range.
   *
   * @example
   * ```ts
   * import { RtpSession } from "./session.ts";
   * await using s = await RtpSession.open({
   *   hostname: "127.0.0.1",
   *   payloads: { audio: { payloadType: 8, codec: "g711_alaw", clockRate: 8000 } },
   * });
   * console.log(s.localPort % 2); // 0
   * ```
   */
  static open(options: RtpSessionOptions): Promise<RtpSession> {
    return Promise.resolve().then(() => new RtpSession(options));
  }

  /** The bound RTP port (even); put it in the SDP `m=audio` line. */
  get localPort(): number {
    return this.#port;
  }

  /** The bound RTCP port (`localPort + 1`, or `localPort` with rtcp-mux). */
  get localRtcpPort(): number {
    return this.#rtcp ? this.#port + 1 : this.#port;
  }

  /** The bound address. */
  get hostname(): string {
    return this.#hostname;
  }

  /** Our SSRC. */
  get ssrc(): number {
    return this.#ssrc;
  }

  /** The negotiated payload types. */
  get payloads(): RtpPayloadMap {
    return this.#payloads;
  }

  /** Where audio is sent now (the latched source, else the SDP remote). */
  get remote(): Deno.NetAddr | undefined {
    return this.#remote;
  }

  /** Whether the session has latched onto a source. */
  get latched(): boolean {
    return this.#latched;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counters. */
  get stats(): RtpSessionStats {
    const r = this.#reorder.stats;
    return {
      ...this.#count,
      duplicates: r.duplicates,
      late: r.late,
      reordered: r.reordered,
      lost: r.lost,
      jitterMs: (this.#receiveStats.jitter / this.#payloads.audio.clockRate) * 1000,
    };
  }

  /**
   * Points the session at a (new) far end, e.g. from the SDP answer or a re-INVITE. Clears
   * the latch, so the next valid source latches again.
   */
  setRemote(remote: RtpEndpoint): void {
    this.#sdpRemote = remote;
    this.#latched = false;
    this.#remote = { transport: "udp", hostname: remote.hostname, port: remote.port };
    this.#remoteRtcp = {
      transport: "udp",
      hostname: remote.hostname,
      port: remote.rtcpPort ?? (this.#rtcp ? remote.port + 1 : remote.port),
    };
  }

  /** Changes the payload types after a re-negotiation. */
  setPayloads(payloads: RtpPayloadMap): void {
    this.#payloads = payloads;
    this.#dtmfIn = this.#newDtmfReceiver();
  }

  /** Changes the inactivity timeout (0 disables it, e.g. while on hold). */
  setInactivityTimeout(ms: number): void {
    this.#inactivityUs = Math.max(0, ms) * 1000;
    this.#lastRtpUs = nowMicros();
    this.#inactiveFired = false;
  }

  /**
   * Sends one audio payload of `samples` samples (at the RTP clock rate). The marker bit is
   * set on the first packet and after a pause in sending (a new talkspurt), and the
   * timestamp then jumps by the pause. Returns false when the packet was not sent (no
   * remote yet, direction, a DTMF event in progress, closed).
   */
  sendAudio(payload: Uint8Array, samples: number, marker = false): boolean {
    if (
      this.#closed || !this.#remote || this.#dtmfActive || this.direction === "recvonly" ||
      this.direction === "inactive"
    ) {
      this.#count.audioNotSent++;
      return false;
    }
    const rate = this.#payloads.audio.clockRate;
    const start = this.#advanceClock();
    marker ||= start.talkspurt;
    this.#send(this.#payloads.audio.payloadType, marker, this.#timestamp, payload);
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    this.#nextSendMs = start.now + (samples / rate) * 1000;
    return true;
  }

  /**
   * Sends DTMF digits as RFC 4733 events: per digit a packet every 20 ms with the growing
   * duration (marker on the first), the end packet three times, then the gap. Audio is not
   * sent while an event plays. Calls queue behind each other. Resolves when all are sent.
   *
   * @throws {RangeError} for a character that is not a DTMF digit (nothing is sent).
   * @throws {Error} when telephone-event was not negotiated.
   */
  sendDigits(digits: string, options: SendDigitsOptions = {}): Promise<void> {
    const events = [...digits].map(digitToEvent);
    if (!this.#payloads.telephoneEvent) {
      return Promise.reject(
        new Error("Cannot send digits: telephone-event was not negotiated for this session"),
      );
    }
    const run = this.#dtmfChain.then(() => this.#playDigits(events, options));
    this.#dtmfChain = run.catch(() => {});
    return run;
  }

  /** Stops the session: RTCP BYE to the far end, sockets closed. Closing twice is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#remoteRtcp) {
      try {
        const bye = serializeRtcp([this.#report(), { type: "bye", ssrcs: [this.#ssrc] }]);
        await (this.#rtcp ?? this.#rtp).send(bye, this.#remoteRtcp);
        this.#count.rtcpSent++;
      } catch {
        // Best effort: the far end may be gone.
      }
    }
    this.#closed = true;
    clearInterval(this.#tick);
    clearTimeout(this.#reorderTimer);
    this.#rtp.close();
    this.#rtcp?.close();
    this.#release();
    await Promise.allSettled(this.#done);
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #newDtmfReceiver(): DtmfReceiver {
    const rate = this.#payloads.telephoneEvent?.clockRate ?? this.#payloads.audio.clockRate;
    return new DtmfReceiver(rate, (event) => this.onDtmf?.(event));
  }

  /** Where the media clock stands now: jumps the timestamp over a pause in sending. */
  #advanceClock(): { now: number; talkspurt: boolean } {
    const now = this.#sendClock();
    if (this.#nextSendMs < 0) return { now, talkspurt: true };
    const gap = now - this.#nextSendMs;
    if (gap <= TALKSPURT_GAP_MS) return { now: Math.max(now, this.#nextSendMs), talkspurt: false };
    const rate = this.#payloads.audio.clockRate;
    this.#timestamp = (this.#timestamp + Math.round((gap / 1000) * rate)) >>> 0;
    return { now, talkspurt: true };
  }

  async #playDigits(events: number[], options: SendDigitsOptions): Promise<void> {
    const { durationMs = 100, gapMs = 60, volume = 10 } = options;
    for (const event of events) {
      if (this.#closed) return;
      const te = this.#payloads.telephoneEvent;
      if (!te || !this.#remote) continue;
      this.#dtmfActive = true;
      try {
        const start = this.#advanceClock();
        const eventTs = this.#timestamp;
        const total = Math.round((durationMs / 1000) * te.clockRate);
        const step = Math.round((DTMF_PACKET_MS / 1000) * te.clockRate);
        let sent = 0;
        for (let duration = step; duration < total && !this.#closed; duration += step) {
          const payload = encodeTelephoneEvent({ event, end: false, volume, duration });
          this.#send(te.payloadType, sent === 0, eventTs, payload);
          this.#count.dtmfPacketsSent++;
          sent++;
          await delay(DTMF_PACKET_MS);
        }
        const end = encodeTelephoneEvent({
          event,
          end: true,
          volume,
          duration: Math.min(total, 0xffff),
        });
        for (let i = 0; i < 3 && !this.#closed; i++) {
          this.#send(te.payloadType, sent === 0 && i === 0, eventTs, end);
          this.#count.dtmfPacketsSent++;
          if (i < 2) await delay(DTMF_PACKET_MS);
        }
        const audioRate = this.#payloads.audio.clockRate;
        this.#timestamp = (eventTs + Math.round((durationMs / 1000) * audioRate)) >>> 0;
        this.#nextSendMs = start.now + durationMs;
      } finally {
        this.#dtmfActive = false;
      }
      await delay(gapMs);
    }
  }

  #send(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const bytes = serializeRtp({
      marker,
      payloadType,
      sequenceNumber: this.#seq,
      timestamp,
      ssrc: this.#ssrc,
      payload,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#count.packetsSent++;
    this.#count.bytesSent += payload.length;
    this.#sentSinceReport = true;
    this.#lastSentTimestamp = timestamp;
    this.#transmit(bytes, this.#remote!);
  }

  /**
   * Sends in call order. Deno's UDP sends are asynchronous ops that can complete out of
   * order, so while one is in flight the next ones wait in a queue.
   */
  #transmit(bytes: Uint8Array, to: Deno.NetAddr): void {
    if (this.#inFlight) {
      this.#sendQueue.push([bytes, to]);
      return;
    }
    this.#inFlight = true;
    this.#rtp.send(bytes, to).then(this.#sent, this.#sendFailed);
  }

  readonly #sent = (): void => {
    const next = this.#sendQueue.shift();
    if (!next || this.#closed) {
      this.#inFlight = false;
      return;
    }
    this.#rtp.send(next[0], next[1]).then(this.#sent, this.#sendFailed);
  };

  readonly #sendFailed = (error: unknown): void => {
    if (!this.#closed) this.#logger?.debug("RTP send failed", { error });
    this.#sent();
  };

  async #receiveLoop(conn: Deno.DatagramConn, rtcpHere: boolean): Promise<void> {
    const rtpSocket = conn === this.#rtp;
    for (;;) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await conn.receive(new Uint8Array(RECEIVE_BYTES));
      } catch (error) {
        if (this.#closed) return;
        this.#logger?.warn("RTP receive failed", { error });
        continue;
      }
      if (this.#closed) return;
      const [bytes, addr] = datagram;
      try {
        if (rtcpHere && (!rtpSocket || isRtcpPacket(bytes))) {
          this.#onRtcp(bytes, addr as Deno.NetAddr);
        } else this.#onRtp(bytes, addr as Deno.NetAddr);
      } catch (error) {
        if (error instanceof RtpParseError) this.#count.malformed++;
        else this.#logger?.error("RTP packet handler failed", { error });
      }
    }
  }

  #onRtp(bytes: Uint8Array, from: Deno.NetAddr): void {
    const packet = parseRtp(bytes);
    const arrival = nowMicros();
    const pt = packet.payloadType;
    const payloads = this.#payloads;
    if (pt !== payloads.audio.payloadType && pt !== payloads.telephoneEvent?.payloadType) {
      this.#count.unknownPayloadType++;
      return;
    }
    if (!this.#acceptSource(from, arrival)) {
      this.#count.wrongSource++;
      return;
    }
    this.#count.packetsReceived++;
    this.#count.bytesReceived += bytes.length;
    this.#lastRtpUs = arrival;
    this.#inactiveFired = false;
    if (packet.ssrc !== this.#remoteSsrc) {
      if (packet.ssrc === this.#previousSsrc) {
        this.#count.staleSsrc++;
        return;
      }
      if (this.#remoteSsrc !== undefined) {
        this.#reorder.flush(this.#deliver);
        this.#count.ssrcChanges++;
        this.onSsrcChange?.(this.#remoteSsrc, packet.ssrc);
      }
      this.#previousSsrc = this.#remoteSsrc;
      this.#remoteSsrc = packet.ssrc;
      this.#reorder.reset();
      this.#receiveStats = new ReceiveStatistics();
      this.#dtmfIn.reset();
    }
    this.#reorder.push(packet.sequenceNumber, { packet, arrival }, this.#deliver);
    if (this.#reorder.held > 0) {
      if (this.#reorderTimer === undefined) {
        this.#reorderTimer = setTimeout(() => {
          this.#reorderTimer = undefined;
          this.#reorder.flush(this.#deliver);
        }, this.#maxReorderDelayMs);
      }
    } else if (this.#reorderTimer !== undefined) {
      clearTimeout(this.#reorderTimer);
      this.#reorderTimer = undefined;
    }
  }

  /** Symmetric RTP: is `from` the source we listen to (latching it when allowed)? */
  #acceptSource(from: Deno.NetAddr, now: number): boolean {
    const remote = this.#remote;
    const same = remote !== undefined && remote.port === from.port &&
      remote.hostname === from.hostname;
    if (!this.#symmetric) {
      if (!same) return false;
      this.#lastFromRemoteUs = now;
      return true;
    }
    if (this.#latched) {
      if (same) {
        this.#lastFromRemoteUs = now;
        return true;
      }
      if (now - this.#lastFromRemoteUs < this.#relatchUs) return false;
      this.#count.relatches++;
      this.#logger?.info("RTP source re-latched", { from: `${from.hostname}:${from.port}` });
    }
    this.#latched = true;
    this.#lastFromRemoteUs = now;
    this.#remote = { transport: "udp", hostname: from.hostname, port: from.port };
    if (!this.#rtcp) this.#remoteRtcp = this.#remote;
    else if (!this.#sdpRemote || this.#sdpRemote.hostname !== from.hostname) {
      this.#remoteRtcp = { transport: "udp", hostname: from.hostname, port: from.port + 1 };
    }
    return true;
  }

  readonly #deliver = (item: { packet: RtpPacket; arrival: number }, sequence: number): void => {
    const { packet, arrival } = item;
    if (packet.payloadType === this.#payloads.audio.payloadType) {
      this.#count.audioReceived++;
      this.#receiveStats.update(
        packet.timestamp,
        arrival,
        this.#payloads.audio.clockRate,
        sequence,
      );
      this.onAudio?.({
        payload: packet.payload,
        sequence,
        timestamp: packet.timestamp,
        ssrc: packet.ssrc,
        marker: packet.marker,
        arrival,
      });
      return;
    }
    this.#count.dtmfPacketsReceived++;
    this.#receiveStats.count(sequence);
    try {
      this.#dtmfIn.packet(packet.timestamp, decodeTelephoneEvent(packet.payload), arrival);
    } catch (error) {
      if (!(error instanceof RtpParseError)) throw error;
      this.#count.malformed++;
    }
  };

  #onRtcp(bytes: Uint8Array, from: Deno.NetAddr): void {
    const packets = parseRtcp(bytes);
    this.#count.rtcpReceived++;
    if (this.#latched && this.#remote && from.hostname !== this.#remote.hostname) {
      this.#count.wrongSource++;
      return;
    }
    for (const packet of packets) {
      if (packet.type === "sr") this.#receiveStats.senderReport(packet, Date.now());
      else if (packet.type === "bye" && packet.ssrcs.includes(this.#remoteSsrc ?? -1)) {
        this.onBye?.(packet.reason);
      }
    }
  }

  #report(): RtcpPacket {
    const reports: ReceiveReport[] = this.#remoteSsrc === undefined
      ? []
      : [this.#receiveStats.report(this.#remoteSsrc, this.#reorder.stats.lost, Date.now())];
    if (!this.#sentSinceReport) return { type: "rr", ssrc: this.#ssrc, reports };
    const { seconds, fraction } = ntpTime(Date.now());
    return {
      type: "sr",
      ssrc: this.#ssrc,
      ntpSeconds: seconds,
      ntpFraction: fraction,
      rtpTimestamp: this.#lastSentTimestamp,
      packetCount: this.#count.packetsSent,
      octetCount: this.#count.bytesSent,
      reports,
    };
  }

  #onTick(): void {
    const now = nowMicros();
    this.#dtmfIn.tick(now);
    if (
      this.#inactivityUs > 0 && !this.#inactiveFired && now - this.#lastRtpUs > this.#inactivityUs
    ) {
      this.#inactiveFired = true;
      this.#logger?.info("RTP inactivity timeout", { ms: this.#inactivityUs / 1000 });
      this.onInactive?.();
    }
    if (this.#remoteRtcp && Date.now() - this.#lastRtcpMs >= this.#rtcpIntervalMs) {
      this.#lastRtcpMs = Date.now();
      const bytes = serializeRtcp([this.#report()]);
      this.#sentSinceReport = false;
      this.#count.rtcpSent++;
      (this.#rtcp ?? this.#rtp).send(bytes, this.#remoteRtcp).catch(() => {});
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
