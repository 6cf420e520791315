/**
 * The wire error codes of draft-ietf-moq-transport-14 (§3.4, §13.1) and the mapping between
 * them and the protocol-neutral reasons of {@linkcode MoqError} and {@linkcode TrackErrorReason}:
 * domain errors inside, codes at this edge (moq-lite's `ietf/` does the same with its
 * `Error` enum). A later dialect brings its own tables.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MoqError } from "@clutchcall/voice/relay";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SessionErrorCode, sessionErrorCode } = draft14;
 *
 * const err = new MoqError("too_many_requests", "Request ID 12 is past the maximum");
 * assertEquals(sessionErrorCode(err), SessionErrorCode.TOO_MANY_REQUESTS);
 * ```
 *
 * @module
 */
import { MoqError, type MoqErrorKind } from "../../error.ts";
import type { TrackErrorReason } from "../../model/track_error.ts";

/**
 * Session termination error codes (draft-14 §3.4, §13.1.1).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SessionErrorCode } = draft14;
 * assertEquals(SessionErrorCode.PROTOCOL_VIOLATION, 3);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SubscribeErrorCode } = draft14;
 * assertEquals(SubscribeErrorCode.TRACK_DOES_NOT_EXIST, 4);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { PublishErrorCode } = draft14;
 * assertEquals(PublishErrorCode.UNINTERESTED, 4);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { FetchErrorCode } = draft14;
 * assertEquals(FetchErrorCode.NO_OBJECTS, 6);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { PublishNamespaceErrorCode } = draft14;
 * assertEquals(PublishNamespaceErrorCode.UNAUTHORIZED, 1);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SubscribeNamespaceErrorCode } = draft14;
 * assertEquals(SubscribeNamespaceErrorCode.NAMESPACE_PREFIX_OVERLAP, 5);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { RequestErrorCode } = draft14;
 * assertEquals(RequestErrorCode.fetch.INVALID_RANGE, 5);
 * assertEquals(RequestErrorCode.trackStatus.TRACK_DOES_NOT_EXIST, 4);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { PublishDoneCode } = draft14;
 * assertEquals(PublishDoneCode.TRACK_ENDED, 2);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { StreamResetCode } = draft14;
 * assertEquals(StreamResetCode.DELIVERY_TIMEOUT, 2);
 * ```
 */
export const StreamResetCode = {
  INTERNAL_ERROR: 0x0,
  CANCELLED: 0x1,
  DELIVERY_TIMEOUT: 0x2,
  SESSION_CLOSED: 0x3,
} as const;

const SESSION_CODE: Record<Exclude<MoqErrorKind, "remote">, SessionErrorCode> = {
  no_error: SessionErrorCode.NO_ERROR,
  internal: SessionErrorCode.INTERNAL_ERROR,
  unauthorized: SessionErrorCode.UNAUTHORIZED,
  protocol_violation: SessionErrorCode.PROTOCOL_VIOLATION,
  invalid_request_id: SessionErrorCode.INVALID_REQUEST_ID,
  duplicate_track_alias: SessionErrorCode.DUPLICATE_TRACK_ALIAS,
  key_value_formatting: SessionErrorCode.KEY_VALUE_FORMATTING_ERROR,
  too_many_requests: SessionErrorCode.TOO_MANY_REQUESTS,
  invalid_path: SessionErrorCode.INVALID_PATH,
  malformed_path: SessionErrorCode.MALFORMED_PATH,
  goaway_timeout: SessionErrorCode.GOAWAY_TIMEOUT,
  control_message_timeout: SessionErrorCode.CONTROL_MESSAGE_TIMEOUT,
  data_stream_timeout: SessionErrorCode.DATA_STREAM_TIMEOUT,
  auth_token_cache_overflow: SessionErrorCode.AUTH_TOKEN_CACHE_OVERFLOW,
  duplicate_auth_token_alias: SessionErrorCode.DUPLICATE_AUTH_TOKEN_ALIAS,
  version_negotiation_failed: SessionErrorCode.VERSION_NEGOTIATION_FAILED,
  malformed_auth_token: SessionErrorCode.MALFORMED_AUTH_TOKEN,
  unknown_auth_token_alias: SessionErrorCode.UNKNOWN_AUTH_TOKEN_ALIAS,
  expired_auth_token: SessionErrorCode.EXPIRED_AUTH_TOKEN,
  invalid_authority: SessionErrorCode.INVALID_AUTHORITY,
  malformed_authority: SessionErrorCode.MALFORMED_AUTHORITY,
};

const SESSION_KIND = new Map<number, MoqErrorKind>(
  Object.entries(SESSION_CODE).map(([kind, code]) => [code, kind as MoqErrorKind]),
);

/**
 * The draft-14 session termination code for an error or a reason: the table's code for a
 * known kind, the peer's own code for a `remote` error, INTERNAL_ERROR for anything else.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MoqError } from "@clutchcall/voice/relay";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { sessionErrorCode } = draft14;
 *
 * assertEquals(sessionErrorCode("duplicate_track_alias"), 0x5);
 * assertEquals(sessionErrorCode(MoqError.protocolViolation("Received a second GOAWAY")), 0x3);
 * assertEquals(sessionErrorCode(new TypeError("not ours")), 0x1);
 * ```
 */
export function sessionErrorCode(error: MoqErrorKind | unknown): number {
  if (typeof error === "string") {
    return error in SESSION_CODE
      ? SESSION_CODE[error as keyof typeof SESSION_CODE]
      : SessionErrorCode.INTERNAL_ERROR;
  }
  if (!(error instanceof MoqError)) return SessionErrorCode.INTERNAL_ERROR;
  if (error.kind === "remote") return error.remoteCode ?? SessionErrorCode.INTERNAL_ERROR;
  return SESSION_CODE[error.kind];
}

/**
 * The {@linkcode MoqError} for a session termination code received from the peer: its
 * neutral kind when the code is in draft-14's table, `remote` otherwise; the code is kept
 * as `remoteCode` either way.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { sessionErrorFromCode } = draft14;
 *
 * assertEquals(sessionErrorFromCode(0x2, "No token").kind, "unauthorized");
 * assertEquals(sessionErrorFromCode(0x1234, "Private").kind, "remote");
 * ```
 */
export function sessionErrorFromCode(code: number, reason: string): MoqError {
  return new MoqError(SESSION_KIND.get(code) ?? "remote", reason, { remoteCode: code });
}

/**
 * The SUBSCRIBE_ERROR (and TRACK_STATUS_ERROR) code for a protocol-neutral track reason.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SubscribeErrorCode, subscribeErrorCode } = draft14;
 * assertEquals(subscribeErrorCode("not_found"), SubscribeErrorCode.TRACK_DOES_NOT_EXIST);
 * ```
 */
export function subscribeErrorCode(reason: TrackErrorReason): number {
  switch (reason) {
    case "unauthorized":
      return SubscribeErrorCode.UNAUTHORIZED;
    case "timeout":
      return SubscribeErrorCode.TIMEOUT;
    case "not_found":
      return SubscribeErrorCode.TRACK_DOES_NOT_EXIST;
    default:
      return SubscribeErrorCode.INTERNAL_ERROR;
  }
}
