/**
 * Cuts a stream of PCM16 chunks of any size into fixed-duration frames.
 *
 * @module
 */

/**
 * Frame durations a {@linkcode Framer} accepts, in milliseconds.
 *
 * @example
 * ```ts
 * import type { FrameMs } from "@clutchcall/voice/codecs";
 * const ptime: FrameMs = 20;
 * ```
 */
export type FrameMs = 10 | 20 | 40 | 60;

/**
 * The frame durations a {@linkcode Framer} accepts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FRAME_DURATIONS_MS } from "@clutchcall/voice/codecs";
 * assertEquals(FRAME_DURATIONS_MS.includes(30 as never), false);
 * ```
 */
export const FRAME_DURATIONS_MS: readonly FrameMs[] = [10, 20, 40, 60];

/**
 * Options of {@linkcode createFramer}.
 *
 * @example
 * ```ts
 * import { createFramer, type FramerOptions } from "@clutchcall/voice/codecs";
 * const options: FramerOptions = { sampleRate: 48000, channels: 2, frameMs: 10 };
 * const framer = createFramer(options);
 * ```
 */
export interface FramerOptions {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Channel count of the interleaved input (default 1). */
  readonly channels?: number;
  /** Frame duration (10, 20, 40 or 60 ms). */
  readonly frameMs: FrameMs;
}

/**
 * Buffers PCM16 chunks and hands out whole frames.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createFramer, type Framer } from "@clutchcall/voice/codecs";
 * const framer: Framer = createFramer({ sampleRate: 16000, frameMs: 20 });
 * assertEquals(framer.frameSamples, 320);
 * ```
 */
export interface Framer {
  /** Interleaved samples per frame (`sampleRate × frameMs / 1000 × channels`). */
  readonly frameSamples: number;
  /** Samples held back, not yet a whole frame. */
  readonly pending: number;
  /** Appends a chunk; returns every frame it completes (fresh arrays, possibly none). */
  push(chunk: Int16Array): Int16Array[];
  /**
   * Returns what is held back as one last frame padded with silence, or `undefined` when
   * nothing is pending, and empties the buffer.
   */
  flush(): Int16Array | undefined;
}

/**
 * Makes a framer.
 *
 * @throws {RangeError} on a frame duration other than 10/20/40/60 ms, or a rate that does
 * not give a whole number of samples per frame.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createFramer } from "@clutchcall/voice/codecs";
 * const framer = createFramer({ sampleRate: 8000, frameMs: 20 });
 * assertEquals(framer.push(new Int16Array(100)).length, 0);
 * assertEquals(framer.push(new Int16Array(300)).length, 2); // 400 = 2 × 160 + 80
 * assertEquals(framer.flush()?.length, 160);
 * ```
 */
export function createFramer({ sampleRate, channels = 1, frameMs }: FramerOptions): Framer {
  if (!FRAME_DURATIONS_MS.includes(frameMs)) {
    throw new RangeError(`Invalid frame duration: ${frameMs} ms (use 10, 20, 40 or 60)`);
  }
  const perChannel = sampleRate * frameMs / 1000;
  if (!Number.isInteger(perChannel) || perChannel < 1) {
    throw new RangeError(`Invalid sample rate for ${frameMs} ms frames: ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`Invalid channel count: ${channels}`);
  }
  const frameSamples = perChannel * channels;
  const partial = new Int16Array(frameSamples);
  let filled = 0;

  return {
    frameSamples,
    get pending() {
      return filled;
    },
    push(chunk) {
      const frames: Int16Array[] = [];
      let at = 0;
      if (filled > 0) {
        const take = Math.min(frameSamples - filled, chunk.length);
        partial.set(chunk.subarray(0, take), filled);
        filled += take;
        at = take;
        if (filled < frameSamples) return frames;
        frames.push(partial.slice());
        filled = 0;
      }
      for (; at + frameSamples <= chunk.length; at += frameSamples) {
        frames.push(chunk.slice(at, at + frameSamples));
      }
      partial.set(chunk.subarray(at), 0);
      filled = chunk.length - at;
      return frames;
    },
    flush() {
      if (filled === 0) return undefined;
      const frame = new Int16Array(frameSamples);
      frame.set(partial.subarray(0, filled));
      filled = 0;
      return frame;
    },
  };
}
