/**
 * One Fonoster `gather` verb: collects the caller's DTMF digits (and, when the call has a
 * speech recognizer, a final transcript) until the first of: the finish key, `maxDigits`
 * digits, speech, or the timeout — which runs until the first digit, then again after each
 * digit (Fonoster's media side does the same).
 *
 * ```text
 *  waiting ──digit──▶ collecting ──finish key / maxDigits / inter-digit timeout──▶ done {digits}
 *     │                    └───────────────speech────────────────────────────────▶ done {speech}
 *     ├──speech──────────────────────────────────────────────────────────────────▶ done {speech}
 *     └──timeout─────────────────────────────────────────────────────────────────▶ done {speech: ""}
 * ```
 *
 * @module
 */

/** How long a gather waits (for the first digit, and after each), ms, when not told. */
export const DEFAULT_GATHER_TIMEOUT_MS = 5000;
/** The key that ends a gather when not told. */
export const DEFAULT_FINISH_ON_KEY = "#";

/** What a gather listens to. */
export interface DigitGatherOptions {
  /** Listen for speech (a recognizer's finals) as well as digits [true]. */
  readonly speech?: boolean;
  /** Listen for digits [true]. */
  readonly dtmf?: boolean;
  /** Ends the gather; not part of the digits [`#`]. */
  readonly finishOnKey?: string;
  /** Ends the gather once this many digits came [no limit]. */
  readonly maxDigits?: number;
  /** Wait for the first digit, and after each, ms [{@linkcode DEFAULT_GATHER_TIMEOUT_MS}]. */
  readonly timeoutMs?: number;
}

/** How a gather ended: the digits, or speech (`""` on a timeout with no digits). */
export type GatherOutcome = { readonly digits: string } | { readonly speech: string };

/**
 * A running gather; `done` runs once.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { DigitGather } from "./fonoster_gather.ts";
 * let outcome;
 * using gather = new DigitGather({ maxDigits: 2 }, (o) => outcome = o);
 * gather.digit("4");
 * gather.digit("2");
 * assertEquals(outcome, { digits: "42" });
 * ```
 */
export class DigitGather implements Disposable {
  readonly #options: Required<Omit<DigitGatherOptions, "maxDigits">> & { maxDigits?: number };
  readonly #done: (outcome: GatherOutcome) => void;
  #digits = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(options: DigitGatherOptions, done: (outcome: GatherOutcome) => void) {
    this.#options = {
      speech: options.speech ?? true,
      dtmf: options.dtmf ?? true,
      finishOnKey: options.finishOnKey || DEFAULT_FINISH_ON_KEY,
      maxDigits: options.maxDigits && options.maxDigits > 0 ? options.maxDigits : undefined,
      timeoutMs: options.timeoutMs && options.timeoutMs > 0
        ? options.timeoutMs
        : DEFAULT_GATHER_TIMEOUT_MS,
    };
    this.#done = done;
    this.#arm();
  }

  /** True once the gather ended (or was disposed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** A digit from the caller. */
  digit(digit: string): void {
    if (this.#ended || !this.#options.dtmf) return;
    if (digit === this.#options.finishOnKey) return this.#end({ digits: this.#digits });
    this.#digits += digit;
    const { maxDigits } = this.#options;
    if (maxDigits !== undefined && this.#digits.length >= maxDigits) {
      return this.#end({ digits: this.#digits });
    }
    this.#arm();
  }

  /** A recognizer's final text on the caller's track. */
  speech(text: string): void {
    if (this.#ended || !this.#options.speech || text.trim() === "") return;
    this.#end({ speech: text });
  }

  /** Ends the gather without an outcome (the session ended). Disposing twice is a no-op. */
  [Symbol.dispose](): void {
    this.#ended = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.#end(this.#digits === "" ? { speech: "" } : { digits: this.#digits }),
      this.#options.timeoutMs,
    );
  }

  #end(outcome: GatherOutcome): void {
    if (this.#ended) return;
    this[Symbol.dispose]();
    this.#done(outcome);
  }
}
