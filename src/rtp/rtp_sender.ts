/**
 * The send half of an `RtpSession`: one SSRC, sequence and timestamp clock shared
 * by audio and RFC 4733 events, talkspurt detection, and in-order transmission.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { RTP_HEADER_BYTES } from "./packet.ts";
import type { RtpPayloadMap } from "./payload_types.ts";
import type { RtpCounters, RtpDirection, SendDigitsOptions } from "./session_types.ts";
import { digitToEvent, encodeTelephoneEvent } from "./telephone_event.ts";
import { rtpTally } from "../metrics/mod.ts";
import type { RtpSocket } from "./engine/types.ts";

const DTMF_PACKET_MS = 20;
/** A pause in sending longer than this starts a new talkspurt (marker bit, timestamp jump). */
const TALKSPURT_GAP_MS = 40;
/** The reused packet buffer fits payloads up to this (a 60 ms G.711 frame, any Opus frame). */
const SCRATCH_PAYLOAD_BYTES = 1500;

/** What the sender reads from its session, live: payload types, far end, direction. */
export interface RtpSenderState {
  readonly payloads: RtpPayloadMap;
  readonly remote: Deno.NetAddr | undefined;
  readonly direction: RtpDirection;
  readonly closed: boolean;
}

/** Options for an {@linkcode RtpSender}. */
export interface RtpSenderInit {
  readonly socket: RtpSocket;
  readonly ssrc: number;
  /** The session's counters (the sender updates the send ones). */
  readonly count: RtpCounters;
  /** Milliseconds, monotonic: paces talkspurts. */
  readonly clock: () => number;
  readonly logger: Logger | undefined;
  readonly state: RtpSenderState;
}

/**
 * Builds and sends a session's RTP packets (see `RtpSession.sendAudio` and
 * `RtpSession.sendDigits`, which delegate here).
 *
 * @example
 * ```ts ignore
 * const sender = new RtpSender({ socket, ssrc, count, clock: () => performance.now(), logger, state: session });
 * sender.sendAudio(new Uint8Array(160), 160);
 * ```
 */
export class RtpSender {
  readonly #socket: RtpSocket;
  readonly #ssrc: number;
  readonly #count: RtpCounters;
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;
  readonly #state: RtpSenderState;
  #seq = Math.floor(Math.random() * 0x10000);
  #timestamp = Math.floor(Math.random() * 0x100000000);
  #nextSendMs = -1;
  #lastSentTimestamp = 0;
  #dtmfChain: Promise<void> = Promise.resolve();
  #dtmfActive = false;
  /** Comfort noise went out last: the next audio packet starts a talkspurt (marker). */
  #afterNoise = false;
  #inFlight = false;
  /** What the last `#advanceClock` found: this send starts a talkspurt. */
  #talkspurt = false;
  readonly #sendQueue: [Uint8Array, Deno.NetAddr][] = [];
  /**
   * With a synchronous socket (`sendNow` copies the bytes before it returns) every packet is
   * built in this one buffer: no allocation per packet. Sized on first use.
   */
  #scratch: Uint8Array | undefined;
  /** The last view of `#scratch` handed out, reused while packets keep its length. */
  #scratchView: Uint8Array | undefined;
  /** Whether RTP went out since the last RTCP report (an SR rather than an RR). */
  sentSinceReport = false;

  constructor(init: RtpSenderInit) {
    this.#socket = init.socket;
    this.#ssrc = init.ssrc;
    this.#count = init.count;
    this.#clock = init.clock;
    this.#logger = init.logger;
    this.#state = init.state;
  }

  /** The RTP timestamp of the last packet sent (for RTCP SR). */
  get lastSentTimestamp(): number {
    return this.#lastSentTimestamp;
  }

  /** See `RtpSession.sendComfortNoise`. */
  sendComfortNoise(level: number, samples: number): boolean {
    const cn = this.#state.payloads.comfortNoise;
    if (!cn) return false;
    const sent = this.sendAudio(Uint8Array.of(level & 0x7f), samples, false, cn.payloadType);
    if (sent) this.#afterNoise = true;
    return sent;
  }

  /** See `RtpSession.sendAudio`; `payloadType` overrides the audio's (comfort noise). */
  sendAudio(payload: Uint8Array, samples: number, marker: boolean, payloadType?: number): boolean {
    const state = this.#state;
    if (
      state.closed || !state.remote || this.#dtmfActive || state.direction === "recvonly" ||
      state.direction === "inactive"
    ) {
      this.#count.audioNotSent++;
      return false;
    }
    const rate = state.payloads.audio.clockRate;
    const now = this.#advanceClock();
    marker ||= this.#talkspurt;
    if (payloadType === undefined) {
      // RFC 3389 §4: the first speech packet after comfort noise starts a talkspurt.
      marker ||= this.#afterNoise;
      this.#afterNoise = false;
    }
    this.#send(payloadType ?? state.payloads.audio.payloadType, marker, this.#timestamp, payload);
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    this.#nextSendMs = now + (samples / rate) * 1000;
    return true;
  }

  /** See `RtpSession.sendDigits`. */
  sendDigits(digits: string, options: SendDigitsOptions): Promise<void> {
    const events = [...digits].map(digitToEvent);
    if (!this.#state.payloads.telephoneEvent) {
      return Promise.reject(
        new Error("Cannot send digits: telephone-event was not negotiated for this session"),
      );
    }
    const run = this.#dtmfChain.then(() => this.#playDigits(events, options));
    // The caller gets this call's failure from `run`; the chain only orders the next call
    // after this one, failed or not.
    this.#dtmfChain = run.then(() => {}, () => {});
    return run;
  }

