/**
 * The call lifecycle: an explicit state machine that only moves forward.
 *
 * ```text
 *            ┌──────────────────────────────┐
 *            │                              ▼
 *  dialing ──┴──▶ ringing ──▶ in_progress ──▶ completed
 *     │              │            │
 *     │              │            └─────────▶ failed
 *     │              ├──────────────────────▶ no_answer
 *     │              ├──────────────────────▶ failed
 *     │              └──────────────────────▶ completed   (canceled before answer)
 *     ├─────────────────────────────────────▶ failed
 *     ├─────────────────────────────────────▶ no_answer   (SIP: timeout, 408/480 before 180)
 *     └─────────────────────────────────────▶ completed   (canceled before ringing)
 * ```
 *
 * `completed`, `failed` and `no_answer` are terminal: no edge leaves them.
 *
 * @module
 */

/** Where a call is in its life. */
export type CallStatus =
  | "dialing"
  | "ringing"
  | "in_progress"
  | "completed"
  | "failed"
  | "no_answer";

/** Every status, in lifecycle order. */
export const CALL_STATUSES: readonly CallStatus[] = Object.freeze([
  "dialing",
  "ringing",
  "in_progress",
  "completed",
  "failed",
  "no_answer",
]);

/** Why a call ended. */
export type EndReason =
  | "hangup"
  | "canceled"
  | "caller_hangup"
  | "no_answer"
  | "client_not_registered"
  | "no_sip_gateway"
  | "gateway_error"
  | "server_restart"
  /** The far end was busy (SIP 486 or 600). */
  | "busy"
  /** The far end declined (SIP 603). */
  | "declined"
  /** The far end or the trunk refused the call with another SIP error (see `sipStatus`). */
  | "rejected"
  /** An answered SIP call's RTP stopped for longer than the gateway's timeout. */
  | "media_timeout"
  /** The far end was handed to another party by SIP REFER and left the call. */
  | "transferred"
  /**
   * A `client:` leg's media connection was lost (its uplink track ended with an error, e.g.
   * its MoQT session closed) rather than hung up (the track ended cleanly: `caller_hangup`).
   */
  | "connection_lost"
  /**
   * The node that held the call's legs stopped renewing its cluster lease (it died or lost
   * Redis for longer than the lease): another node ended the call (cluster mode).
   */
  | "node_lost"
  /**
   * The relay shard (a Worker of this process, `relay.shards`) that served the call's media
   * died: the server ended the call; calls of the other shards go on.
   */
  | "shard_lost";

/** Every end reason. */
export const END_REASONS: readonly EndReason[] = Object.freeze([
  "hangup",
  "canceled",
  "caller_hangup",
  "no_answer",
  "client_not_registered",
  "no_sip_gateway",
  "gateway_error",
  "server_restart",
  "busy",
  "declined",
  "rejected",
  "media_timeout",
  "transferred",
  "connection_lost",
  "node_lost",
  "shard_lost",
]);

const EDGES: Readonly<Record<CallStatus, readonly CallStatus[]>> = {
  dialing: ["ringing", "in_progress", "failed", "completed", "no_answer"],
  ringing: ["in_progress", "no_answer", "failed", "completed"],
  in_progress: ["completed", "failed"],
  completed: [],
  failed: [],
  no_answer: [],
};

/**
 * An edge the state machine does not have, e.g. hanging up a completed call.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { IllegalTransitionError, transition } from "./status.ts";
 * try {
 *   transition("completed", "in_progress");
 * } catch (error) {
 *   assertEquals(error instanceof IllegalTransitionError, true);
 * }
 * ```
 */
export class IllegalTransitionError extends Error {
  /** The status the call is in. */
  readonly from: CallStatus;
  /** The status asked for. */
  readonly to: CallStatus;

  /** Creates the error for the edge `from → to`. */
  constructor(from: CallStatus, to: CallStatus) {
    super(`Cannot move call from "${from}" to "${to}"`);
    this.name = "IllegalTransitionError";
    this.from = from;
    this.to = to;
  }
}

/**
 * True for the statuses no edge leaves.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isTerminal } from "./status.ts";
 * assertEquals([isTerminal("no_answer"), isTerminal("ringing")], [true, false]);
 * ```
 */
export function isTerminal(status: CallStatus): boolean {
  return EDGES[status].length === 0;
}

/**
 * True when the state machine has the edge `from → to`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { canTransition } from "./status.ts";
 * assertEquals(canTransition("ringing", "in_progress"), true);
 * ```
 */
export function canTransition(from: CallStatus, to: CallStatus): boolean {
  return EDGES[from].includes(to);
}

/**
 * The one way a status changes: returns `to`, or throws {@linkcode IllegalTransitionError}
 * for an edge the diagram in this module does not have.
 *
 * @example
 * ```ts
 * import { transition } from "./status.ts";
 * const next = transition("dialing", "ringing"); // "ringing"
 * ```
 */
export function transition(from: CallStatus, to: CallStatus): CallStatus {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
