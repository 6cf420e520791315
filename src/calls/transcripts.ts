/**
 * The finals of each call's transcript, in the order the recognizer gave them, for
 * `GET /v1/calls/{sid}/transcript`. Kept in memory with hard bounds (entries and text per
 * call, number of calls: the oldest call's transcript goes first), so a chatty or hostile
 * recognizer cannot grow the process; a restart forgets them (the `transcript` events
 * went out on SSE and webhooks as they came).
 *
 * @module
 */
import type { TranscriptEvent } from "../voice/transcript.ts";

/** One final result of a call's transcript. */
export interface TranscriptEntry {
  /** Which of the call's tracks was heard. */
  readonly track: TranscriptEvent["track"];
  /** The final text. */
  readonly text: string;
  /** Start, in ms from the start of the call's audio. */
  readonly start: number;
  /** End, in ms from the start of the call's audio. */
  readonly end: number;
  /** The recognizer's confidence 0–1, when it gave one. */
  readonly confidence?: number;
  /** When the result arrived (ISO 8601). */
  readonly at: string;
}

/** A call's transcript as `GET /v1/calls/{sid}/transcript` returns it. */
export interface Transcript {
  /** The call id. */
  readonly sid: string;
  /** The finals so far, in the order they arrived. */
  readonly finals: readonly TranscriptEntry[];
  /** True when older finals were dropped to stay within the per-call bounds. */
  readonly truncated: boolean;
}

/** Bounds of a {@linkcode TranscriptLog}. */
export interface TranscriptLogOptions {
  /** Calls whose transcripts are kept; the oldest goes first [1000]. */
  readonly maxCalls?: number;
  /** Finals kept per call; the oldest goes first [5000]. */
  readonly maxEntries?: number;
  /** Characters of text kept per call [1 MiB]. */
  readonly maxChars?: number;
}

interface CallTranscript {
  entries: TranscriptEntry[];
  chars: number;
  truncated: boolean;
}

/**
 * Bounded in-memory transcripts, keyed by call sid.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TranscriptLog } from "./transcripts.ts";
 * const log = new TranscriptLog({ maxCalls: 10 });
 * log.add({ type: "transcript", sid: "CA1", at: new Date().toISOString(), track: "uplink", kind: "final", text: "hello", start: 0, end: 400 });
 * assertEquals(log.get("CA1").finals.length, 1);
 * ```
 */
export class TranscriptLog {
  readonly #calls = new Map<string, CallTranscript>();
  readonly #maxCalls: number;
  readonly #maxEntries: number;
  readonly #maxChars: number;

  /** Creates an empty log. */
  constructor(options: TranscriptLogOptions = {}) {
    this.#maxCalls = options.maxCalls ?? 1000;
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#maxChars = options.maxChars ?? 1 << 20;
  }

  /** Keeps `event` when it is a final with text; other events are ignored. */
  add(event: TranscriptEvent): void {
    if (event.kind !== "final" || event.text === "") return;
    let call = this.#calls.get(event.sid);
    if (!call) {
      call = { entries: [], chars: 0, truncated: false };
      this.#calls.set(event.sid, call);
      for (const sid of this.#calls.keys()) {
        if (this.#calls.size <= this.#maxCalls) break;
        this.#calls.delete(sid);
      }
    }
    const text = event.text.slice(0, this.#maxChars);
    call.entries.push({
      track: event.track,
      text,
      start: event.start,
      end: event.end,
      ...(event.confidence === undefined ? {} : { confidence: event.confidence }),
      at: event.at,
    });
    call.chars += text.length;
    while (call.entries.length > this.#maxEntries || call.chars > this.#maxChars) {
      call.chars -= call.entries.shift()!.text.length;
      call.truncated = true;
    }
  }

  /** The call's finals so far (none for a call nothing was transcribed on). */
  get(sid: string): Transcript {
    const call = this.#calls.get(sid);
    return { sid, finals: [...call?.entries ?? []], truncated: call?.truncated ?? false };
  }

  /** How many calls have transcripts kept: a leak check. */
  get size(): number {
    return this.#calls.size;
  }
}
