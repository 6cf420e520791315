/**
 * The receive half of an `RtpSession` after the source check: SSRC tracking (a new SSRC
 * is adopted only after probation, see `source_probation.ts`), reordering and
 * de-duplication, receive statistics, and delivery of audio frames and RFC 4733 events.
 *
 * @module
 */
import { type DtmfEvent, DtmfReceiver } from "./dtmf_receiver.ts";
import { RtpParseError } from "./error.ts";
import type { RtpPacket } from "./packet.ts";
import type { RtpPayloadMap } from "./payload_types.ts";
import { ReceiveStatistics } from "./receive_statistics.ts";
import { ReorderBuffer, type ReorderStats } from "./reorder_buffer.ts";
import type { RtpAudioFrame, RtpCounters } from "./session_types.ts";
import { SourceProbation } from "./source_probation.ts";
import { decodeTelephoneEvent } from "./telephone_event.ts";

/** What the receiver reads from its session, live: payload types and the handlers. */
export interface RtpReceiverHandlers {
  readonly payloads: RtpPayloadMap;
  readonly onAudio: ((frame: RtpAudioFrame) => void) | undefined;
  readonly onDtmf: ((event: DtmfEvent) => void) | undefined;
  readonly onSsrcChange: ((previous: number, next: number) => void) | undefined;
}

/** Options for an {@linkcode RtpReceiver}. */
export interface RtpReceiverInit {
  readonly reorderWindow: number;
  readonly maxReorderDelayMs: number;
  /** The current SSRC silent this long lets a new one take over, µs. */
  readonly ssrcChangeUs: number;
  /** In-sequence packets a new SSRC must send before it takes over. */
  readonly probationPackets: number;
  /** The session's counters (the receiver updates the receive ones). */
  readonly count: RtpCounters;
  readonly handlers: RtpReceiverHandlers;
}

type Item = { packet: RtpPacket; arrival: number };

/**
 * Orders and delivers a session's accepted RTP packets.
 *
 * @example
 * ```ts ignore
 * const receiver = new RtpReceiver({
 *   reorderWindow: 4, maxReorderDelayMs: 60, ssrcChangeUs: 5e5, probationPackets: 3,
 *   count, handlers: session,
 * });
 * receiver.receive(parseRtp(bytes), nowMicros());
 * ```
 */
export class RtpReceiver {
  readonly #reorder: ReorderBuffer<Item>;
  readonly #maxReorderDelayMs: number;
  readonly #count: RtpCounters;
  readonly #handlers: RtpReceiverHandlers;
  #dtmfIn: DtmfReceiver;
  #remoteSsrc: number | undefined;
  /** When the current SSRC last sent, µs. */
  #lastCurrentUs = 0;
  readonly #ssrcChangeUs: number;
  readonly #probation: SourceProbation<number>;
  #newStreamExpected = false;
  #stats = new ReceiveStatistics();
  #reorderTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(init: RtpReceiverInit) {
    this.#maxReorderDelayMs = init.maxReorderDelayMs;
    this.#count = init.count;
    this.#handlers = init.handlers;
    this.#ssrcChangeUs = init.ssrcChangeUs;
    this.#probation = new SourceProbation(init.probationPackets);
    this.#reorder = new ReorderBuffer(init.reorderWindow);
    this.#dtmfIn = this.#newDtmfReceiver();
  }

  /** The far end's SSRC, once a packet came. */
  get remoteSsrc(): number | undefined {
    return this.#remoteSsrc;
  }

  /** Jitter, sender reports and reception reports of the current stream. */
  get statistics(): ReceiveStatistics {
    return this.#stats;
  }

  /** The reorder buffer's counters. */
  get reorderStats(): ReorderStats {
    return this.#reorder.stats;
  }

  /** Starts over with the current payload types' telephone-event clock (re-negotiation). */
  resetDtmf(): void {
    this.#dtmfIn = this.#newDtmfReceiver();
  }

  /**
   * The source check latched a new source: the next packet of another SSRC starts the new
   * stream at once (the source already passed probation, or signalling announced it).
   */
  expectNewStream(): void {
    this.#newStreamExpected = true;
  }

  /** Ends DTMF events whose end packets never came. */
  tick(now: number): void {
    this.#dtmfIn.tick(now);
  }

  /**
   * Delivers the packets the reorder buffer holds behind a gap, without waiting for the gap
   * to fill: the stream ends (a leg stops, the session closes) and they were accepted.
   */
  flush(): void {
    clearTimeout(this.#reorderTimer);
    this.#reorderTimer = undefined;
    this.#reorder.flush(this.#deliver);
  }

  /** Stops the reorder timer. Held packets are dropped: `flush()` first to keep them. */
  close(): void {
    clearTimeout(this.#reorderTimer);
  }

  /**
   * Takes an accepted packet of a negotiated payload type. A packet of another SSRC than the
   * current one is dropped (counted as `staleSsrc`) unless it completes that SSRC's
   * probation while the current one is silent (or `decided` says the engine's filter already
   * adopted it); then it starts the new stream.
   */
  receive(packet: RtpPacket, arrival: number, decided = false): void {
    // `decided`: an engine's source filter already ran this SSRC check (the same policy, see
    // `RtpSockets.filter`) and kept the packet: a new SSRC here is one it adopted.
    const expected = this.#newStreamExpected || decided;
    this.#newStreamExpected = false;
    if (packet.ssrc === this.#remoteSsrc) {
      this.#lastCurrentUs = arrival;
      this.#probation.reset();
    } else if (this.#remoteSsrc === undefined) this.#adopt(packet.ssrc, arrival);
    else {
      const proven = this.#probation.offer(packet.ssrc, packet.sequenceNumber);
      if (!expected && (!proven || arrival - this.#lastCurrentUs < this.#ssrcChangeUs)) {
        this.#count.staleSsrc++;
        return;
      }
      this.#reorder.flush(this.#deliver);
      this.#count.ssrcChanges++;
      const previous = this.#remoteSsrc;
      this.#adopt(packet.ssrc, arrival);
      this.#handlers.onSsrcChange?.(previous, packet.ssrc);
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

  #adopt(ssrc: number, arrival: number): void {
    this.#remoteSsrc = ssrc;
    this.#lastCurrentUs = arrival;
    this.#probation.reset();
    this.#reorder.reset();
    this.#stats = new ReceiveStatistics();
    this.#dtmfIn.reset();
  }

  #newDtmfReceiver(): DtmfReceiver {
    const payloads = this.#handlers.payloads;
    const rate = payloads.telephoneEvent?.clockRate ?? payloads.audio.clockRate;
    return new DtmfReceiver(rate, (event) => this.#handlers.onDtmf?.(event));
  }

  readonly #deliver = (item: Item, sequence: number): void => {
    const { packet, arrival } = item;
    const payloads = this.#handlers.payloads;
    if (packet.payloadType === payloads.audio.payloadType) {
      this.#count.audioReceived++;
      this.#stats.update(packet.timestamp, arrival, payloads.audio.clockRate, sequence);
      this.#handlers.onAudio?.({
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
    this.#stats.count(sequence);
    try {
      this.#dtmfIn.packet(packet.timestamp, decodeTelephoneEvent(packet.payload), arrival);
    } catch (error) {
      if (!(error instanceof RtpParseError)) throw error;
      this.#count.malformed++;
    }
  };
}
