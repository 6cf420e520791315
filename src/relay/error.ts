/**
 * Typed MoQT errors and the wire error codes of draft-ietf-moq-transport-14.
 *
 * {@link MoqError} carries a session termination code, so whoever catches one knows what to
 * put in CONNECTION_CLOSE / CLOSE_WEBTRANSPORT_SESSION. The class is protocol-neutral in
 * spirit (a code and a message), but every table in this module holds draft-14's names and
 * values (draft-14 §3.4 and §13.1). A later wire dialect would add its own tables.
 *
 * @example
 * ```ts
 * import { MoqError, SessionErrorCode } from "./error.ts";
 *
 * const err = new MoqError(SessionErrorCode.TOO_MANY_REQUESTS, "Request ID 12 is past the maximum");
 * console.log(err.code); // 7
 * ```
 *
 * @module
 */

/**
 * Session termination error codes (draft-14 §3.4, §13.1.1).
 *
 * @example
 * ```ts
 * import { SessionErrorCode } from "./error.ts";
 * console.log(SessionErrorCode.PROTOCOL_VIOLATION); // 3
 * ```
 */
export const SessionErrorCode = {
  NO_ERROR: 0x0,
  INTERNAL_ERROR: 0x1,
  UNAUTHORIZED: 0x2,
  PROTOCOL_VIOLATION: 0x3,
  INVALID_REQUEST_ID: 0x4,
  DUPLICATE_TRACK_ALIAS: 0x5,
  KEY_VALUE_FORMATTING_ERROR: 0x6,
  TOO_MANY_REQUESTS: 0x7,
  INVALID_PATH: 0x8,
  MALFORMED_PATH: 0x9,
  GOAWAY_TIMEOUT: 0x10,
  CONTROL_MESSAGE_TIMEOUT: 0x11,
  DATA_STREAM_TIMEOUT: 0x12,
  AUTH_TOKEN_CACHE_OVERFLOW: 0x13,
  DUPLICATE_AUTH_TOKEN_ALIAS: 0x14,
  VERSION_NEGOTIATION_FAILED: 0x15,
  MALFORMED_AUTH_TOKEN: 0x16,
  UNKNOWN_AUTH_TOKEN_ALIAS: 0x17,
  EXPIRED_AUTH_TOKEN: 0x18,
  INVALID_AUTHORITY: 0x19,
  MALFORMED_AUTHORITY: 0x1a,
} as const;

/** A value of {@link SessionErrorCode}. */
export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

/**
 * SUBSCRIBE_ERROR codes (draft-14 §9.9, §13.1.2). TRACK_STATUS_ERROR uses the same table
 * (§9.22). 0x11 is unassigned in draft-14.
 *
 * @example
 * ```ts
 * import { SubscribeErrorCode } from "./error.ts";
 * console.log(SubscribeErrorCode.TRACK_DOES_NOT_EXIST); // 4
 * ```
 */
export const SubscribeErrorCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TIMEOUT: 0x2,
  NOT_SUPPORTED: 0x3,
  TRACK_DOES_NOT_EXIST: 0x4,
  INVALID_RANGE: 0x5,
  MALFORMED_AUTH_TOKEN: 0x10,
  EXPIRED_AUTH_TOKEN: 0x12,
} as const;

/**
 * PUBLISH_ERROR codes (draft-14 §9.15, §13.1.4).
 *
 * @example
 * ```ts
 * import { PublishErrorCode } from "./error.ts";
 * console.log(PublishErrorCode.UNINTERESTED); // 4
 * ```
 */
export const PublishErrorCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TIMEOUT: 0x2,
  NOT_SUPPORTED: 0x3,
  UNINTERESTED: 0x4,
} as const;

/**
 * FETCH_ERROR codes (draft-14 §9.18, §13.1.5).
 *
 * @example
 * ```ts
 * import { FetchErrorCode } from "./error.ts";
 * console.log(FetchErrorCode.NO_OBJECTS); // 6
 * ```
 */
export const FetchErrorCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TIMEOUT: 0x2,
  NOT_SUPPORTED: 0x3,
  TRACK_DOES_NOT_EXIST: 0x4,
  INVALID_RANGE: 0x5,
  NO_OBJECTS: 0x6,
  INVALID_JOINING_REQUEST_ID: 0x7,
  UNKNOWN_STATUS_IN_RANGE: 0x8,
  MALFORMED_TRACK: 0x9,
  MALFORMED_AUTH_TOKEN: 0x10,
  EXPIRED_AUTH_TOKEN: 0x12,
} as const;

/**
 * PUBLISH_NAMESPACE_ERROR codes (draft-14 §9.25; §13.1.6 still calls the table
 * "ANNOUNCE_ERROR"). PUBLISH_NAMESPACE_CANCEL uses the same codes (§9.27).
 *
 * @example
 * ```ts
 * import { PublishNamespaceErrorCode } from "./error.ts";
 * console.log(PublishNamespaceErrorCode.UNAUTHORIZED); // 1
 * ```
 */
export const PublishNamespaceErrorCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TIMEOUT: 0x2,
  NOT_SUPPORTED: 0x3,
  UNINTERESTED: 0x4,
  MALFORMED_AUTH_TOKEN: 0x10,
  EXPIRED_AUTH_TOKEN: 0x12,
} as const;

