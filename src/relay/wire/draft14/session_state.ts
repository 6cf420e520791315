/**
 * The lifecycle of a draft-14 MoQT session.
 *
 * ```
 *   setup ──(CLIENT_SETUP/SERVER_SETUP exchanged)──▶ established ──(GOAWAY)──▶ draining
 *     │                                                  │                        │
 *     └──────────────────────(error or close)────────────┴────────────────────────┴──▶ closed
 * ```
 *
 * @module
 */

/** A session's state; see the module diagram. */
export type SessionState = "setup" | "established" | "draining" | "closed";

const EDGES: Readonly<Record<SessionState, readonly SessionState[]>> = {
  setup: ["established", "closed"],
  established: ["draining", "closed"],
  draining: ["closed"],
  closed: [],
};

/**
 * Returns `to` when `from → to` is a legal edge; throws `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { transition } from "./session_state.ts";
 * transition("setup", "established"); // "established"
 * ```
 */
export function transition(from: SessionState, to: SessionState): SessionState {
  if (!EDGES[from].includes(to)) {
    throw new TypeError(`Cannot move MoQT session from ${from} to ${to}`);
  }
  return to;
}
