/**
 * The protocol-neutral errors of a MoQT session: {@linkcode MoqError} says *why* a session
 * ends, as a {@linkcode MoqErrorKind}; each wire dialect maps kinds to its own codes at the
 * edge (draft-14: `src/relay/wire/draft14/error_codes.ts`), as moq-lite's `Error` enum is
 * mapped in its `ietf/` dialect. {@linkcode MoqParseError} is what every decoder throws on
 * malformed or hostile input.
 *
 * This module imports nothing: the model, the coding layer and every dialect stand on it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MoqError } from "@clutchcall/voice/relay";
 *
 * const err = new MoqError("too_many_requests", "Request ID 12 is past the maximum");
 * assertEquals(err.kind, "too_many_requests");
 * ```
 *
 * @module
 */

/**
 * Why a MoQT session ends. Each dialect maps these to its wire codes; `remote` is a code
 * received from a peer that the dialect has no name for (kept in {@linkcode MoqError.remoteCode}).
 */
export type MoqErrorKind =
  | "no_error"
  | "internal"
  | "unauthorized"
  | "protocol_violation"
  | "invalid_request_id"
  | "duplicate_track_alias"
  | "key_value_formatting"
  | "too_many_requests"
  | "invalid_path"
  | "malformed_path"
  | "goaway_timeout"
  | "control_message_timeout"
  | "data_stream_timeout"
  | "auth_token_cache_overflow"
  | "duplicate_auth_token_alias"
  | "version_negotiation_failed"
  | "malformed_auth_token"
  | "unknown_auth_token_alias"
  | "expired_auth_token"
  | "invalid_authority"
  | "malformed_authority"
  | "remote";

/** Options of a {@linkcode MoqError}. */
export interface MoqErrorOptions extends ErrorOptions {
  /** The wire code, when the error came from the peer. */
  remoteCode?: number;
}

/**
 * An error that ends a MoQT session, saying why in protocol-neutral terms.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { MoqError } from "@clutchcall/voice/relay";
 *
 * try {
 *   throw new MoqError("duplicate_track_alias", "Track alias 3 is already in use");
 * } catch (err) {
 *   assert(err instanceof MoqError);
 *   assertEquals(err.kind, "duplicate_track_alias");
 * }
 * ```
 */
export class MoqError extends Error {
  /** Why the session ends. */
  readonly kind: MoqErrorKind;
  /** The wire code the peer sent, for an error received from it. */
  readonly remoteCode: number | undefined;

  /**
   * Creates a session error.
   *
   * @param kind Why the session ends
   * @param message Sentence case, no trailing period
   * @param options Standard error options (`cause`), and `remoteCode` for a peer's error
   */
  constructor(kind: MoqErrorKind, message: string, options?: MoqErrorOptions) {
    super(message, options);
    this.name = "MoqError";
    this.kind = kind;
    this.remoteCode = options?.remoteCode;
  }

  /**
   * Shorthand for a protocol violation.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { MoqError } from "@clutchcall/voice/relay";
   * assertEquals(MoqError.protocolViolation("Received a second GOAWAY").kind, "protocol_violation");
   * ```
   */
  static protocolViolation(message: string, options?: ErrorOptions): MoqError {
    return new MoqError("protocol_violation", message, options);
  }
}

/** The kinds a decoder reports: a broken rule, or a badly formatted key-value pair. */
export type MoqParseErrorKind = "protocol_violation" | "key_value_formatting";

/**
 * Raised by the wire decoders for malformed or hostile input. Decoders never throw
 * anything else on bad bytes. The kind defaults to a protocol violation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MoqParseError } from "@clutchcall/voice/relay";
 *
 * assertEquals(new MoqParseError("Cannot decode SUBSCRIBE: trailing bytes").kind, "protocol_violation");
 * assertEquals(new MoqParseError("Bad token", "key_value_formatting").kind, "key_value_formatting");
 * ```
 */
export class MoqParseError extends MoqError {
  /**
   * Creates a parse error, a protocol violation unless another kind is given.
   *
   * @param message Sentence case, no trailing period
   * @param kind Why the input is refused
   * @param options Standard error options (`cause`)
   */
  constructor(
    message: string,
    kind: MoqParseErrorKind = "protocol_violation",
    options?: ErrorOptions,
  ) {
    super(kind, message, options);
    this.name = "MoqParseError";
  }
}
