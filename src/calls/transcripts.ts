/**
 * The finals of each call's transcript, in the order the recognizer gave them, for
 * `GET /v1/calls/{sid}/transcript`. Kept in the call store when it keeps transcripts (Deno
 * KV does: they survive a restart), else in memory; bounded either way (entries and text per
 * call; in memory also the number of calls, the oldest call's transcript going first), so a
 * chatty or hostile recognizer cannot grow the process or the store without limit.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
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

/** A call's transcript finals as a store keeps them. */
export interface StoredTranscript {
  /** Oldest first. */
  readonly finals: readonly TranscriptEntry[];
  /** True when older finals were dropped to stay within the bounds. */
  readonly truncated: boolean;
}

/** How much of one call's transcript is kept. */
export interface TranscriptBounds {
  /** Finals kept; the oldest goes first. */
  readonly maxEntries: number;
  /** Characters of text kept; the oldest finals go first. */
  readonly maxChars: number;
}

/** Where a {@linkcode TranscriptLog} keeps finals (the call store's optional methods). */
export interface TranscriptStore {
  /** Appends a final, dropping the call's oldest beyond `bounds`. */
  appendTranscript?(sid: string, entry: TranscriptEntry, bounds: TranscriptBounds): Promise<void>;
  /** The call's kept finals. */
  getTranscript?(sid: string): Promise<StoredTranscript>;
}

/** Bounds of a {@linkcode TranscriptLog}. */
export interface TranscriptLogOptions {
  /** Calls whose transcripts are kept; the oldest goes first [1000]. */
  readonly maxCalls?: number;
  /** Finals kept per call; the oldest goes first [5000]. */
  readonly maxEntries?: number;
  /** Characters of text kept per call [1 MiB]. */
  readonly maxChars?: number;
  /** Where finals are kept: a store with `appendTranscript`/`getTranscript` [memory]. */
  readonly store?: TranscriptStore;
  /** Where a failed store write is reported. */
  readonly log?: Logger;
}

/** The longest final text kept, characters (one store value stays well under 64 KiB). */
export const MAX_FINAL_CHARS = 16_384;

interface CallTranscript {
  entries: TranscriptEntry[];
  chars: number;
  truncated: boolean;
}

/**
 * Bounded transcripts, keyed by call sid: in the store when it keeps them, else in memory.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TranscriptLog } from "./transcripts.ts";
 * const log = new TranscriptLog({ maxCalls: 10 });
 * await log.add({ type: "transcript", sid: "CA1", at: new Date().toISOString(), track: "uplink", kind: "final", text: "hello", start: 0, end: 400 });
 * assertEquals((await log.get("CA1")).finals.length, 1);
 * ```
 */
export class TranscriptLog {
  readonly #calls = new Map<string, CallTranscript>();
  readonly #maxCalls: number;
  readonly #maxEntries: number;
  readonly #maxChars: number;
  readonly #store: TranscriptLogOptions["store"];
  readonly #log: Logger | undefined;
  /** Each call's appends in order: one store write at a time per call. */
  readonly #writes = new Map<string, Promise<void>>();

  /** Creates an empty log. */
  constructor(options: TranscriptLogOptions = {}) {
    this.#maxCalls = options.maxCalls ?? 1000;
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#maxChars = options.maxChars ?? 1 << 20;
    const { store } = options;
    this.#store = store?.appendTranscript && store.getTranscript ? store : undefined;
    this.#log = options.log;
  }

  /** Whether finals go to the store (and survive a restart). */
  get persistent(): boolean {
    return this.#store !== undefined;
  }

  /**
   * Keeps `event` when it is a final with text; other events are ignored. Resolves once it
   * is kept (a store write that fails is logged, not thrown: the event already went out).
   */
  add(event: TranscriptEvent): Promise<void> {
    if (event.kind !== "final" || event.text === "") return Promise.resolve();
    const text = event.text.slice(0, Math.min(this.#maxChars, MAX_FINAL_CHARS));
    const entry: TranscriptEntry = {
      track: event.track,
      text,
      start: event.start,
      end: event.end,
      ...(event.confidence === undefined ? {} : { confidence: event.confidence }),
      at: event.at,
    };
    const store = this.#store;
    if (!store) {
      this.#addInMemory(event.sid, entry);
      return Promise.resolve();
    }
    const sid = event.sid;
    const bounds = { maxEntries: this.#maxEntries, maxChars: this.#maxChars };
    const write = (this.#writes.get(sid) ?? Promise.resolve())
      .then(() => store.appendTranscript!(sid, entry, bounds))
      .catch((error) => this.#log?.warn("Cannot keep a transcript final", { sid, error }));
    this.#writes.set(sid, write);
    write.then(() => {
      if (this.#writes.get(sid) === write) this.#writes.delete(sid);
    });
    return write;
  }

  /** The call's finals so far (none for a call nothing was transcribed on). */
  async get(sid: string): Promise<Transcript> {
    if (this.#store) {
      // Appends already made are read back: wait for this call's writes in flight.
      await this.#writes.get(sid);
      const kept = await this.#store.getTranscript!(sid);
      return { sid, finals: [...kept.finals], truncated: kept.truncated };
    }
    const call = this.#calls.get(sid);
    return { sid, finals: [...call?.entries ?? []], truncated: call?.truncated ?? false };
  }

  /** Calls with transcripts in memory, or with store writes in flight: a leak check. */
  get size(): number {
    return this.#store ? this.#writes.size : this.#calls.size;
  }

  #addInMemory(sid: string, entry: TranscriptEntry): void {
    let call = this.#calls.get(sid);
    if (!call) {
      call = { entries: [], chars: 0, truncated: false };
      this.#calls.set(sid, call);
      for (const old of this.#calls.keys()) {
        if (this.#calls.size <= this.#maxCalls) break;
        this.#calls.delete(old);
      }
    }
    call.entries.push(entry);
    call.chars += entry.text.length;
    while (call.entries.length > this.#maxEntries || call.chars > this.#maxChars) {
      call.chars -= call.entries.shift()!.text.length;
      call.truncated = true;
    }
  }
}
