/**
 * The one error RTP/RTCP parsers throw on hostile or malformed input.
 *
 * @module
 */

/**
 * What was wrong with a packet.
 *
 * @example
 * ```ts
 * import type { RtpParseErrorCode } from "./error.ts";
 * const code: RtpParseErrorCode = "truncated";
 * ```
 */
export type RtpParseErrorCode =
  | "truncated"
  | "bad_version"
  | "bad_padding"
  | "bad_length"
  | "bad_payload"
  | "bad_value";

/**
 * A packet (RTP, RTCP or an RFC 4733 payload) that cannot be parsed. Parsers in
 * `src/rtp` throw nothing else on any input.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { parseRtp, RtpParseError } from "./mod.ts";
 * const error = assertThrows(() => parseRtp(new Uint8Array(3)), RtpParseError);
 * assertEquals(error.code, "truncated");
 * ```
 */
export class RtpParseError extends Error {
  /** Why parsing failed. */
  readonly code: RtpParseErrorCode;

  /** Makes an error with a machine-readable `code` and a sentence-case message. */
  constructor(code: RtpParseErrorCode, message: string) {
    super(message);
    this.name = "RtpParseError";
    this.code = code;
  }
}
