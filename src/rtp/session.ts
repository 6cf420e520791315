/**
 * One RTP session (one call leg's media) on the pure-Deno UDP path.
 *
 * Sockets: `Deno.listenDatagram` (needs `--unstable-net`, which the server already runs
 * with for QUIC). Chosen over `node:dgram` because it hands each datagram over as a
 * `Uint8Array` with its source address from one awaited op — no EventEmitter, no Buffer
 * wrapper, no callback re-entry — which keeps the per-packet path short and easy to measure
 * against the native fast path later (see BENCHMARKS.md, "RTP").
 *
 * Receive path: parse → source check (symmetric RTP latching) → SSRC check (a new source or
 * SSRC takes over only after probation, `source_probation.ts`) → reorder and
 * de-duplicate → audio and RFC 4733 events to the listeners added with
 * {@linkcode RtpSession.on} (`"audio"`, `"dtmf"`; any number each). Send path: {@linkcode RtpSession.sendAudio} and
 * {@linkcode RtpSession.sendDigits} share one SSRC, sequence and timestamp clock.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { nowMicros } from "../voice/track.ts";
import type { DtmfEvent } from "./dtmf_receiver.ts";
import { RtpParseError } from "./error.ts";
import { isRtcpPacket, parseRtp } from "./packet.ts";
import type { RtpPayloadMap } from "./payload_types.ts";
import { DEFAULT_RTP_PORT_RANGE } from "./port_allocator.ts";
import { defaultRtpEngine } from "./engine/select.ts";
import {
  FILTERED,
  type RtpSocket,
  type RtpSockets,
  type SourceFilterConfig,
} from "./engine/types.ts";
import type { ReceiveReport } from "./receive_statistics.ts";
import { ntpTime, parseRtcp, type RtcpPacket, serializeRtcp } from "./rtcp.ts";
import { RtpReceiver } from "./rtp_receiver.ts";
import { RtpSender } from "./rtp_sender.ts";
import {
  newRtpCounters,
  type RtpAudioFrame,
  type RtpCounters,
  type RtpDirection,
  type RtpEndpoint,
  type RtpSessionOptions,
  type RtpSessionStats,
  type SendDigitsOptions,
} from "./session_types.ts";
import { SourceLatch } from "./source_latch.ts";
import { type PacerEntry, sharedPacer } from "./pacer.ts";
import { metrics, rtpTally } from "../metrics/mod.ts";

/**
 * The events of an {@linkcode RtpSession} and their listeners' signatures.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { RtpSessionEvents } from "./session.ts";
 * const sequences: number[] = [];
 * const onAudio: RtpSessionEvents["audio"] = (frame) => sequences.push(frame.sequence);
 * const frame = { payload: new Uint8Array(160), sequence: 7, timestamp: 1120, ssrc: 1, marker: false, arrival: 0 };
 * onAudio(frame);
 * assertEquals(sequences, [7]);
 * ```
 */
export interface RtpSessionEvents {
  /** Each in-order audio packet of the negotiated payload type. */
  audio: (frame: RtpAudioFrame) => void;
  /** Once per received telephone event. */
  dtmf: (event: DtmfEvent) => void;
  /** No RTP came for `inactivityTimeoutMs` (again after RTP resumes). */
  inactive: () => void;
  /** The far end's SSRC changed (a new stream; sequence state was reset). */
  ssrcChange: (previous: number, next: number) => void;
  /** The far end sent RTCP BYE. */
  bye: (reason: string | undefined) => void;
}

type Listeners = { [K in keyof RtpSessionEvents]: Set<RtpSessionEvents[K]> };

export type {
  RtpAudioFrame,
  RtpDirection,
  RtpEndpoint,
  RtpSessionOptions,
  RtpSessionStats,
  SendDigitsOptions,
} from "./session_types.ts";

const TICK_MS = 250;
/** Audio packets kept for the first listener (1 s of 20 ms packets; see `#deliverEarly`). */
const EARLY_AUDIO_FRAMES = 50;

/**
 * One RTP session. Open with {@linkcode RtpSession.open}; add listeners with
 * {@linkcode RtpSession.on} (each returns a `Disposable` that removes it); close with
 * `close()` or `await using`. Closing sends an RTCP BYE; closing twice is a no-op.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { RtpSession } from "./session.ts";
 * const payloads = {
 *   audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
 *   telephoneEvent: { payloadType: 101, clockRate: 8000 },
 * } as const;
 * await using far = await RtpSession.open({ hostname: "127.0.0.1", payloads });
 * await using session = await RtpSession.open({
 *   hostname: "127.0.0.1",
 *   payloads,
 *   remote: { hostname: "127.0.0.1", port: far.localPort },
 * });
 * const digits: (string | undefined)[] = [];
 * const all = Promise.withResolvers<void>();
 * using _digits = far.on("dtmf", (e) => digits.push(e.digit) === 3 && all.resolve());
 * session.sendAudio(new Uint8Array(160).fill(0xff), 160);
 * await session.sendDigits("12#");
 * await all.promise;
 * assertEquals(digits, ["1", "2", "#"]);
 * ```
 */