  /**
   * Where the media clock stands now: jumps the timestamp over a pause in sending. Returns
   * the send time and sets `#talkspurt` (no object per packet).
   */
  #advanceClock(): number {
    const now = this.#clock();
    this.#talkspurt = true;
    if (this.#nextSendMs < 0) return now;
    const gap = now - this.#nextSendMs;
    if (gap <= TALKSPURT_GAP_MS) {
      this.#talkspurt = false;
      return Math.max(now, this.#nextSendMs);
    }
    const rate = this.#state.payloads.audio.clockRate;
    this.#timestamp = (this.#timestamp + Math.round((gap / 1000) * rate)) >>> 0;
    return now;
  }

  async #playDigits(events: number[], options: SendDigitsOptions): Promise<void> {
    const { durationMs = 100, gapMs = 60, volume = 10 } = options;
    const state = this.#state;
    for (const event of events) {
      if (state.closed) return;
      const te = state.payloads.telephoneEvent;
      if (!te || !state.remote) continue;
      this.#dtmfActive = true;
      try {
        const startMs = this.#advanceClock();
        const eventTs = this.#timestamp;
        const total = Math.round((durationMs / 1000) * te.clockRate);
        const step = Math.round((DTMF_PACKET_MS / 1000) * te.clockRate);
        let sent = 0;
        for (let duration = step; duration < total && !state.closed; duration += step) {
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
        for (let i = 0; i < 3 && !state.closed; i++) {
          this.#send(te.payloadType, sent === 0 && i === 0, eventTs, end);
          this.#count.dtmfPacketsSent++;
          if (i < 2) await delay(DTMF_PACKET_MS);
        }
        const audioRate = state.payloads.audio.clockRate;
        this.#timestamp = (eventTs + Math.round((durationMs / 1000) * audioRate)) >>> 0;
        this.#nextSendMs = startMs + durationMs;
      } finally {
        this.#dtmfActive = false;
      }
      await delay(gapMs);
    }
  }

  #send(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    // The header is written here rather than by `serializeRtp`: every field is ours and in
    // range (sequence masked, timestamp and SSRC unsigned, a negotiated payload type), and
    // this runs per packet of every call (50 a second each).
    const bytes = this.#packetBuffer(RTP_HEADER_BYTES + payload.length);
    const seq = this.#seq;
    const ssrc = this.#ssrc;
    bytes[0] = 0x80;
    bytes[1] = (marker ? 0x80 : 0) | payloadType;
    bytes[2] = seq >>> 8;
    bytes[3] = seq & 0xff;
    bytes[4] = timestamp >>> 24;
    bytes[5] = (timestamp >>> 16) & 0xff;
    bytes[6] = (timestamp >>> 8) & 0xff;
    bytes[7] = timestamp & 0xff;
    bytes[8] = ssrc >>> 24;
    bytes[9] = (ssrc >>> 16) & 0xff;
    bytes[10] = (ssrc >>> 8) & 0xff;
    bytes[11] = ssrc & 0xff;
    bytes.set(payload, RTP_HEADER_BYTES);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#count.packetsSent++;
    rtpTally.downlinkPackets++;
    this.#count.bytesSent += payload.length;
    this.sentSinceReport = true;
    this.#lastSentTimestamp = timestamp;
    this.#transmit(bytes, this.#state.remote!);
  }

  /** A buffer for one packet of `length` bytes: the reused one when the socket copies at once. */
  #packetBuffer(length: number): Uint8Array {
    if (!this.#socket.sendNow || length > RTP_HEADER_BYTES + SCRATCH_PAYLOAD_BYTES) {
      return new Uint8Array(length); // an async send reads it later: one per packet
    }
    if (this.#scratchView?.length === length) return this.#scratchView;
    this.#scratch ??= new Uint8Array(RTP_HEADER_BYTES + SCRATCH_PAYLOAD_BYTES);
    return this.#scratchView = this.#scratch.subarray(0, length);
  }

  /**
   * Sends in call order. Deno's UDP sends are asynchronous ops that can complete out of
   * order, so while one is in flight the next ones wait in a queue.
   */
  #transmit(bytes: Uint8Array, to: Deno.NetAddr): void {
    const now = this.#socket.sendNow;
    if (now) {
      // A ring write: synchronous and in order, nothing to queue.
      if (!now(bytes, to) && !this.#state.closed) {
        this.#logger?.debug("RTP send failed: TX ring full");
      }
      return;
    }
    if (this.#inFlight) {
      this.#sendQueue.push([bytes, to]);
      return;
    }
    this.#inFlight = true;
    this.#socket.send(bytes, to).then(this.#sent, this.#sendFailed);
  }

  readonly #sent = (): void => {
    const next = this.#sendQueue.shift();
    if (!next || this.#state.closed) {
      this.#inFlight = false;
      return;
    }
    this.#socket.send(next[0], next[1]).then(this.#sent, this.#sendFailed);
  };

  readonly #sendFailed = (error: unknown): void => {
    if (!this.#state.closed) this.#logger?.debug("RTP send failed", { error });
    this.#sent();
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
