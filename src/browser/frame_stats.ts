/**
 * Receive statistics of one audio track, from each frame's capture time (the object
 * extension the publisher writes) and its arrival time: RFC 3550-style interarrival jitter,
 * frames lost (gaps in capture time), frames late (older than what was already played, or
 * delayed past the bound), and the transit delay above the fastest frame seen. When frames stay
 * delayed past the bound for longer than the bound, the path's delay has stepped up: it is
 * taken as the new base rather than dropping every frame until the window forgets the old one.
 *
 * Sender and receiver clocks need not agree: only differences of transit times are used,
 * except {@linkcode FrameStats.transitMs}, which is meaningful when they do (one machine).
 *
 * @module
 */

/** A snapshot of {@linkcode FrameStats}. */
export interface ReceiveStats {
  /** Frames that arrived. */
  readonly received: number;
  /** Frames missing (a gap in capture times). */
  readonly lost: number;
  /** Frames dropped for arriving too late. */
  readonly late: number;
  /** Interarrival jitter, ms (RFC 3550 §6.4.1 estimator, on capture times). */
  readonly jitterMs: number;
  /** The last frame's arrival minus capture time, ms (sender clock = receiver clock). */
  readonly transitMs: number;
  /** Median arrival minus capture time over the last 500 frames, ms. */
  readonly transitP50Ms: number;
  /** 95th percentile of the same, ms. */
  readonly transitP95Ms: number;
}

/** What {@linkcode FrameStats.accept} decided about a frame. */
export type FrameVerdict = "play" | "late";

const WINDOW_US = 5_000_000;
const RECENT = 500;

/**
 * Tracks frames of one track and decides which are too late to play.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FrameStats } from "@clutchcall/voice/browser";
 * const stats = new FrameStats({ frameMs: 20, maxDelayMs: 200 });
 * assertEquals(stats.accept(1_000_000, 1_030_000), "play");
 * // One 20 ms frame lost between them.
 * assertEquals(stats.accept(1_040_000, 1_070_000), "play");
 * assertEquals(stats.snapshot().lost, 1);
 * ```
 */
export class FrameStats {
  readonly #frameUs: number;
  readonly #maxDelayUs: number;
  #received = 0;
  #lost = 0;
  #late = 0;
  #jitterUs = 0;
  #lastTransit: number | undefined;
  #lastCapture: number | undefined;
  // Windowed minimum transit: the fastest path seen recently.
  #minTransit = Infinity;
  #windowMin = Infinity;
  #windowStart = 0;
  // Frames in a row delayed past the bound (a path that became slower, not a burst).
  #lateRun = 0;
  readonly #recent = new Float64Array(RECENT);
  #recentCount = 0;

  /** `frameMs`: the frame duration; `maxDelayMs`: delay above the fastest frame tolerated. */
  constructor({ frameMs = 20, maxDelayMs = 200 }: { frameMs?: number; maxDelayMs?: number } = {}) {
    this.#frameUs = frameMs * 1000;
    this.#maxDelayUs = maxDelayMs * 1000;
  }

  /** Records a frame captured at `captureUs` that arrived at `arrivalUs` (both epoch µs). */
  accept(captureUs: number, arrivalUs: number): FrameVerdict {
    this.#received++;
    const transit = arrivalUs - captureUs;
    if (this.#lastTransit !== undefined) {
      const d = Math.abs(transit - this.#lastTransit);
      this.#jitterUs += (d - this.#jitterUs) / 16;
    }
    this.#lastTransit = transit;
    this.#recent[this.#recentCount++ % RECENT] = transit;
    if (arrivalUs - this.#windowStart > WINDOW_US) {
      this.#minTransit = Math.min(this.#windowMin, transit);
      this.#windowMin = transit;
      this.#windowStart = arrivalUs;
    }
    this.#windowMin = Math.min(this.#windowMin, transit);
    this.#minTransit = Math.min(this.#minTransit, transit);
    const last = this.#lastCapture;
    if (last !== undefined && captureUs <= last) {
      // Behind what was already played (a stale group's tail): playing it would go back in time.
      this.#late++;
      return "late";
    }
    if (transit - this.#minTransit > this.#maxDelayUs) {
      // Late frames for longer than the bound itself mean the path's delay stepped up (a
      // network change, a new route), not a burst: the fastest recent frame no longer says
      // what this path can do. Take the delay as it is now instead of dropping everything
      // until the window forgets the old path (5-10 s of silence).
      if (++this.#lateRun * this.#frameUs <= this.#maxDelayUs) {
        this.#late++;
        this.#lastCapture = captureUs;
        return "late";
      }
      this.#minTransit = this.#windowMin = transit;
      this.#windowStart = arrivalUs;
    }
    this.#lateRun = 0;
    if (last !== undefined) {
      const missing = Math.round((captureUs - last) / this.#frameUs) - 1;
      if (missing > 0) this.#lost += missing;
    }
    this.#lastCapture = captureUs;
    return "play";
  }

  /** The counters now. */
  snapshot(): ReceiveStats {
    const recent = this.#recent.slice(0, Math.min(this.#recentCount, RECENT)).sort();
    const at = (q: number) =>
      recent.length ? recent[Math.min(recent.length - 1, Math.floor(q * recent.length))] : 0;
    return {
      transitP50Ms: at(0.5) / 1000,
      transitP95Ms: at(0.95) / 1000,
      received: this.#received,
      lost: this.#lost,
      late: this.#late,
      jitterMs: this.#jitterUs / 1000,
      transitMs: (this.#lastTransit ?? 0) / 1000,
    };
  }
}
