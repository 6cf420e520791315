/**
 * RFC 4733 telephone-event payloads (DTMF): the 4-byte event block and the digit ↔
 * event-code mapping (§3.2).
 *
 * @module
 */
import { RtpParseError } from "./error.ts";

/**
 * One telephone-event payload.
 *
 * @example
 * ```ts
 * import type { TelephoneEvent } from "./telephone_event.ts";
 * const five: TelephoneEvent = { event: 5, end: false, volume: 10, duration: 800 };
 * ```
 */
export interface TelephoneEvent {
  /** Event code: 0–9, `*` = 10, `#` = 11, A–D = 12–15, others up to 255. */
  readonly event: number;
  /** E bit: this packet ends the event. */
  readonly end: boolean;
  /** Power level in −dBm0, 0–63 (DTMF uses 0–36; 10 is typical). */
  readonly volume: number;
  /** Duration so far, in timestamp units (clock rate of the telephone-event format). */
  readonly duration: number;
}

const DIGITS = "0123456789*#ABCD";

/**
 * The DTMF digits {@linkcode digitToEvent} accepts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { DTMF_DIGITS } from "./telephone_event.ts";
 * assertEquals(DTMF_DIGITS.includes("#"), true);
 * ```
 */
export const DTMF_DIGITS: string = DIGITS;

/**
 * The event code of a DTMF digit (case-insensitive for A–D).
 *
 * @throws {RangeError} for anything that is not one DTMF digit.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { digitToEvent } from "./telephone_event.ts";
 * assertEquals(digitToEvent("#"), 11);
 * ```
 */
export function digitToEvent(digit: string): number {
  const index = digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
  if (index < 0) throw new RangeError(`Invalid DTMF digit: "${digit}"`);
  return index;
}

/**
 * The DTMF digit of an event code, or undefined for events 16–255 (not DTMF).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { eventToDigit } from "./telephone_event.ts";
 * assertEquals(eventToDigit(10), "*");
 * ```
 */
export function eventToDigit(event: number): string | undefined {
  return Number.isInteger(event) && event >= 0 && event < 16 ? DIGITS[event] : undefined;
}

/**
 * Parses a telephone-event payload (the first 4-byte block; redundant blocks of RFC 2198
 * are not used here).
 *
 * @throws {RtpParseError} when the payload is shorter than 4 bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeTelephoneEvent } from "./telephone_event.ts";
 * const e = decodeTelephoneEvent(new Uint8Array([1, 0x8a, 0x03, 0x20]));
 * assertEquals([e.event, e.end, e.volume, e.duration], [1, true, 10, 800]);
 * ```
 */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (!(payload instanceof Uint8Array) || payload.length < 4) {
    throw new RtpParseError("bad_payload", "Cannot parse telephone-event: payload too short");
  }
  return {
    event: payload[0],
    end: (payload[1] & 0x80) !== 0,
    volume: payload[1] & 0x3f,
    duration: (payload[2] << 8) | payload[3],
  };
}

/**
 * Serializes a telephone-event payload.
 *
 * @throws {RangeError} for a field out of range.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { encodeTelephoneEvent } from "./telephone_event.ts";
 * const bytes = encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 960 });
 * assertEquals(bytes, new Uint8Array([11, 138, 3, 192]));
 * ```
 */
export function encodeTelephoneEvent(event: TelephoneEvent): Uint8Array {
  check("event", event.event, 0xff);
  check("volume", event.volume, 0x3f);
  check("duration", event.duration, 0xffff);
  return new Uint8Array([
    event.event,
    (event.end ? 0x80 : 0) | event.volume,
    event.duration >> 8,
    event.duration & 0xff,
  ]);
}

function check(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Invalid telephone-event ${what}: ${value}`);
  }
}
