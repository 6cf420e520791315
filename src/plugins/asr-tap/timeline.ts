/**
 * Where each ms of a recognizer stream sits on the call's timeline. A recognizer times its
 * results from the start of the audio sent on its connection; the tap leaves silence out,
 * reconnects (a new connection starts at 0 again) and the track may have gaps, so stream
 * time and call time drift apart. Each discontinuity starts a segment; a stream time maps
 * through the segment it falls in.
 *
 * @module
 */

/** At most this many segments per connection: older ones merge into the first kept. */
const MAX_SEGMENTS = 4096;

interface Segment {
  /** Stream ms where the segment starts. */
  readonly stream: number;
  /** Call ms of that point. */
  readonly call: number;
}

/**
 * The stream → call mapping of one recognizer connection.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { StreamTimeline } from "./timeline.ts";
 * const t = new StreamTimeline();
 * t.sent(1500, 1000); // call 1.5–2.5 s is stream 0–1 s
 * t.sent(8000, 500); // silence left out: call 8.0 s is stream 1.0 s
 * assertEquals([t.toCall(500), t.toCall(1200)], [2000, 8200]);
 * ```
 */
export class StreamTimeline {
  readonly #segments: Segment[] = [];
  #streamMs = 0;
  #nextCallMs: number | undefined;

  /** Audio sent on the connection so far, in ms. */
  get streamMs(): number {
    return this.#streamMs;
  }

  /** Records that `durationMs` of audio starting at call time `callMs` was sent. */
  sent(callMs: number, durationMs: number): void {
    if (this.#nextCallMs === undefined || Math.abs(callMs - this.#nextCallMs) > 1) {
      this.#segments.push({ stream: this.#streamMs, call: callMs });
      if (this.#segments.length > MAX_SEGMENTS) this.#segments.splice(1, 1);
    }
    this.#streamMs += durationMs;
    this.#nextCallMs = callMs + durationMs;
  }

  /** The call time (ms, rounded) of stream time `streamMs`. */
  toCall(streamMs: number): number {
    const segments = this.#segments;
    if (segments.length === 0) return Math.round(streamMs);
    let lo = 0, hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].stream <= streamMs) lo = mid;
      else hi = mid - 1;
    }
    const segment = segments[lo];
    return Math.max(0, Math.round(segment.call + streamMs - segment.stream));
  }
}
