/**
 * A server-wide budget of open incoming data streams, shared fairly by the sessions.
 *
 * Each open QUIC stream costs memory in the transport (~44 KB in Deno 2.9.6, measured for
 * issue 17) whether or not its peer ever sends a byte, so a relay bounds them twice: each
 * connection by its QUIC stream limit (see `listenMoq`), and the whole server by this
 * budget. Under the budget every stream is taken. Over it, a session holding its fair share
 * (`limit / sessions`) or more has new streams refused, while a session below its share
 * still gets them: one greedy peer cannot starve the others, and the total stays under
 * twice the budget. Draft-14 lets a receiver refuse a data stream with STOP_SENDING (the
 * objects on it are lost, the session lives on), which is what a refused stream gets.
 *
 * @module
 */

/**
 * Counts open incoming data streams per holder (a session) against a limit.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { StreamBudget } from "@clutchcall/voice/relay";
 *
 * const budget = new StreamBudget(4);
 * const greedy = {}, polite = {};
 * assert(budget.take(polite));
 * for (let i = 0; i < 3; i++) assert(budget.take(greedy));
 * assert(!budget.take(greedy), "over budget and at its fair share (2): refused");
 * assert(budget.take(polite), "below its fair share: still served");
 * assertEquals([budget.open, budget.refused], [5, 1]);
 * ```
 */
export class StreamBudget {
  /** Open streams the server aims to stay under. */
  readonly limit: number;
  readonly #held = new Map<object, number>();
  #open = 0;
  #refused = 0;

  /** Creates a budget of `limit` open streams (a positive integer). */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot create stream budget: ${limit} is not a positive integer`);
    }
    this.limit = limit;
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /** Streams refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Streams `holder` has open. */
  heldBy(holder: object): number {
    return this.#held.get(holder) ?? 0;
  }

  /**
   * Takes one stream for `holder`, or refuses it (false) when the budget is spent and
   * `holder` already has its fair share. Every stream taken is given back with
   * {@linkcode release}.
   */
  take(holder: object): boolean {
    const held = this.#held.get(holder) ?? 0;
    if (this.#open >= this.limit) {
      const holders = this.#held.size + (held === 0 ? 1 : 0);
      if (held >= Math.max(1, Math.floor(this.limit / holders))) {
        this.#refused++;
        return false;
      }
    }
    this.#held.set(holder, held + 1);
    this.#open++;
    return true;
  }

  /** Gives back a stream `holder` took. */
  release(holder: object): void {
    const held = this.#held.get(holder);
    if (!held) return;
    if (held === 1) this.#held.delete(holder);
    else this.#held.set(holder, held - 1);
    this.#open--;
  }
}
