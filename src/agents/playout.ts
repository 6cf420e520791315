/**
 * The agent's downlink playout: a queue of the agent's audio (and marks between it) paced
 * out one frame per frame duration on the call's downlink, with silence when idle.
 *
 * "Played" means written to the downlink at its real-time slot: a mark fires once the frame
 * holding the last sample queued before it has had its full duration (the slot after it);
 * `clear()` drops the queue at once and fades the next few milliseconds to zero so the cut
 * does not click; `duck()` lowers the gain while the caller may be barging in.
 *
 * The clock is deadline based (slot n is due at `start + n × frameMs`) so timer jitter
 * does not accumulate; a tick that comes late writes the frames that are due, and one more
 * than {@linkcode MAX_CATCH_UP_FRAMES} behind skips ahead rather than flooding the caller.
 *
 * @module
 */

/** Frames written at once when the timer was late before the clock skips ahead. */
export const MAX_CATCH_UP_FRAMES = 5;

/** Options of a {@linkcode Playout}. */
export interface PlayoutOptions {
  /** Sample rate of the queued PCM. */
  readonly sampleRate: number;
  /** Frame duration, ms [20]. */
  readonly frameMs?: number;
  /** Writes one frame at its slot; `timestamp` is the slot's time in µs since the epoch. */
  readonly sink: (pcm: Int16Array, timestamp: number) => void;
  /** A mark was played (or dropped by `clear()`: `cleared` is then true). */
  readonly onMark?: (name: string, cleared: boolean) => void;
  /** Fade length on `clear()`, ms [10]. */
  readonly fadeMs?: number;
  /** Most audio that may be queued, ms [300000]; more is dropped and counted. */
  readonly maxQueuedMs?: number;
  /** Most marks that may be pending [10000]; `mark()` returns false beyond. */
  readonly maxMarks?: number;
}

/** What {@linkcode Playout.clear} dropped. */
export interface ClearResult {
  /** Queued audio dropped, ms. */
  readonly droppedMs: number;
  /** Marks that were pending (echoed as cleared). */
  readonly marks: number;
  /** The item that was playing and how much of it had been played, ms. */
  readonly item?: { readonly id: string; readonly playedMs: number };
}

/** Counters of a {@linkcode Playout}. */
export interface PlayoutCounters {
  /** Frames written (audio or silence). */
  readonly frames: number;
  /** Frames that carried agent audio. */
  readonly audioFrames: number;
  /** Samples dropped because the queue was full. */
  readonly overflowSamples: number;
  /** Times the clock skipped ahead after falling behind. */
  readonly skips: number;
  /** Audio queued now, ms. */
  readonly queuedMs: number;
}

type Entry =
  | { kind: "audio"; pcm: Int16Array; offset: number; item: string | undefined }
  | { kind: "mark"; name: string };

/**
 * A paced downlink queue.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Playout } from "./playout.ts";
 * const frames: Int16Array[] = [];
 * await using playout = new Playout({ sampleRate: 8000, sink: (pcm) => frames.push(pcm) });
 * playout.enqueue(new Int16Array(160).fill(1000));
 * const played = Promise.withResolvers<void>();
 * playout.mark("end", () => played.resolve());
 * playout.start();
 * await played.promise;
 * assertEquals(frames[0][0], 1000);
 * ```
 */
export class Playout implements AsyncDisposable {
  readonly #sampleRate: number;
  readonly #frameMs: number;
  readonly #frameSamples: number;
  readonly #sink: PlayoutOptions["sink"];
  readonly #onMark: PlayoutOptions["onMark"];
  readonly #fadeSamples: number;
  readonly #maxQueued: number;
  readonly #maxMarks: number;
  readonly #queue: Entry[] = [];
  #head = 0;
  #queuedSamples = 0;
  #marks = 0;
  readonly #markCallbacks = new Map<string, Array<(cleared: boolean) => void>>();
  /** Marks whose audio was fully written in the last frame: they fire at the next slot. */
  #due: string[] = [];
  /** Faded samples left over by `clear()`, played before anything else. */
  #tail: Int16Array | undefined;
  #gain = 1;
  #appliedGain = 1;
  #item: { id: string; played: number } | undefined;
  readonly #itemsPlayed = new Map<string, number>();
  #start = 0;
  #slot = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #closed = false;
  #paused = false;
  #frames = 0;
  #audioFrames = 0;
  #overflow = 0;
  #skips = 0;

  /** Creates a stopped playout; {@linkcode start} begins the clock. */
  constructor(options: PlayoutOptions) {
    const { sampleRate, frameMs = 20, fadeMs = 10, maxQueuedMs = 300_000, maxMarks = 10_000 } =
      options;
    this.#sampleRate = sampleRate;
    this.#frameMs = frameMs;
    this.#frameSamples = (sampleRate * frameMs) / 1000;
    this.#sink = options.sink;
    this.#onMark = options.onMark;
    this.#fadeSamples = Math.round((sampleRate * fadeMs) / 1000);
    this.#maxQueued = Math.round((sampleRate * maxQueuedMs) / 1000);
    this.#maxMarks = maxMarks;
  }

