/**
 * Engine-side turn detection and barge-in for agents without their own: a VAD's per-frame
 * voiced/unvoiced decisions turned into caller turns (endpointing) and interruptions.
 *
 * ```text
 *            voiced ≥ minSpeechMs               silence ≥ silenceMs
 *   silent ───────────────────────▶ speaking ───────────────────────▶ silent
 *                (turn start)            │         (turn end)
 *                                        │ agent audio playing at onset:
 *                                        ▼
 *                                     ducked ── voiced ≥ bargeIn.minSpeechMs ──▶ interrupted
 *                                        │                                       (flush, report)
 *                                        └── silence ≥ falseInterruptionMs ──▶ resumed (unduck)
 * ```
 *
 * @module
 */
import { VoiceActivityDetector } from "../rtp/vad.ts";

/** Settings of a {@linkcode TurnDetector}. */
export interface TurnDetectorOptions {
  /** Sample rate of the frames (8000, 16000 or 48000). */
  readonly sampleRate: number;
  /** Silence that ends a turn, ms [500]. */
  readonly silenceMs?: number;
  /** Voiced time that starts a turn, ms [60]. */
  readonly minSpeechMs?: number;
  /** Longest turn before it is ended anyway, ms [30000]. */
  readonly maxTurnMs?: number;
  /** Barge-in: voiced time over the agent that commits an interruption, ms [400]. */
  readonly bargeInMs?: number;
  /** Barge-in: silence after an onset that makes it a false interruption, ms [250]. */
  readonly falseInterruptionMs?: number;
  /** Barge-in off: the caller's speech never cuts the agent. */
  readonly bargeIn?: boolean;
  /** WebRTC VAD mode [2]. */
  readonly mode?: 0 | 1 | 2 | 3;
}

/** What the detector reports, in order. Times are capture times in µs since the epoch. */
export type TurnSignal =
  | { readonly type: "turn_start"; readonly at: number }
  | { readonly type: "turn_end"; readonly startedAt: number; readonly at: number }
  /** Caller speech began while the agent talked: duck the agent. */
  | { readonly type: "barge_in_onset"; readonly at: number }
  /** The onset held: flush the agent's audio. `heardMs` of caller speech so far. */
  | { readonly type: "interruption"; readonly at: number; readonly heardMs: number }
  /** The onset did not hold (a cough, a click): unduck and carry on. */
  | { readonly type: "false_interruption"; readonly at: number; readonly heardMs: number };

type State =
  | { readonly kind: "silent"; voicedMs: number; runStart: number | undefined }
  | {
    readonly kind: "speaking";
    readonly startedAt: number;
    lastVoicedEnd: number;
    barge: { onset: number; voicedMs: number } | undefined;
  };

/**
 * Feeds frames, returns signals.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TurnDetector } from "./turn_detector.ts";
 * using turns = await TurnDetector.create({ sampleRate: 8000 });
 * const signals = turns.process(new Int16Array(160), Date.now() * 1000, false);
 * assertEquals(signals.length, 0); // silence
 * ```
 */
export class TurnDetector implements Disposable {
  readonly #vad: VoiceActivityDetector;
  readonly #frameCheck: number;
  readonly #silenceUs: number;
  readonly #minSpeechUs: number;
  readonly #maxTurnUs: number;
  readonly #bargeInUs: number;
  readonly #falseUs: number;
  readonly #bargeIn: boolean;
  readonly #sampleRate: number;
  #state: State = { kind: "silent", voicedMs: 0, runStart: undefined };

  private constructor(vad: VoiceActivityDetector, options: TurnDetectorOptions) {
    this.#vad = vad;
    this.#sampleRate = options.sampleRate;
    this.#frameCheck = options.sampleRate / 100;
    this.#silenceUs = (options.silenceMs ?? 500) * 1000;
    this.#minSpeechUs = (options.minSpeechMs ?? 60) * 1000;
    this.#maxTurnUs = (options.maxTurnMs ?? 30_000) * 1000;
    this.#bargeInUs = (options.bargeInMs ?? 400) * 1000;
    this.#falseUs = (options.falseInterruptionMs ?? 250) * 1000;
    this.#bargeIn = options.bargeIn ?? true;
  }

