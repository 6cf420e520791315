/**
 * Pairs the engine's caller turns with what a speech recognizer (the `asr-tap` plugin) heard
 * on the caller's track, so a module agent's turn carries the text when an ASR runs.
 *
 * The engine's endpointing and the recognizer's run side by side: a turn's finals arrive
 * while the caller speaks and shortly after, and the recognizer says it is done with an
 * `end_of_turn`. When the engine's turn ends, its text is the finals heard since the last
 * turn was handed over — at once if the recognizer already ended its turn, else once it does,
 * or after {@linkcode ASR_TURN_WAIT_MS} with what it has. Without any recognizer result on the
 * call, turns go out at once without text.
 *
 * ```text
 *  no asr ──result──▶ listening ──turn ends──▶ waiting ──end_of_turn / timeout / next turn──▶ listening
 *    │                    ▲                                                      (delivered with text)
 *    └─turn ends: delivered without text
 * ```
 *
 * @module
 */

/** How long an ended turn waits for the recognizer's `end_of_turn`, ms. */
export const ASR_TURN_WAIT_MS = 2000;
/** Finals kept for one turn (more are dropped: a hostile recognizer cannot grow it). */
const MAX_FINALS = 256;
/** Characters of text kept for one turn. */
const MAX_CHARS = 16_384;

/** A recognizer result on the caller's track (the `transcript` call event's fields). */
export interface AsrResult {
  readonly kind: "speech_start" | "partial" | "final" | "end_of_turn" | string;
  readonly text: string;
}

/**
 * One call's pairing of turns and recognizer text.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TurnTexts } from "./turn_text.ts";
 * using texts = new TurnTexts();
 * texts.result({ kind: "final", text: "billing please" });
 * texts.result({ kind: "end_of_turn", text: "billing please" });
 * let text: string | undefined;
 * texts.turnEnded((t) => text = t);
 * assertEquals(text, "billing please");
 * ```
 */
export class TurnTexts implements Disposable {
  readonly #waitMs: number;
  #active = false;
  #finals: string[] = [];
  #chars = 0;
  #recognizerDone = false;
  #pending:
    | { readonly deliver: (text: string) => void; readonly timer: ReturnType<typeof setTimeout> }
    | undefined;

  /** `waitMs`: how long an ended turn waits for the recognizer [{@linkcode ASR_TURN_WAIT_MS}]. */
  constructor({ waitMs = ASR_TURN_WAIT_MS }: { readonly waitMs?: number } = {}) {
    this.#waitMs = waitMs;
  }

  /** Whether a recognizer was heard from on this call. */
  get active(): boolean {
    return this.#active;
  }

  /** A recognizer result on the caller's track. */
  result(result: AsrResult): void {
    this.#active = true;
    if (result.kind === "final" && result.text !== "") {
      if (this.#finals.length < MAX_FINALS && this.#chars < MAX_CHARS) {
        const text = result.text.slice(0, MAX_CHARS - this.#chars);
        this.#finals.push(text);
        this.#chars += text.length;
      }
    } else if (result.kind === "end_of_turn") {
      this.#recognizerDone = true;
      if (this.#pending) this.#flush();
    }
  }

  /**
   * The engine ended a caller turn: `deliver` runs once with its text (`undefined` when no
   * recognizer runs on the call, at once).
   */
  turnEnded(deliver: (text: string | undefined) => void): void {
    // A turn still waiting goes out with what was heard: this one's text is what follows.
    if (this.#pending) this.#flush();
    if (!this.#active) return deliver(undefined);
    if (this.#recognizerDone) return deliver(this.#take());
    this.#pending = { deliver, timer: setTimeout(() => this.#flush(), this.#waitMs) };
  }

  /** Drops a turn still waiting (its agent is gone). A second dispose is a no-op. */
  [Symbol.dispose](): void {
    if (this.#pending) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
  }

  #flush(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.deliver(this.#take());
  }

  #take(): string {
    const text = this.#finals.join(" ").replace(/\s+/g, " ").trim();
    this.#finals = [];
    this.#chars = 0;
    this.#recognizerDone = false;
    return text;
  }
}
