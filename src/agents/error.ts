/**
 * The agent runtime's domain errors; the HTTP layer maps `kind` to a status.
 *
 * @module
 */

/** Why an agent operation was refused. */
export type AgentErrorKind =
  /** No agent of that name in the `agents` config (HTTP 404). */
  | "unknown_agent"
  /** The call already has an agent (409). */
  | "already_bound"
  /** The call has no agent to detach (409). */
  | "not_bound"
  /** The call is not in progress (409). */
  | "call_not_live"
  /** The call's media could not be attached (409). */
  | "no_media"
  /** The agent could not be made: its module did not load, a secret is missing (409). */
  | "unavailable";

/**
 * A refused agent operation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { AgentError } from "./error.ts";
 * const error = new AgentError("unknown_agent", 'No agent "x" is configured');
 * assertEquals(error.kind, "unknown_agent");
 * ```
 */
export class AgentError extends Error {
  /** Why. */
  readonly kind: AgentErrorKind;

  /** Creates the error. */
  constructor(kind: AgentErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentError";
    this.kind = kind;
  }
}