  /** Loads the VAD and makes a detector. */
  static async create(options: TurnDetectorOptions): Promise<TurnDetector> {
    // The VAD's own smoothing is set to one frame: this class does the smoothing.
    const vad = await VoiceActivityDetector.create({
      mode: options.mode ?? 2,
      sampleRate: options.sampleRate,
      minSpeechMs: 10,
      hangoverMs: 10,
    });
    return new TurnDetector(vad, options);
  }

  /** True between a turn's start and its end. */
  get speaking(): boolean {
    return this.#state.kind === "speaking";
  }

  /**
   * Classifies one frame (10, 20 or 30 ms, or a multiple of 10 ms up to 60) captured at
   * `at` µs; `agentPlaying` says whether the agent's audio is being played now.
   */
  process(samples: Int16Array, at: number, agentPlaying: boolean): TurnSignal[] {
    const signals: TurnSignal[] = [];
    // fvad takes up to 30 ms: longer frames are classified in 10 ms steps, voiced if any is.
    let voiced = false;
    const step = samples.length <= this.#frameCheck * 3 ? samples.length : this.#frameCheck * 2;
    for (let i = 0; i + step <= samples.length; i += step) {
      this.#vad.process(samples.subarray(i, i + step), at);
      voiced ||= this.#vad.speaking;
    }
    const frameUs = (samples.length / this.#sampleRate) * 1e6;
    const state = this.#state;
    if (state.kind === "silent") {
      if (!voiced) {
        state.voicedMs = 0;
        state.runStart = undefined;
        return signals;
      }
      state.runStart ??= at;
      state.voicedMs += frameUs;
      if (state.voicedMs < this.#minSpeechUs) return signals;
      const startedAt = state.runStart;
      const barge = this.#bargeIn && agentPlaying
        ? { onset: startedAt, voicedMs: state.voicedMs }
        : undefined;
      this.#state = { kind: "speaking", startedAt, lastVoicedEnd: at + frameUs, barge };
      signals.push({ type: "turn_start", at: startedAt });
      if (barge) signals.push({ type: "barge_in_onset", at: startedAt });
      return signals;
    }
    if (voiced) {
      state.lastVoicedEnd = at + frameUs;
      if (!state.barge && this.#bargeIn && agentPlaying) {
        state.barge = { onset: at, voicedMs: 0 };
        signals.push({ type: "barge_in_onset", at });
      }
      if (state.barge) {
        state.barge.voicedMs += frameUs;
        if (state.barge.voicedMs >= this.#bargeInUs) {
          signals.push({
            type: "interruption",
            at: at + frameUs,
            heardMs: Math.round(state.barge.voicedMs / 1000),
          });
          state.barge = undefined;
        }
      }
    } else if (state.barge && at + frameUs - state.lastVoicedEnd >= this.#falseUs) {
      signals.push({
        type: "false_interruption",
        at: at + frameUs,
        heardMs: Math.round(state.barge.voicedMs / 1000),
      });
      state.barge = undefined;
    }
    const silentUs = at + frameUs - state.lastVoicedEnd;
    if (silentUs >= this.#silenceUs || at + frameUs - state.startedAt >= this.#maxTurnUs) {
      if (state.barge) {
        signals.push({
          type: "false_interruption",
          at: at + frameUs,
          heardMs: Math.round(state.barge.voicedMs / 1000),
        });
      }
      signals.push({ type: "turn_end", startedAt: state.startedAt, at: state.lastVoicedEnd });
      this.#state = { kind: "silent", voicedMs: 0, runStart: undefined };
    }
    return signals;
  }

  /** Frees the VAD. Closing twice is a no-op. */
  close(): void {
    this.#vad.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
