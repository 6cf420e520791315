/**
 * Options shared by every SDK client (`voice.calls`, `voice.clients`, `voice.agents`), in a
 * file of their own so the clients need not import each other.
 *
 * @module
 */

/** Options every mutating call takes. */
export interface MutationOptions {
  /** Sent as `Idempotency-Key` [a random UUID, so a retry of the same call object is safe]. */
  readonly idempotencyKey?: string;
}