export class RtpSession implements AsyncDisposable {
  readonly #listeners: Listeners = {
    audio: new Set(),
    dtmf: new Set(),
    inactive: new Set(),
    ssrcChange: new Set(),
    bye: new Set(),
  };
  readonly #sockets: RtpSockets;
  readonly #rtp: RtpSocket;
  readonly #rtcp: RtpSocket | undefined;
  readonly #port: number;
  readonly #hostname: string;
  readonly #rtcpIntervalMs: number;
  readonly #logger: Logger | undefined;
  readonly #ssrc: number;
  readonly #count: RtpCounters = newRtpCounters();
  /** Audio received before the first audio listener (see `#deliverEarly`); then undefined. */
  #early: RtpAudioFrame[] | undefined = [];
  #payloads: RtpPayloadMap;
  readonly #receiver: RtpReceiver;
  readonly #latch: SourceLatch;
  readonly #sender: RtpSender;
  #inactivityUs: number;
  #lastRtpUs: number;
  #inactiveFired = false;
  /** The housekeeping tick, on the shared pacer (no interval timer per session). */
  #tick: PacerEntry;
  #lastRtcpMs = Date.now();
  direction: RtpDirection = "sendrecv";
  #closed = false;
  #uplinkLostReported = 0;
  #downlinkLostReported = 0;
  readonly #done: Promise<void>[] = [];

  /** The engine's source filter runs for this session (see `nativeFilter`). */
  readonly #filtered: boolean;
  readonly #filterConfig: Omit<SourceFilterConfig, "audioPayloadType" | "eventPayloadType">;

  #sourceFilterConfig(): SourceFilterConfig {
    return {
      ...this.#filterConfig,
      audioPayloadType: this.#payloads.audio.payloadType,
      eventPayloadType: this.#payloads.telephoneEvent?.payloadType,
    };
  }

  private constructor(options: RtpSessionOptions) {
    const {
      hostname = "0.0.0.0",
      portRange = DEFAULT_RTP_PORT_RANGE,
      rtcpMux = false,
      payloads,
      remote,
      symmetric = true,
      relatchAfterMs = 1000,
      ssrcChangeAfterMs = 500,
      probationPackets = 3,
      nativeFilter = true,
      inactivityTimeoutMs = 30_000,
      reorderWindow = 4,
      maxReorderDelayMs = 60,
      rtcpIntervalMs = 5000,
      ssrc = (Math.random() * 0x100000000) >>> 0,
      logger,
      sendClock = () => performance.now(),
      engine = defaultRtpEngine(),
    } = options;
    const bound = engine.bind(hostname, portRange, rtcpMux);
    // deno-lint-ignore no-this-alias
    const session = this;
    this.#sockets = bound;
    this.#rtp = bound.rtp;
    this.#rtcp = bound.rtcp;
    this.#port = bound.port;
    this.#hostname = hostname;
    this.#payloads = payloads;
    this.#rtcpIntervalMs = rtcpIntervalMs;
    this.#inactivityUs = inactivityTimeoutMs * 1000;
    this.#ssrc = ssrc >>> 0;
    this.#logger = logger?.child({ rtpPort: bound.port });
    this.#receiver = new RtpReceiver({
      reorderWindow,
      maxReorderDelayMs,
      ssrcChangeUs: ssrcChangeAfterMs * 1000,
      probationPackets,
      count: this.#count,
      handlers: {
        get payloads() {
          return session.#payloads;
        },
        onAudio: (frame) => this.#emitAudio(frame),
        onDtmf: (event) => this.#emit("dtmf", event),
        onSsrcChange: (previous, next) => this.#emit("ssrcChange", previous, next),
      },
    });
    this.#latch = new SourceLatch({
      symmetric,
      relatchUs: relatchAfterMs * 1000,
      probationPackets,
      rtcpPort: this.#rtcp !== undefined,
      count: this.#count,
      logger: this.#logger,
    });
    this.#sender = new RtpSender({
      socket: this.#rtp,
      ssrc: this.#ssrc,
      count: this.#count,
      clock: sendClock,
      logger: this.#logger,
      state: this,
    });
    this.#lastRtpUs = nowMicros();
    this.#filterConfig = {
      symmetric,
      relatchUs: relatchAfterMs * 1000,
      ssrcChangeUs: ssrcChangeAfterMs * 1000,
      probationPackets,
    };
    this.#filtered = nativeFilter && bound.filter !== undefined &&
      bound.filter(this.#sourceFilterConfig());
    if (remote) this.setRemote(remote);
    const muxed = !this.#rtcp;
    this.#done.push(bound.listen(
      (bytes, from, arrival, filtered) =>
        this.#onDatagram(bytes, from, arrival, muxed, true, filtered),
      (bytes, from, arrival) => this.#onDatagram(bytes, from, arrival, true, false),
    ));
    this.#tick = sharedPacer().schedule(performance.now() + TICK_MS, this.#onTick);
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
   * import { assertEquals } from "@std/assert";
   * import { RtpSession } from "./session.ts";
   * await using s = await RtpSession.open({
   *   hostname: "127.0.0.1",
   *   payloads: { audio: { payloadType: 8, codec: "g711_alaw", clockRate: 8000 } },
   * });
   * assertEquals(s.localPort % 2, 0);
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
    return this.#latch.remote;
  }

  /** Whether the session has latched onto a source. */
  get latched(): boolean {
    return this.#latch.latched;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counters. */
  get stats(): RtpSessionStats {
    const r = this.#receiver.reorderStats;
    // What the engine's filter dropped before JS saw it counts as if the session had.
    const d = this.#filtered ? this.#sockets.filterDrops?.() : undefined;
    return {
      ...this.#count,
      wrongSource: this.#count.wrongSource + (d?.wrongSource ?? 0),
      staleSsrc: this.#count.staleSsrc + (d?.staleSsrc ?? 0),
      unknownPayloadType: this.#count.unknownPayloadType + (d?.unknownPayloadType ?? 0),
      duplicates: r.duplicates,
      late: r.late,
      reordered: r.reordered,
      lost: r.lost,
      jitterMs: (this.#receiver.statistics.jitter / this.#payloads.audio.clockRate) * 1000,
    };
  }

  /**
   * Points the session at a (new) far end, e.g. from the SDP answer or a re-INVITE. Clears
   * the latch, so the next valid source latches again.
   */
  setRemote(remote: RtpEndpoint): void {
    this.#latch.setRemote(remote);
    if (this.#filtered) this.#sockets.filterRemote?.(remote);
  }

  /**
   * Adds a listener for `type` (any number per event; they run in the order added). The
   * returned `Disposable` removes it; disposing twice is a no-op. A listener that throws is
   * logged and does not stop the others.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { RtpSession } from "./session.ts";
   * const payloads = { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } } as const;
   * await using s = await RtpSession.open({ hostname: "127.0.0.1", payloads });
   * await using far = await RtpSession.open({
   *   hostname: "127.0.0.1",
   *   payloads,
   *   remote: { hostname: "127.0.0.1", port: s.localPort },
   * });
   * const heard = Promise.withResolvers<number>();
   * using _audio = s.on("audio", (frame) => heard.resolve(frame.payload.length));
   * const byes: string[] = [];
   * using _bye = s.on("bye", (reason) => byes.push(reason ?? ""));
   * far.sendAudio(new Uint8Array(160).fill(0xff), 160);
   * assertEquals(await heard.promise, 160);
   * assertEquals(byes, []); // the far end is still up
   * ```
   */
  on<K extends keyof RtpSessionEvents>(type: K, listener: RtpSessionEvents[K]): Disposable {
    const set = this.#listeners[type] as Set<RtpSessionEvents[K]>;
    set.add(listener);
    if (type === "audio") this.#deliverEarly(listener as RtpSessionEvents["audio"]);
    return { [Symbol.dispose]: () => void set.delete(listener) };
  }

  /**
   * Delivers the packets that are still in order behind a gap (the reorder buffer's), at
   * once: what was accepted reaches the listeners before a leg stops listening. `close()`
   * does it too.
   */
  flushReceived(): void {
    if (!this.#closed) this.#receiver.flush();
  }

  /**
   * The audio that came before anyone listened, to the first audio listener, in order and
   * synchronously (before any later packet): a caller's first words after the answer are
   * not lost while the leg that publishes them is still starting.
   */
  #deliverEarly(listener: RtpSessionEvents["audio"]): void {
    const early = this.#early;
    if (early === undefined) return;
    this.#early = undefined;
    for (const frame of early) {
      try {
        listener(frame);
      } catch (error) {
        this.#logger?.error("RTP session listener failed", { event: "audio", error });
      }
    }
  }

  #emit<K extends keyof RtpSessionEvents>(
    type: K,
    ...args: Parameters<RtpSessionEvents[K]>
  ): void {
    for (const listener of this.#listeners[type]) {
      try {
        (listener as (...a: Parameters<RtpSessionEvents[K]>) => void)(...args);
      } catch (error) {
        this.#logger?.error("RTP session listener failed", { event: type, error });
      }
    }
  }

  /** `#emit("audio", frame)` without the rest-argument array: it runs per received packet. */
  #emitAudio(frame: RtpAudioFrame): void {
    const early = this.#early;
    if (early !== undefined) {
      if (this.#listeners.audio.size === 0) {
        // Nobody listens yet: keep it (a copy: an engine's buffer is reused) for the first
        // listener, the newest EARLY_AUDIO_FRAMES only.
        early.push({ ...frame, payload: frame.payload.slice() });
        if (early.length > EARLY_AUDIO_FRAMES) {
          early.shift();
          this.#count.earlyAudioDropped++;
        }
        return;
      }
      this.#early = undefined;
    }
    for (const listener of this.#listeners.audio) {
      try {
        listener(frame);
      } catch (error) {
        this.#logger?.error("RTP session listener failed", { event: "audio", error });
      }
    }
  }

  /** Changes the payload types after a re-negotiation. */
  setPayloads(payloads: RtpPayloadMap): void {
    this.#payloads = payloads;
    if (this.#filtered) this.#sockets.filter?.(this.#sourceFilterConfig());
    this.#receiver.resetDtmf();
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
    return this.#sender.sendAudio(payload, samples, marker);
  }

  /**
   * Sends one RFC 3389 comfort-noise packet (noise `level` in −dBov, 0–127; 127 is digital
   * silence) covering `samples`, when CN was negotiated; false otherwise (or not sent, as
   * {@linkcode RtpSession.sendAudio}). The next audio packet carries the marker bit.
   */
  sendComfortNoise(level: number, samples: number): boolean {
    return this.#sender.sendComfortNoise(level, samples);
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
    return this.#sender.sendDigits(digits, options);
  }

  /** Stops the session: RTCP BYE to the far end, sockets closed. Closing twice is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#receiver.flush();
    const remoteRtcp = this.#latch.remoteRtcp;
    if (remoteRtcp) {
      try {
        const bye = serializeRtcp([this.#report(), { type: "bye", ssrcs: [this.#ssrc] }]);
        await (this.#rtcp ?? this.#rtp).send(bye, remoteRtcp);
        this.#count.rtcpSent++;
      } catch (error) {
        // Best effort: the far end may be gone (an unreachable port, a closed route).
        this.#logger?.debug("RTCP BYE not sent", { error });
      }
    }
    this.#closed = true;
    this.#early = undefined;
    this.#tick.cancel();
    this.#receiver.close();
    this.#sockets.close();
    await Promise.allSettled(this.#done);
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** One datagram from the engine (RTP socket: `rtpSocket`; RTCP here when muxed). */
  #onDatagram(
    bytes: Uint8Array,
    from: Deno.NetAddr,
    arrival: number,
    rtcpHere: boolean,
    rtpSocket: boolean,
    filtered?: number,
  ): void {
    if (this.#closed) return;
    try {
      if (rtcpHere && (!rtpSocket || isRtcpPacket(bytes))) this.#onRtcp(bytes, from);
      else if (filtered !== undefined) this.#onFilteredRtp(bytes, from, arrival, filtered);
      else this.#onRtp(bytes, from, arrival);
    } catch (error) {
      if (error instanceof RtpParseError) this.#count.malformed++;
      else this.#logger?.error("RTP packet handler failed", { error });
    }
  }

  #onRtp(bytes: Uint8Array, from: Deno.NetAddr, arrival: number): void {
    const packet = parseRtp(bytes);
    const pt = packet.payloadType;
    const payloads = this.#payloads;
    if (pt !== payloads.audio.payloadType && pt !== payloads.telephoneEvent?.payloadType) {
      this.#count.unknownPayloadType++;
      return;
    }
    const verdict = this.#latch.accept(from, arrival, packet.sequenceNumber);
    if (verdict === "other") {
      this.#count.wrongSource++;
      return;
    }
    // A source that just latched (after signalling, or after silence and probation) brings
    // its own stream: its SSRC needs no second probation.
    if (verdict === "latched") this.#receiver.expectNewStream();
    this.#count.packetsReceived++;
    rtpTally.uplinkPackets++;
    this.#count.bytesReceived += bytes.length;
    this.#lastRtpUs = arrival;
    this.#inactiveFired = false;
    this.#receiver.receive(packet, arrival);
  }

  /**
   * RTP the engine's source filter kept (`RtpSockets.filter`): the payload type, source and
   * SSRC checks ran there with this session's policy; only their outcome is applied here.
   */
  #onFilteredRtp(bytes: Uint8Array, from: Deno.NetAddr, arrival: number, filtered: number): void {
    const packet = parseRtp(bytes);
    const latched = (filtered & FILTERED.latched) !== 0;
    this.#latch.decided(from, arrival, latched, (filtered & FILTERED.relatched) !== 0);
    if (latched) this.#receiver.expectNewStream();
    this.#count.packetsReceived++;
    rtpTally.uplinkPackets++;
    this.#count.bytesReceived += bytes.length;
    this.#lastRtpUs = arrival;
    this.#inactiveFired = false;
    this.#receiver.receive(packet, arrival, true);
  }

  #onRtcp(bytes: Uint8Array, from: Deno.NetAddr): void {
    const packets = parseRtcp(bytes);
    this.#count.rtcpReceived++;
    if (!this.#latch.acceptsRtcp(from)) {
      this.#count.wrongSource++;
      return;
    }
    for (const packet of packets) {
      if (packet.type === "sr" || packet.type === "rr") this.#observeDownlink(packet.reports);
      if (packet.type === "sr") this.#receiver.statistics.senderReport(packet, Date.now());
      else if (packet.type === "bye" && packet.ssrcs.includes(this.#receiver.remoteSsrc ?? -1)) {
        this.#emit("bye", packet.reason);
      }
    }
  }

  /** Metrics: the far end's report on our downlink (loss since its last report, jitter). */
  #observeDownlink(reports: readonly ReceiveReport[]): void {
    const ours = reports.find((r) => r.ssrc === this.#ssrc);
    if (!ours) return;
    rtpTally.downlinkLost += Math.max(0, ours.cumulativeLost - this.#downlinkLostReported);
    this.#downlinkLostReported = Math.max(this.#downlinkLostReported, ours.cumulativeLost);
    metrics.rtpJitterSeconds.observe(
      { direction: "downlink" },
      ours.jitter / this.#payloads.audio.clockRate,
    );
  }

  #report(): RtcpPacket {
    const receiver = this.#receiver;
    const ssrc = receiver.remoteSsrc;
    if (ssrc !== undefined) {
      // Metrics: uplink loss since the last report, and jitter, once per RTCP interval.
      const lost = receiver.reorderStats.lost;
      rtpTally.uplinkLost += Math.max(0, lost - this.#uplinkLostReported);
      this.#uplinkLostReported = Math.max(this.#uplinkLostReported, lost);
      metrics.rtpJitterSeconds.observe(
        { direction: "uplink" },
        receiver.statistics.jitter / this.#payloads.audio.clockRate,
      );
    }
    const reports: ReceiveReport[] = ssrc === undefined
      ? []
      : [receiver.statistics.report(ssrc, receiver.reorderStats.lost, Date.now())];
    if (!this.#sender.sentSinceReport) return { type: "rr", ssrc: this.#ssrc, reports };
    const { seconds, fraction } = ntpTime(Date.now());
    return {
      type: "sr",
      ssrc: this.#ssrc,
      ntpSeconds: seconds,
      ntpFraction: fraction,
      rtpTimestamp: this.#sender.lastSentTimestamp,
      packetCount: this.#count.packetsSent,
      octetCount: this.#count.bytesSent,
      reports,
    };
  }

  readonly #onTick = (at: number): void => {
    this.#tick = sharedPacer().schedule(at + TICK_MS, this.#onTick, this.#tick);
    const now = nowMicros();
    this.#receiver.tick(now);
    if (
      this.#inactivityUs > 0 && !this.#inactiveFired && now - this.#lastRtpUs > this.#inactivityUs
    ) {
      this.#inactiveFired = true;
      this.#logger?.info("RTP inactivity timeout", { ms: this.#inactivityUs / 1000 });
      this.#emit("inactive");
    }
    const remoteRtcp = this.#latch.remoteRtcp;
    if (remoteRtcp && Date.now() - this.#lastRtcpMs >= this.#rtcpIntervalMs) {
      this.#lastRtcpMs = Date.now();
      const bytes = serializeRtcp([this.#report()]);
      this.#sender.sentSinceReport = false;
      this.#count.rtcpSent++;
      (this.#rtcp ?? this.#rtp).send(bytes, remoteRtcp).catch((error) =>
        // A report lost on the way is replaced by the next one: note it, keep going.
        this.#logger?.debug("RTCP report not sent", { error })
      );
    }
  };
}