/**
 * SUBSCRIBE_NAMESPACE_ERROR codes (draft-14 §9.30, §13.1.7).
 *
 * @example
 * ```ts
 * import { SubscribeNamespaceErrorCode } from "./error.ts";
 * console.log(SubscribeNamespaceErrorCode.NAMESPACE_PREFIX_OVERLAP); // 5
 * ```
 */
export const SubscribeNamespaceErrorCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TIMEOUT: 0x2,
  NOT_SUPPORTED: 0x3,
  NAMESPACE_PREFIX_UNKNOWN: 0x4,
  NAMESPACE_PREFIX_OVERLAP: 0x5,
  MALFORMED_AUTH_TOKEN: 0x10,
  EXPIRED_AUTH_TOKEN: 0x12,
} as const;

/**
 * Request error codes, one table per message family: the families share 0x0–0x3 but
 * differ from 0x4 on (0x4 is TRACK_DOES_NOT_EXIST for SUBSCRIBE, UNINTERESTED for PUBLISH,
 * NAMESPACE_PREFIX_UNKNOWN for SUBSCRIBE_NAMESPACE), so always pick the family's table.
 *
 * @example
 * ```ts
 * import { RequestErrorCode } from "./error.ts";
 * console.log(RequestErrorCode.fetch.INVALID_RANGE); // 5
 * console.log(RequestErrorCode.trackStatus.TRACK_DOES_NOT_EXIST); // 4
 * ```
 */
export const RequestErrorCode = {
  subscribe: SubscribeErrorCode,
  trackStatus: SubscribeErrorCode,
  publish: PublishErrorCode,
  fetch: FetchErrorCode,
  publishNamespace: PublishNamespaceErrorCode,
  subscribeNamespace: SubscribeNamespaceErrorCode,
} as const;

/**
 * PUBLISH_DONE status codes (draft-14 §9.12, §13.1.3; SUBSCRIBE_DONE before draft-14).
 *
 * @example
 * ```ts
 * import { PublishDoneCode } from "./error.ts";
 * console.log(PublishDoneCode.TRACK_ENDED); // 2
 * ```
 */
export const PublishDoneCode = {
  INTERNAL_ERROR: 0x0,
  UNAUTHORIZED: 0x1,
  TRACK_ENDED: 0x2,
  SUBSCRIPTION_ENDED: 0x3,
  GOING_AWAY: 0x4,
  EXPIRED: 0x5,
  TOO_FAR_BEHIND: 0x6,
  MALFORMED_TRACK: 0x7,
} as const;

/**
 * Data stream RESET_STREAM / RESET_STREAM_AT codes (draft-14 §10.4.3, §13.1.8).
 *
 * @example
 * ```ts
 * import { StreamResetCode } from "./error.ts";
 * console.log(StreamResetCode.DELIVERY_TIMEOUT); // 2
 * ```
 */
export const StreamResetCode = {
  INTERNAL_ERROR: 0x0,
  CANCELLED: 0x1,
  DELIVERY_TIMEOUT: 0x2,
  SESSION_CLOSED: 0x3,
} as const;

/**
 * An error that ends a MoQT session, carrying the session termination code to send.
 *
 * @example
 * ```ts
 * import { MoqError, SessionErrorCode } from "./error.ts";
 *
 * try {
 *   throw new MoqError(SessionErrorCode.DUPLICATE_TRACK_ALIAS, "Track alias 3 is already in use");
 * } catch (err) {
 *   if (err instanceof MoqError) console.log(err.code); // 5
 * }
 * ```
 */
export class MoqError extends Error {
  /** The draft-14 session termination code ({@link SessionErrorCode}). */
  readonly code: number;

  /**
   * Creates an error carrying a draft-14 session termination code.
   *
   * @param code A session termination code, see {@link SessionErrorCode}
   * @param message Sentence case, no trailing period
   * @param options Standard error options (`cause`)
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MoqError";
    this.code = code;
  }

  /**
   * Shorthand for a PROTOCOL_VIOLATION.
   *
   * @example
   * ```ts
   * import { MoqError } from "./error.ts";
   * const err = MoqError.protocolViolation("Received a second GOAWAY");
   * console.log(err.code); // 3
   * ```
   */
  static protocolViolation(message: string, options?: ErrorOptions): MoqError {
    return new MoqError(SessionErrorCode.PROTOCOL_VIOLATION, message, options);
  }
}

/**
 * Raised by the wire decoders for malformed or hostile input. Decoders never throw
 * anything else on bad bytes. The code defaults to PROTOCOL_VIOLATION.
 *
 * @example
 * ```ts
 * import { MoqParseError, SessionErrorCode } from "./error.ts";
 *
 * const err = new MoqParseError("Cannot decode SUBSCRIBE: trailing bytes");
 * console.log(err.code === SessionErrorCode.PROTOCOL_VIOLATION); // true
 * const kv = new MoqParseError("Bad token", SessionErrorCode.KEY_VALUE_FORMATTING_ERROR);
 * console.log(kv.code); // 6
 * ```
 */
export class MoqParseError extends MoqError {
  /**
   * Creates a parse error, a PROTOCOL_VIOLATION unless another code is given.
   *
   * @param message Sentence case, no trailing period
   * @param code A session termination code, PROTOCOL_VIOLATION unless given
   * @param options Standard error options (`cause`)
   */
  constructor(
    message: string,
    code: number = SessionErrorCode.PROTOCOL_VIOLATION,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.name = "MoqParseError";
  }
}
