/**
 * Typed SIP errors: {@linkcode SipError} carries a SIP status code and reason phrase (the
 * response the gateway sends, or the one it received); {@linkcode SdpError} is the only
 * thing the SDP parser throws on hostile input.
 *
 * @module
 */

/**
 * A SIP failure with its status code, e.g. `new SipError(488, "Not Acceptable Here")`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SipError } from "./error.ts";
 * const error = new SipError(403, "Forbidden", "Cannot accept INVITE: 10.0.0.9 is no trunk");
 * assertEquals([error.status, error.reason], [403, "Forbidden"]);
 * ```
 */
export class SipError extends Error {
  /** The SIP status code (400–699). */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** Header lines the response carries, e.g. `Retry-After: 5` on a 503. */
  readonly headers: readonly string[];

  /** Creates the error; `message` defaults to `"<status> <reason>"`. */
  constructor(
    status: number,
    reason: string,
    message?: string,
    options: { readonly headers?: readonly string[] } = {},
  ) {
    super(message ?? `${status} ${reason}`);
    this.name = "SipError";
    this.status = status;
    this.reason = reason;
    this.headers = options.headers ?? [];
  }
}

/**
 * Malformed or over-limit SDP. The gateway answers the offer with 488.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * import { parseSdp } from "./sdp.ts";
 * import { SdpError } from "./error.ts";
 * assertThrows(() => parseSdp("not sdp"), SdpError);
 * ```
 */
export class SdpError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SdpError";
  }
}
