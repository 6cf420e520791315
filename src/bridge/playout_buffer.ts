/**
 * The receiving side's playout buffer: frames in by arrival, out in sequence order at the
 * reader's pace. It drops what has become too old instead of playing it late, marks gaps
 * for concealment, and holds at most `maxLatencyMs` of audio, so latency cannot grow
 * without bound however slow the reader is.
 *
 * Pure and clock-driven (no timers, no I/O): the caller asks {@linkcode PlayoutBuffer.next}
 * and, when nothing is due, waits for a push or for {@linkcode PlayoutBuffer.nextDueAt}.
 *
 * @module
 */

/**
 * One received frame as the playout buffer sees it.
 *
 * @example
 * ```ts
 * import type { PlayoutFrame } from "@clutchcall/voice/bridge";
 * const frame: PlayoutFrame = { seq: 0, timestamp: 1_700_000_000_000_000, payload: new Uint8Array(160) };
 * ```
 */
export interface PlayoutFrame {
  /** Position in the stream, one per frame (for voice tracks: group × 10 + object). */
  readonly seq: number;
  /** Capture time, µs since the Unix epoch (the sender's clock). */
  readonly timestamp: number;
  /** The encoded frame, untouched. */
  readonly payload: Uint8Array;
}

/**
 * What {@linkcode PlayoutBuffer.next} hands out: a frame to play, or a gap to conceal
 * (one missing frame, with the sequence number and capture time it would have had).
 *
 * @example
 * ```ts
 * import type { PlayoutItem } from "@clutchcall/voice/bridge";
 * function describe(item: PlayoutItem): string {
 *   return item.kind === "frame" ? `play ${item.frame.seq}` : `conceal ${item.seq}`;
 * }
 * ```
 */
export type PlayoutItem =
  | { readonly kind: "frame"; readonly frame: PlayoutFrame }
  | { readonly kind: "gap"; readonly seq: number; readonly timestamp: number };

/**
 * Counters of a playout buffer. `received = played + lateDropped + duplicates + buffered`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { PlayoutBuffer } from "@clutchcall/voice/bridge";
 * const buffer = new PlayoutBuffer({ frameMs: 20 });
 * assertEquals(buffer.stats.lateDropped, 0);
 * ```
 */
export interface PlayoutStats {
  /** Frames pushed. */
  readonly received: number;
  /** Frames handed out to play. */
  readonly played: number;
  /**
   * Frames thrown away for lateness: older than `maxLatencyMs` at playout, pushed out of a
   * full buffer, or arriving after their slot was played or concealed.
   */
  readonly lateDropped: number;
  /** Gaps handed out for concealment (one per missing frame). */
  readonly concealed: number;
  /** Missing frames skipped without concealment because their time had already passed. */
  readonly skipped: number;
  /** Frames pushed twice. */
  readonly duplicates: number;
}

/**
 * Options of a {@linkcode PlayoutBuffer}.
 *
 * @example
 * ```ts
 * import { PlayoutBuffer, type PlayoutBufferOptions } from "@clutchcall/voice/bridge";
 * let now = 0;
 * const options: PlayoutBufferOptions = { frameMs: 20, maxLatencyMs: 120, clock: () => now };
 * const buffer = new PlayoutBuffer(options);
 * ```
 */
export interface PlayoutBufferOptions {
  /** Duration of one frame in ms. */
  readonly frameMs: number;
  /** Oldest a frame may be when played, beyond the stream's base delay, in ms [200]. */
  readonly maxLatencyMs?: number;
  /** How long a gap waits for a late (reordered) frame before it is concealed, in ms [frameMs]. */
  readonly reorderMs?: number;
  /** Now, in µs since the Unix epoch [wall clock]. Tests pass a fake. */
  readonly clock?: () => number;
}

interface Entry extends PlayoutFrame {
  readonly arrival: number;
}

/** Arrivals over which the base delay (sender clock offset + path delay) is the minimum. */
const TRANSIT_WINDOW = 50;

function wallClockMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * A playout (jitter) buffer for one received track.
 *
 * A frame's age is `now − timestamp − baseDelay`, where the base delay is the smallest
 * `arrival − timestamp` over the last 50 arrivals: it absorbs the sender's clock offset and
 * the path's fixed delay, so only queueing and stalls count as lateness.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { PlayoutBuffer } from "@clutchcall/voice/bridge";
 * let now = 1_000_000;
 * const buffer = new PlayoutBuffer({ frameMs: 20, maxLatencyMs: 100, clock: () => now });
 * buffer.push({ seq: 0, timestamp: now, payload: new Uint8Array(1) });
 * buffer.push({ seq: 2, timestamp: now + 40_000, payload: new Uint8Array(1) });
 * assertEquals(buffer.next()?.kind, "frame"); // (seq 0)
 * now += 40_000;
 * assertEquals(buffer.next()?.kind, "gap"); // (seq 1, concealed)
 * assertEquals(buffer.next()?.kind, "frame"); // (seq 2)
 * now += 1_000_000; // the reader stalls for a second
 * buffer.push({ seq: 3, timestamp: now - 500_000, payload: new Uint8Array(1) });
 * assertEquals(buffer.next(), undefined); // seq 3 was too old to play
 * assertEquals(buffer.stats.lateDropped, 1);
 * ```
 */
export class PlayoutBuffer {
  readonly #frameUs: number;
  readonly #maxLatencyUs: number;
  readonly #reorderUs: number;
  readonly #capacity: number;
  readonly #clock: () => number;
  readonly #queue: Entry[] = [];
  readonly #transits: number[] = [];
  #transitAt = 0;
  #baseDelay = 0;
  #expected: number | undefined;
  #received = 0;
  #played = 0;
  #lateDropped = 0;
  #concealed = 0;
  #skipped = 0;
  #duplicates = 0;

  /**
   * Makes an empty buffer.
   *
   * @throws {RangeError} when `frameMs`, `maxLatencyMs` or `reorderMs` is not a positive
   * finite number (`reorderMs` may be 0), or `maxLatencyMs` is shorter than one frame.
   */
  constructor(
    { frameMs, maxLatencyMs = 200, reorderMs = frameMs, clock = wallClockMicros }:
      PlayoutBufferOptions,
  ) {
    if (!(Number.isFinite(frameMs) && frameMs > 0)) {
      throw new RangeError(`Invalid playout frame duration: ${frameMs} ms`);
    }
    if (!(Number.isFinite(maxLatencyMs) && maxLatencyMs >= frameMs)) {
      throw new RangeError(
        `Invalid playout latency bound: ${maxLatencyMs} ms (at least one frame, ${frameMs} ms)`,
      );
    }
    if (!(Number.isFinite(reorderMs) && reorderMs >= 0)) {
      throw new RangeError(`Invalid playout reorder window: ${reorderMs} ms`);
    }
    this.#frameUs = frameMs * 1000;
    this.#maxLatencyUs = maxLatencyMs * 1000;
    this.#reorderUs = reorderMs * 1000;
    this.#capacity = Math.max(1, Math.floor(maxLatencyMs / frameMs));
    this.#clock = clock;
  }

  /** Counters. */
  get stats(): PlayoutStats {
    return {
      received: this.#received,
      played: this.#played,
      lateDropped: this.#lateDropped,
      concealed: this.#concealed,
      skipped: this.#skipped,
      duplicates: this.#duplicates,
    };
  }

  /** Frames waiting to be played. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** The estimated base delay (sender clock offset + path delay), µs. */
  get baseDelayMicros(): number {
    return this.#baseDelay;
  }

  /**
   * Adds a received frame. Returns false when it was dropped at once: a duplicate, or a
   * frame whose slot has already been played, concealed or skipped. A full buffer drops its
   * oldest frame to make room.
   */
  push(frame: PlayoutFrame): boolean {
    const now = this.#clock();
    this.#received++;
    this.#noteTransit(now - frame.timestamp);
    const { seq } = frame;
    if (this.#expected !== undefined && seq < this.#expected) {
      this.#lateDropped++;
      return false;
    }
    const queue = this.#queue;
    let at = queue.length;
    while (at > 0 && queue[at - 1].seq > seq) at--;
    if (at > 0 && queue[at - 1].seq === seq) {
      this.#duplicates++;
      return false;
    }
    queue.splice(at, 0, { ...frame, arrival: now });
    while (queue.length > this.#capacity) this.#dropHead();
    return true;
  }

  /**
   * The next thing to play, or `undefined` when nothing is due yet (empty, or a gap still
   * waiting for a reordered frame: see {@linkcode nextDueAt}). Frames too old to play are
   * dropped on the way and not concealed: skipping them is what keeps latency bounded.
   */
  next(): PlayoutItem | undefined {
    const now = this.#clock();
    const queue = this.#queue;
    while (queue.length > 0) {
      const head = queue[0];
      if (this.#age(head.timestamp, now) > this.#maxLatencyUs) {
        this.#dropHead();
        continue;
      }
      const expected = this.#expected;
      if (expected === undefined || head.seq === expected) {
        queue.shift();
        this.#expected = head.seq + 1;
        this.#played++;
        return { kind: "frame", frame: head };
      }
      // A gap: expected … head.seq − 1 are missing.
      const missing = head.seq - expected;
      const firstTimestamp = head.timestamp - missing * this.#frameUs;
      const overdue = this.#age(firstTimestamp, now) - this.#maxLatencyUs;
      // Never conceal more than the latency bound in one run, nor frames already too old.
      const skip = Math.max(
        missing - this.#capacity,
        overdue > 0 ? Math.min(missing, Math.ceil(overdue / this.#frameUs)) : 0,
      );
      if (skip > 0) {
        this.#skipped += skip;
        this.#expected = expected + skip;
        continue;
      }
      if (now - head.arrival < this.#reorderUs) return undefined;
      this.#expected = expected + 1;
      this.#concealed++;
      return { kind: "gap", seq: expected, timestamp: firstTimestamp };
    }
    return undefined;
  }

  /**
   * When (µs, on the buffer's clock) a waiting gap becomes due for concealment, or
   * `undefined` when only a push can make {@linkcode next} return something.
   */
  nextDueAt(): number | undefined {
    const head = this.#queue[0];
    if (!head || this.#expected === undefined || head.seq === this.#expected) return undefined;
    return head.arrival + this.#reorderUs;
  }

  #dropHead(): void {
    const head = this.#queue.shift()!;
    this.#lateDropped++;
    if (this.#expected === undefined || head.seq >= this.#expected) this.#expected = head.seq + 1;
  }

  #age(timestamp: number, now: number): number {
    return now - timestamp - this.#baseDelay;
  }

  #noteTransit(transit: number): void {
    const transits = this.#transits;
    if (transits.length < TRANSIT_WINDOW) {
      transits.push(transit);
    } else {
      transits[this.#transitAt] = transit;
      this.#transitAt = (this.#transitAt + 1) % TRANSIT_WINDOW;
    }
    let min = Infinity;
    for (const t of transits) if (t < min) min = t;
    this.#baseDelay = min;
  }
}
