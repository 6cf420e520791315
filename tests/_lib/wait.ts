/**
 * Waiting in tests: on a signal where one exists, and named for what it is where none does.
 *
 * - {@linkcode waitFor} polls state that has no event of its own (a counter, a table) and fails
 *   with what it waited for once its bound passes: only a state that never comes fails.
 * - {@linkcode Progress} is a count a reader advances and a writer awaits, so a writer can pace
 *   itself on delivery instead of on a clock.
 * - {@linkcode quietPeriod} and {@linkcode pace} are the only timed waits left: a window in which
 *   something must *not* happen, and the real-time pace of a stream whose behaviour under test
 *   depends on time. Neither is a wait for a result.
 *
 * @module
 */

/**
 * Resolves once `check()` holds, re-checking every `intervalMs`; rejects with
 * `Timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor(
  what: string,
  check: () => boolean,
  { timeoutMs = 10_000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out waiting for ${what} (${timeoutMs} ms)`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A count that readers advance and writers await (e.g. frames delivered so far). */
export class Progress {
  #count = 0;
  #waiters: { target: number; resolve: () => void }[] = [];

  /** How far it got. */
  get count(): number {
    return this.#count;
  }

  /** Advances by `n` and wakes the waiters whose target is reached. */
  add(n = 1): void {
    this.#count += n;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#count < w.target) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once the count reaches `target`; rejects naming `what` after `timeoutMs`. */
  reached(target: number, what: string, timeoutMs = 10_000): Promise<void> {
    if (this.#count >= target) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () =>
        reject(
          new Error(`Timed out waiting for ${what}: ${this.#count} of ${target} (${timeoutMs} ms)`),
        ),
      timeoutMs,
    );
    this.#waiters.push({
      target,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    return promise;
  }
}

/**
 * Waits `ms` so that something that must NOT happen (a second event, a stray frame, a session
 * closing) has had the chance to. A lower bound with no signal to wait on: callers say in a
 * comment what is being ruled out. Never use it to wait for a result.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits `ms` between the packets or chunks of a stream sent at its real-time pace, where the
 * behaviour under test depends on time (a latch that expires after silence, a pacer). Not a
 * wait for a result.
 */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * State that changes on events (a list a callback appends to, connections a server accepts),
 * awaited without polling: the writer calls {@linkcode Changes.notify} after each change and
 * {@linkcode Changes.until} re-checks then.
 */
export class Changes {
  readonly #waiters = new Set<() => void>();

  /** Wakes every waiter to check again. */
  notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Resolves once `check()` holds (checked now and on each notify); rejects with
   * `Gave up waiting for <what>` (and `context()`, e.g. what was seen) after `timeoutMs`.
   */
  until(
    what: string,
    check: () => boolean,
    { timeoutMs = 60_000, context }: { timeoutMs?: number; context?: () => string } = {},
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => {
        this.#waiters.delete(test);
        reject(new Error(`Gave up waiting for ${what}${context ? `: ${context()}` : ""}`));
      }, timeoutMs);
      const test = () => {
        if (!check()) return;
        this.#waiters.delete(test);
        clearTimeout(guard);
        resolve();
      };
      this.#waiters.add(test);
      test();
    });
  }
}
