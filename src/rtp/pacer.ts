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

/** What a cancel tells its pacer (set in `Pacer`'s static block, which sees its fields). */
let cancelledIn: (pacer: Pacer) => void;

/**
 * One scheduled callback. A class, not an object with a `cancel` closure: every downlink
 * frame of every call is one schedule, so an entry is one small allocation — or none, when
 * the caller hands its last (already run) entry back to `schedule`.
 */
class Entry implements PacerEntry {
  at = 0;
  run: ((now: number) => void) | undefined = undefined;
  /** In the heap (possibly cancelled): it cannot be reused until popped. */
  queued = false;
  constructor(readonly pacer: Pacer) {}
  cancel(): void {
    if (!this.run) return;
    this.run = undefined;
    cancelledIn(this.pacer);
  }
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
 * pacer.schedule(performance.now() + 10, () => resolve());
 * await promise;
 * assertEquals(ran, ["now", "later"]);
 * assertEquals(pacer.size, 0);
 * ```
 */
export class Pacer {
  static {
    cancelledIn = (pacer) => {
      if (--pacer.#live === 0) pacer.#idle();
    };
  }
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
   * wake-up), passing it the wake-up's clock reading (so a callback needs no clock call of
   * its own). A callback that throws is reported to the global error handler (as a timer's
   * would be) after the others due with it ran.
   *
   * `reuse`: an entry this pacer returned before and that has run since (e.g. the caller's
   * previous tick, rescheduling itself from inside it) is filled in again instead of a new
   * one made; any other (still waiting, cancelled and not yet dropped, another pacer's) is
   * ignored.
   */
  schedule(at: number, run: (now: number) => void, reuse?: PacerEntry): PacerEntry {
    const entry = reuse instanceof Entry && reuse.pacer === this && !reuse.queued && !reuse.run
      ? reuse
      : new Entry(this);
    entry.at = at;
    entry.run = run;
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
    for (const entry of this.#heap) entry.queued = false;
    this.#heap.length = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  readonly #wake = (): void => {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    const until = now + PACER_SLACK_MS;
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
        run(now);
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
    entry.queued = true;
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
    top.queued = false;
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
