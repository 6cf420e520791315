/**
 * {@linkcode CaptureClock}: the capture time of each encoded frame, from the timestamps of the
 * microphone chunks that went into it.
 *
 * Chromium's WebCodecs `AudioEncoder` stamps its output by counting samples from the first
 * input after `configure()`: a gap in the input (chunks the browser dropped while the page or
 * the machine was busy) is not seen, so from then on every output timestamp is early by the
 * audio that went missing. Under load that drift grows by seconds in a call, and the far end,
 * which drops frames delayed past its bound by capture time, drops every frame as late and
 * plays nothing. This clock remembers where each input chunk starts on both clocks — the
 * encoder's sample count and the chunk's own capture timestamp — and maps an output back
 * onto the capture timestamps, so a gap in the input stays a gap in the capture times.
 *
 * @module
 */

/** An input chunk: where it starts on the encoder's sample clock and on the capture clock. */
interface Mark {
  readonly encoderUs: number;
  readonly captureUs: number;
}

// Timestamps are whole microseconds on the encoder's side; allow for rounding there.
const ROUNDING_US = 1;

/**
 * Maps encoder output timestamps onto input capture timestamps.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CaptureClock } from "./capture_clock.ts";
 * const clock = new CaptureClock();
 * clock.reset(48_000);
 * clock.input(0, 480); // 10 ms at 0
 * clock.input(10_000, 480); // 10 ms at 10 ms
 * clock.input(520_000, 480); // the browser dropped 500 ms before this one
 * // The encoder counted samples: it stamps the third chunk's audio at 20 ms.
 * assertEquals(clock.output(0), 0);
 * assertEquals(clock.output(20_000), 520_000);
 * ```
 */
export class CaptureClock {
  #rate = 0;
  #baseUs: number | undefined;
  #fed = 0;
  #marks: Mark[] = [];
  #head = 0;

  /** Starts over at `sampleRate` (the encoder was configured: its sample count restarts). */
  reset(sampleRate: number): void {
    this.#rate = sampleRate;
    this.#baseUs = undefined;
    this.#fed = 0;
    this.#marks = [];
    this.#head = 0;
  }

  /** A chunk of `frames` samples captured at `captureUs` is about to be encoded. */
  input(captureUs: number, frames: number): void {
    if (this.#rate <= 0) {
      throw new RangeError("Cannot map capture times: reset() with a rate first");
    }
    this.#baseUs ??= captureUs;
    this.#marks.push({ encoderUs: this.#baseUs + this.#fed * 1e6 / this.#rate, captureUs });
    this.#fed += frames;
  }

  /**
   * The capture time of the output whose timestamp (on the encoder's sample clock) is
   * `encoderUs`. Outputs come in order, so chunks before the one it starts in are forgotten.
   */
  output(encoderUs: number): number {
    const marks = this.#marks;
    if (this.#head >= marks.length) return encoderUs;
    while (
      this.#head + 1 < marks.length && marks[this.#head + 1].encoderUs <= encoderUs + ROUNDING_US
    ) this.#head++;
    if (this.#head > 1024) {
      marks.splice(0, this.#head);
      this.#head = 0;
    }
    const mark = marks[this.#head];
    return mark.captureUs + (encoderUs - mark.encoderUs);
  }

  /** Input chunks remembered (not yet passed by an output). */
  get pending(): number {
    return this.#marks.length - this.#head;
  }
}
