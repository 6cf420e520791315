/**
 * The wait between retries of the calls' background work (store retries, status callbacks):
 * resolves after the delay, or at once when the work is being closed.
 *
 * @module
 */

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects: a retry loop checks
 * the signal itself). The timer and the listener are removed either way.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { backoffWait } from "./backoff_wait.ts";
 * const closing = new AbortController();
 * const waited = backoffWait(60_000, closing.signal);
 * closing.abort();
 * assertEquals(await waited, undefined); // at once, not after a minute
 * ```
 */
export function backoffWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
