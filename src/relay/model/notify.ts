/**
 * A wake-up primitive for the model's producer/consumer handles: consumers wait, a producer
 * wakes them all. One promise per waiting round, not per consumer.
 *
 * @module
 */

/**
 * Wakes every waiter at once.
 *
 * @example
 * ```ts
 * import { Notify } from "./notify.ts";
 * const n = new Notify();
 * const woken = n.wait();
 * n.notify();
 * await woken;
 * ```
 */
export class Notify {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** Resolves at the next {@linkcode Notify.notify}. */
  wait(): Promise<void> {
    if (!this.#promise) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#promise = promise;
      this.#resolve = resolve;
    }
    return this.#promise;
  }

  /** Wakes every current waiter. */
  notify(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
