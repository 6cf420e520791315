/**
 * One clock for every call's paced sends: callbacks scheduled at a `performance.now()` time,
 * all run from a single timer instead of one `setTimeout` each.
 *
 * Why: each downlink plays a frame every 20 ms, so 1,900 live calls (200 calls/s of ~9.5 s)
 * were 95,000 `setTimeout`s a second, each a timer op and a separate callback into JS. Here the
 * due callbacks sit in a binary min-heap and one timer, armed for the earliest, runs every
 * callback due within {@linkcode PACER_SLACK_MS} of it — at most one wake-up per millisecond
 * however many calls are up, and the same pacing (a timer's own resolution is 1 ms).
 *
 * A pacer with nothing scheduled holds no timer (an idle process, or a test, has no pending
 * op).
 *
 * @module
 */

/** Callbacks due up to this long after a wake-up run in it, ms. */
export const PACER_SLACK_MS = 1;

/** A scheduled callback; `cancel()` drops it (twice, or after it ran, is a no-op). */
export interface PacerEntry {
  cancel(): void;
}

interface Entry extends PacerEntry {
  at: number;
  run: (() => void) | undefined;
}

/**
 * Runs callbacks at given times from one timer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Pacer } from "./pacer.ts";
 * const pacer = new Pacer();
 * const ran: string[] = [];
 * const { promise, resolve } = Promise.withResolvers<void>();
 * pacer.schedule(performance.now() + 5, () => ran.push("later"));
 * pacer.schedule(performance.now(), () => ran.push("now"));
 * pacer.schedule(performance.now() + 10, () => resolve()).cancel();
 * pacer.schedule(performance.now() + 10, resolve);
 * await promise;
 * assertEquals(ran, ["now", "later"]);
 * assertEquals(pacer.size, 0);
 * ```
 */
export class Pacer {
  readonly #heap: Entry[] = [];
  /** Entries scheduled and neither run nor cancelled. */
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  #armedAt = Number.POSITIVE_INFINITY;
  /** In a wake-up: it arms the timer itself once its callbacks ran. */
  #running = false;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Callbacks waiting. */
  get size(): number {
    return this.#live;
  }

  /**
   * Runs `run` once at `at` (`performance.now()` time; a time already past runs at the next
   * wake-up). A callback that throws is reported to the global error handler (as a timer's
   * would be) after the others due with it ran.
   */
  schedule(at: number, run: () => void): PacerEntry {
    const entry: Entry = {
      at,
      run,
      cancel: () => {
        if (!entry.run) return;
        entry.run = undefined;
        if (--this.#live === 0) this.#idle();
      },
    };
    this.#push(entry);
    this.#live++;
    if (!this.#running && at < this.#armedAt - PACER_SLACK_MS) this.#arm(at);
    return entry;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(this.#wake, Math.max(0, at - this.#now()));
  }

  /** Nothing left to run: drop the cancelled entries and the timer. */
  #idle(): void {
    this.#heap.length = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  readonly #wake = (): void => {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const until = this.#now() + PACER_SLACK_MS;
    const heap = this.#heap;
    let failure: { error: unknown } | undefined;
    this.#running = true;
    while (heap.length > 0 && heap[0].at <= until) {
      const entry = this.#pop();
      const run = entry.run;
      if (!run) continue;
      entry.run = undefined;
      this.#live--;
      try {
        run();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#running = false;
    // Drop cancelled entries at the top so the timer is armed for a live one.
    while (heap.length > 0 && !heap[0].run) this.#pop();
    if (heap.length > 0) this.#arm(heap[0].at);
    else this.#idle();
    if (failure) {
      queueMicrotask(() => {
        throw failure.error;
      });
    }
  };

  #push(entry: Entry): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && heap[right].at < heap[left].at ? right : left;
        if (heap[child].at >= last.at) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

let shared: Pacer | undefined;

/** The process's pacer (one per isolate: every RTP leg of this thread shares it). */
export function sharedPacer(): Pacer {
  return shared ??= new Pacer();
}
