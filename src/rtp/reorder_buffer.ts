/**
 * A small reorder and de-duplication window over 16-bit RTP sequence numbers, with
 * wrap-around handled by extending them to a running 64-bit-safe count (RFC 3550 A.1).
 *
 * @module
 */

/**
 * Counters of a {@linkcode ReorderBuffer}.
 *
 * @example
 * ```ts
 * import type { ReorderStats } from "./reorder_buffer.ts";
 * const bad = (s: ReorderStats) => s.duplicates + s.late;
 * ```
 */
export interface ReorderStats {
  /** Packets seen twice (dropped). */
  readonly duplicates: number;
  /** Packets that arrived after their place had been given up (dropped). */
  readonly late: number;
  /** Packets that arrived after a higher sequence number (delivered in order). */
  readonly reordered: number;
  /** Sequence numbers skipped as lost. */
  readonly lost: number;
}

/** Jumps this large (either way) are a sender restart, not reordering. */
const MAX_JUMP = 3000;
const RING = 128;

/**
 * Puts packets back in sequence order. `push` delivers every packet that is now in order;
 * when more than `window` packets wait behind a gap, the gap is declared lost.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ReorderBuffer } from "./reorder_buffer.ts";
 * const out: string[] = [];
 * const buffer = new ReorderBuffer<string>(4);
 * for (const [seq, item] of [[1, "a"], [3, "c"], [2, "b"], [2, "b"]] as const) {
 *   buffer.push(seq, item, (x) => out.push(x));
 * }
 * assertEquals(out, ["a", "b", "c"]);
 * assertEquals(buffer.stats.duplicates, 1);
 * ```
 */
export class ReorderBuffer<T> {
  readonly #window: number;
  readonly #held = new Map<number, T>();
  readonly #seen = new Float64Array(RING).fill(-1);
  #next = -1;
  #highest = -1;
  #duplicates = 0;
  #late = 0;
  #reordered = 0;
  #lost = 0;

  /** Makes a buffer holding at most `window` packets behind a gap (0 = no reordering). */
  constructor(window: number) {
    this.#window = Math.max(0, Math.floor(window));
  }

  /** Counters. */
  get stats(): ReorderStats {
    return {
      duplicates: this.#duplicates,
      late: this.#late,
      reordered: this.#reordered,
      lost: this.#lost,
    };
  }

  /** Packets waiting behind a gap. */
  get held(): number {
    return this.#held.size;
  }

  /** The extended sequence number of the next packet to deliver, -1 before the first. */
  get next(): number {
    return this.#next;
  }

  /** Extends a 16-bit sequence number against the highest seen so far. */
  extend(seq: number): number {
    if (this.#highest < 0) return seq;
    const delta = ((seq - (this.#highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    return this.#highest + delta;
  }

  /** Adds a packet; calls `deliver` for each packet now in order (extended seq second). */
  push(seq: number, item: T, deliver: (item: T, extended: number) => void): void {
    let ext = this.extend(seq & 0xffff);
    if (this.#next < 0 || Math.abs(ext - this.#next) > MAX_JUMP || ext < 0) {
      // First packet, or the sender restarted its numbering: start over at this packet.
      this.flush(deliver);
      this.#seen.fill(-1);
      ext = this.#highest < 0 || ext < 0 ? seq & 0xffff : ext;
      this.#next = ext;
      this.#highest = ext;
    }
    const slot = ext % RING;
    if (this.#seen[slot] === ext) {
      this.#duplicates++;
      return;
    }
    if (ext < this.#next) {
      this.#late++;
      return;
    }
    this.#seen[slot] = ext;
    if (ext < this.#highest) this.#reordered++;
    else this.#highest = ext;
    if (ext === this.#next && this.#held.size === 0) {
      this.#next++;
      deliver(item, ext);
      return;
    }
    this.#held.set(ext, item);
    this.#drain(deliver);
    if (this.#held.size > this.#window) this.skipGap(deliver);
  }

  /** Gives up on the gap in front of the held packets and delivers what follows it. */
  skipGap(deliver: (item: T, extended: number) => void): void {
    if (this.#held.size === 0) return;
    let min = Infinity;
    for (const key of this.#held.keys()) if (key < min) min = key;
    this.#lost += min - this.#next;
    this.#next = min;
    this.#drain(deliver);
  }

  /** Delivers everything held, gaps skipped. */
  flush(deliver: (item: T, extended: number) => void): void {
    while (this.#held.size > 0) this.skipGap(deliver);
  }

  /** Forgets all state (a new stream). Held packets are dropped: flush first to keep them. */
  reset(): void {
    this.#held.clear();
    this.#seen.fill(-1);
    this.#next = -1;
    this.#highest = -1;
  }

  #drain(deliver: (item: T, extended: number) => void): void {
    for (;;) {
      const item = this.#held.get(this.#next);
      if (item === undefined) return;
      this.#held.delete(this.#next);
      deliver(item, this.#next++);
    }
  }
}
