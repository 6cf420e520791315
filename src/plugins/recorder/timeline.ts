/**
 * The recorder's timeline: mono channels written at absolute sample positions (capture
 * time × rate), taken out as interleaved frames in order. Whatever no channel wrote is
 * silence; whatever arrives for a position already taken is dropped and counted.
 *
 * @module
 */

class Channel {
  start: number | undefined;
  data = new Int16Array(0);
  length = 0;
  late = 0;

  get head(): number | undefined {
    return this.start === undefined ? undefined : this.start + this.length;
  }
}

/**
 * Multichannel audio placed by absolute sample position.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Timeline } from "./timeline.ts";
 * const timeline = new Timeline(2);
 * timeline.write(0, 1000, new Int16Array([1, 2])); // left at positions 1000, 1001
 * timeline.write(1, 1001, new Int16Array([3])); // right at 1001
 * assertEquals(timeline.take(1002), Int16Array.of(1, 0, 2, 3));
 * ```
 */
export class Timeline {
  /** Channel count. */
  readonly channels: number;
  /** Most samples one channel may hold before it is taken (bounds memory). */
  readonly maxBufferedSamples: number;
  readonly #channels: Channel[];
  #taken: number | undefined;

  /** Creates a timeline; `maxBufferedSamples` defaults to 10 minutes at 48 kHz. */
  constructor(channels: number, maxBufferedSamples = 48000 * 600) {
    this.channels = channels;
    this.maxBufferedSamples = maxBufferedSamples;
    this.#channels = Array.from({ length: channels }, () => new Channel());
  }

  /** Absolute position where the timeline starts, once something was taken. */
  get origin(): number | undefined {
    return this.#origin;
  }
  #origin: number | undefined;

  /** Absolute position up to which samples were taken. */
  get taken(): number | undefined {
    return this.#taken;
  }

  /** The furthest position any channel wrote, or undefined before any write. */
  get head(): number | undefined {
    let head: number | undefined;
    for (const c of this.#channels) {
      const h = c.head;
      if (h !== undefined && (head === undefined || h > head)) head = h;
    }
    return head;
  }

  /** Samples dropped because they came for positions already taken, per channel. */
  late(channel: number): number {
    return this.#channels[channel].late;
  }

  /**
   * Writes `samples` of `channel` from absolute `position` on (overwriting). Returns
   * false, writing nothing, when that would buffer more than `maxBufferedSamples`.
   */
  write(channel: number, position: number, samples: Int16Array): boolean {
    const c = this.#channels[channel];
    if (!c) throw new RangeError(`Invalid channel: ${channel}`);
    if (this.#taken !== undefined && position < this.#taken) {
      const cut = Math.min(samples.length, this.#taken - position);
      c.late += cut;
      samples = samples.subarray(cut);
      position += cut;
    }
    if (samples.length === 0) return true;
    if (c.start === undefined) {
      c.start = this.#taken ?? position;
      c.length = 0;
    }
    const start = Math.min(c.start, position);
    const end = Math.max(c.start + c.length, position + samples.length);
    if (end - start > this.maxBufferedSamples) return false;
    if (start < c.start || end - start > c.data.length) {
      const data = new Int16Array(Math.max(end - start, Math.ceil(c.data.length * 1.5)));
      data.set(c.data.subarray(0, c.length), c.start - start);
      c.data = data;
      c.start = start;
    }
    c.data.set(samples, position - c.start);
    c.length = end - c.start;
    return true;
  }

  /**
   * Takes everything before absolute position `end`, interleaved; silence where no
   * channel wrote. The first take starts at the earliest position any channel wrote.
   */
  take(end: number): Int16Array {
    if (this.#taken === undefined) {
      const starts = this.#channels.map((c) => c.start).filter((s) => s !== undefined);
      if (starts.length === 0) return new Int16Array(0);
      this.#origin = this.#taken = Math.min(...starts);
    }
    const from = this.#taken;
    if (end <= from) return new Int16Array(0);
    const n = end - from;
    const out = new Int16Array(n * this.channels);
    this.#channels.forEach((c, ch) => {
      if (c.start === undefined) return;
      const lo = Math.max(from, c.start);
      const hi = Math.min(end, c.start + c.length);
      for (let i = lo; i < hi; i++) out[(i - from) * this.channels + ch] = c.data[i - c.start];
      if (end >= c.start + c.length) {
        c.start = end;
        c.length = 0;
      } else if (end > c.start) {
        c.data.copyWithin(0, end - c.start, c.length);
        c.length -= end - c.start;
        c.start = end;
      }
    });
    this.#taken = end;
    return out;
  }
}
