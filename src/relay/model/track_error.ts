/**
 * Why a track request failed or a track ended, in protocol-neutral terms. Each wire dialect
 * maps a {@linkcode TrackErrorReason} onto its own error codes (draft-14: SUBSCRIBE_ERROR
 * and PUBLISH_DONE codes).
 *
 * @module
 */

/**
 * The protocol-neutral reasons a track request is refused or a track ends. `superseded`: a
 * newer publisher of the same identity took the track over (the old one's publication ends).
 */
export type TrackErrorReason =
  | "not_found"
  | "timeout"
  | "unauthorized"
  | "going_away"
  | "closed"
  | "superseded"
  | "internal";

/**
 * A track could not be served, or stopped being served.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TrackError } from "@clutchcall/voice/relay";
 * const err = new TrackError("not_found", 'Cannot subscribe to track: namespace "voice/abc" is not announced');
 * assertEquals(err.reason, "not_found");
 * ```
 */
export class TrackError extends Error {
  /** Why the track failed. */
  readonly reason: TrackErrorReason;

  /** Creates a track error for `reason`. */
  constructor(reason: TrackErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TrackError";
    this.reason = reason;
  }
}
