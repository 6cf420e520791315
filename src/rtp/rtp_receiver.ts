/**
 * The receive half of an `RtpSession` after the source check: SSRC tracking
 * (changes and stale packets), reordering and de-duplication, receive statistics, and
 * delivery of audio frames and RFC 4733 events.
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
 * const receiver = new RtpReceiver({ reorderWindow: 4, maxReorderDelayMs: 60, count, handlers: session });
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
  #previousSsrc: number | undefined;
  #stats = new ReceiveStatistics();
  #reorderTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(init: RtpReceiverInit) {
    this.#maxReorderDelayMs = init.maxReorderDelayMs;
    this.#count = init.count;
    this.#handlers = init.handlers;
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

  /** Ends DTMF events whose end packets never came. */
  tick(now: number): void {
    this.#dtmfIn.tick(now);
  }

  /** Stops the reorder timer. */
  close(): void {
    clearTimeout(this.#reorderTimer);
  }

  /** Takes an accepted packet of a negotiated payload type. */
  receive(packet: RtpPacket, arrival: number): void {
    if (packet.ssrc !== this.#remoteSsrc) {
      if (packet.ssrc === this.#previousSsrc) {
        this.#count.staleSsrc++;
        return;
      }
      if (this.#remoteSsrc !== undefined) {
        this.#reorder.flush(this.#deliver);
        this.#count.ssrcChanges++;
        this.#handlers.onSsrcChange?.(this.#remoteSsrc, packet.ssrc);
      }
      this.#previousSsrc = this.#remoteSsrc;
      this.#remoteSsrc = packet.ssrc;
      this.#reorder.reset();
      this.#stats = new ReceiveStatistics();
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