  /** Counters. */
  get counters(): PlayoutCounters {
    return {
      frames: this.#frames,
      audioFrames: this.#audioFrames,
      overflowSamples: this.#overflow,
      skips: this.#skips,
      queuedMs: this.queuedMs,
    };
  }

  /** Audio queued and not yet played, ms. */
  get queuedMs(): number {
    return (this.#queuedSamples * 1000) / this.#sampleRate;
  }

  /** True while agent audio is queued (the agent is talking). */
  get playing(): boolean {
    return this.#queuedSamples > 0 || this.#tail !== undefined;
  }

  /** The slot time of the next frame, µs since the epoch (for callers that date events). */
  get nextSlotMicros(): number {
    return Math.round((performance.timeOrigin + this.#start + this.#slot * this.#frameMs) * 1000);
  }

  /**
   * Queues PCM after what is queued. `item` names the reply it belongs to (for
   * {@linkcode playedMs}). Returns the samples accepted (fewer when the queue is full).
   */
  enqueue(pcm: Int16Array, item?: string): number {
    if (this.#closed || pcm.length === 0) return 0;
    const room = Math.max(0, this.#maxQueued - this.#queuedSamples);
    const accepted = Math.min(room, pcm.length);
    this.#overflow += pcm.length - accepted;
    if (accepted === 0) return 0;
    // A part is copied: a view would keep the whole (possibly huge) buffer alive, and a bot
    // flooding a full queue would pin one such buffer per frame played.
    const kept = accepted === pcm.length ? pcm : pcm.slice(0, accepted);
    this.#queue.push({ kind: "audio", pcm: kept, offset: 0, item });
    this.#queuedSamples += accepted;
    return accepted;
  }

  /**
   * Queues a mark after the audio queued so far; `onPlayed` (and `onMark`) run once it is
   * played, or with `cleared = true` when `clear()` drops it. Returns false (and queues
   * nothing) when {@linkcode PlayoutOptions.maxMarks} marks are already pending.
   */
  mark(name: string, onPlayed?: (cleared: boolean) => void): boolean {
    if (this.#closed) return false;
    if (this.#marks >= this.#maxMarks) return false;
    this.#marks++;
    if (onPlayed) {
      const list = this.#markCallbacks.get(name);
      if (list) list.push(onPlayed);
      else this.#markCallbacks.set(name, [onPlayed]);
    }
    this.#queue.push({ kind: "mark", name });
    return true;
  }

  /**
   * Bytes of audio the queue keeps alive now (each distinct buffer its entries view, in
   * full): at most about 2 × `maxQueuedMs` of samples plus what a caller handed over whole.
   * A leak check.
   */
  get retainedBytes(): number {
    const buffers = new Set<ArrayBufferLike>();
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i];
      if (entry.kind === "audio") buffers.add(entry.pcm.buffer);
    }
    let bytes = 0;
    for (const buffer of buffers) bytes += buffer.byteLength;
    return bytes;
  }

  /** Marks pending now. */
  get pendingMarks(): number {
    return this.#marks;
  }

  /** Milliseconds of `item` written to the downlink so far. */
  playedMs(item: string): number {
    return ((this.#itemsPlayed.get(item) ?? 0) * 1000) / this.#sampleRate;
  }

  /** The item now playing, if any, and how much of it was played. */
  get current(): { readonly id: string; readonly playedMs: number } | undefined {
    return this.#item && this.playing
      ? { id: this.#item.id, playedMs: (this.#item.played * 1000) / this.#sampleRate }
      : undefined;
  }

  /**
   * Drops all queued audio at once: the next frame plays a {@linkcode PlayoutOptions.fadeMs}
   * fade of what would have come, then silence. Pending marks are echoed as cleared.
   */
  clear(): ClearResult {
    const droppedSamples = this.#queuedSamples;
    const item = this.current;
    // The fade: the next samples that would have played, ramped down to zero.
    const fade = new Int16Array(Math.min(this.#fadeSamples, this.#queuedSamples));
    let filled = 0;
    for (let i = this.#head; i < this.#queue.length && filled < fade.length; i++) {
      const entry = this.#queue[i];
      if (entry.kind !== "audio") continue;
      const take = Math.min(fade.length - filled, entry.pcm.length - entry.offset);
      fade.set(entry.pcm.subarray(entry.offset, entry.offset + take), filled);
      filled += take;
    }
    for (let i = 0; i < fade.length; i++) {
      fade[i] = Math.round(fade[i] * this.#gain * (1 - (i + 1) / fade.length));
    }
    this.#tail = fade.length > 0 ? fade : undefined;
    const marks: string[] = [...this.#due];
    this.#due = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i];
      if (entry.kind === "mark") marks.push(entry.name);
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#queuedSamples = 0;
    for (const name of marks) this.#fire(name, true);
    return { droppedMs: (droppedSamples * 1000) / this.#sampleRate, marks: marks.length, item };
  }

  /**
   * Pauses (true) or resumes (false) the queue: while paused every frame is silence and
   * nothing queued moves on (marks wait too); a resume plays on from where it stopped.
   */
  pause(paused: boolean): void {
    this.#paused = paused;
  }

  /** True while {@linkcode pause}d. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Moves within `item` while it is the one playing: `"start"` plays it again from its
   * first sample, a number of milliseconds skips ahead (positive) or back (negative), kept
   * within the item's queued audio. Returns false (and moves nothing) when `item` is not
   * playing now.
   */
  seek(item: string, to: "start" | number): boolean {
    const entry = this.#queue[this.#head];
    if (!this.playing || entry?.kind !== "audio" || entry.item !== item) return false;
    const target = to === "start" ? 0 : Math.round(entry.offset + (to * this.#sampleRate) / 1000);
    const offset = Math.max(0, Math.min(entry.pcm.length, target));
    this.#queuedSamples += entry.offset - offset;
    if (to === "start" && this.#item?.id === item) this.#item.played = 0;
    entry.offset = offset;
    return true;
  }

  /** Sets the output gain (0…1): ramped over the next frame. */
  duck(gain: number): void {
    this.#gain = Math.max(0, Math.min(1, gain));
  }

  /** Starts the clock: the first frame is written now. Starting twice is a no-op. */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#start = performance.now();
    this.#slot = 0;
    this.#tick();
  }

  /** Stops the clock and drops the queue (marks are not echoed). A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#markCallbacks.clear();
    this.#queuedSamples = 0;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #tick = (): void => {
    if (!this.#running) return;
    const now = performance.now();
    let written = 0;
    while (this.#start + this.#slot * this.#frameMs <= now + 1) {
      if (written === MAX_CATCH_UP_FRAMES) {
        // Too far behind (a blocked event loop): skip to now rather than flood the caller.
        this.#skips++;
        this.#slot = Math.ceil((now - this.#start) / this.#frameMs);
        break;
      }
      this.#writeFrame(this.#start + this.#slot * this.#frameMs);
      this.#slot++;
      written++;
      if (!this.#running) return;
    }
    const delay = Math.max(0, this.#start + this.#slot * this.#frameMs - performance.now());
    this.#timer = setTimeout(this.#tick, delay);
  };

  #writeFrame(slotMs: number): void {
    // Marks whose audio finished with the previous frame have now been heard in full.
    if (this.#due.length > 0) {
      const due = this.#due;
      this.#due = [];
      for (const name of due) this.#fire(name, false);
      if (!this.#running) return;
    }
    const frame = new Int16Array(this.#frameSamples);
    let filled = 0;
    let audio = false;
    if (this.#tail) {
      frame.set(this.#tail.subarray(0, this.#frameSamples));
      filled = Math.min(this.#tail.length, this.#frameSamples);
      this.#tail = undefined;
      audio = true;
    }
    while (!this.#paused && this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head];
      if (entry.kind === "mark") {
        // Everything before it is in this frame or earlier: it fires after this frame.
        this.#due.push(entry.name);
        this.#head++;
        continue;
      }
      if (filled === this.#frameSamples) break;
      const take = Math.min(this.#frameSamples - filled, entry.pcm.length - entry.offset);
      frame.set(entry.pcm.subarray(entry.offset, entry.offset + take), filled);
      filled += take;
      entry.offset += take;
      this.#queuedSamples -= take;
      audio = true;
      if (entry.item !== undefined) this.#countPlayed(entry.item, take);
      if (entry.offset === entry.pcm.length) this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    this.#applyGain(frame);
    this.#frames++;
    if (audio) this.#audioFrames++;
    this.#sink(frame, Math.round((performance.timeOrigin + slotMs) * 1000));
  }

  #applyGain(frame: Int16Array): void {
    const from = this.#appliedGain;
    const to = this.#gain;
    if (from === 1 && to === 1) return;
    const n = frame.length;
    for (let i = 0; i < n; i++) frame[i] = Math.round(frame[i] * (from + ((to - from) * i) / n));
    this.#appliedGain = to;
  }

  #countPlayed(item: string, samples: number): void {
    if (this.#item?.id !== item) {
      this.#item = { id: item, played: 0 };
      // Keep a few recent items only: memory stays bounded however many replies there were.
      if (this.#itemsPlayed.size >= 16) {
        this.#itemsPlayed.delete(this.#itemsPlayed.keys().next().value!);
      }
    }
    this.#item.played += samples;
    this.#itemsPlayed.set(item, this.#item.played);
  }

  #fire(name: string, cleared: boolean): void {
    this.#marks--;
    const list = this.#markCallbacks.get(name);
    const callback = list?.shift();
    if (list && list.length === 0) this.#markCallbacks.delete(name);
    callback?.(cleared);
    this.#onMark?.(name, cleared);
  }
}
