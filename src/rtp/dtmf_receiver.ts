/**
 * Turns a stream of RFC 4733 packets into one event per key press: an event is keyed by its
 * RTP timestamp, ends at the first end packet (the retransmitted end packets are ignored),
 * or when a new event starts, or when its packets stop for a while.
 *
 * @module
 */
import { eventToDigit, type TelephoneEvent } from "./telephone_event.ts";

/**
 * A received DTMF key press (or other telephone event).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DtmfEvent } from "./dtmf_receiver.ts";
 * const pressed: string[] = [];
 * const onDtmf = (e: DtmfEvent) => pressed.push(`${e.digit} for ${e.durationMs} ms`);
 * onDtmf({ digit: "5", event: 5, durationMs: 100, volume: 10, ended: true, startedAt: 0 });
 * assertEquals(pressed, ["5 for 100 ms"]);
 * ```
 */
export interface DtmfEvent {
  /** The digit (`0-9 * # A-D`), or undefined for a non-DTMF event code. */
  readonly digit: string | undefined;
  /** The RFC 4733 event code. */
  readonly event: number;
  /** Duration in ms (from the last packet's duration field). */
  readonly durationMs: number;
  /** Volume, −dBm0. */
  readonly volume: number;
  /** False when the end packet never came (ended by a new event or silence). */
  readonly ended: boolean;
  /** Arrival of the event's first packet, µs since the Unix epoch. */
  readonly startedAt: number;
}

interface Current {
  readonly timestamp: number;
  readonly startedAt: number;
  last: TelephoneEvent;
  lastAt: number;
  done: boolean;
}

/** An event whose packets stop this long without an end packet is reported anyway. */
const STALE_MS = 500;

/** @internal Event state of one received stream. */
export class DtmfReceiver {
  readonly #clockRate: number;
  readonly #emit: (event: DtmfEvent) => void;
  #current: Current | undefined;

  constructor(clockRate: number, emit: (event: DtmfEvent) => void) {
    this.#clockRate = clockRate;
    this.#emit = emit;
  }

  /** One in-order telephone-event packet. */
  packet(timestamp: number, event: TelephoneEvent, arrivalUs: number): void {
    let current = this.#current;
    if (current && current.timestamp !== timestamp) {
      this.#finish(false);
      current = undefined;
    }
    if (!current) {
      current = { timestamp, startedAt: arrivalUs, last: event, lastAt: arrivalUs, done: false };
      this.#current = current;
    }
    if (current.done) return;
    current.last = event;
    current.lastAt = arrivalUs;
    if (event.end) this.#finish(true);
  }

  /** Reports an event whose packets stopped coming (called from a periodic tick). */
  tick(nowUs: number): void {
    const current = this.#current;
    if (current && !current.done && nowUs - current.lastAt > STALE_MS * 1000) this.#finish(false);
  }

  /** Forgets the current event (a new stream). */
  reset(): void {
    this.#current = undefined;
  }

  #finish(ended: boolean): void {
    const current = this.#current;
    if (!current || current.done) return;
    current.done = true;
    const { event, volume, duration } = current.last;
    this.#emit({
      digit: eventToDigit(event),
      event,
      durationMs: Math.round((duration / this.#clockRate) * 1000),
      volume,
      ended,
      startedAt: current.startedAt,
    });
  }
}
