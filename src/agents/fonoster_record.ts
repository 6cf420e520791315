/**
 * The `record` verb of the `fonoster` adapter, as Fonoster's media side carries it out
 * (`ari.channels.record` of the caller's channel, WAV, then a `recordResponse` with the
 * recording's `name`, `duration` in whole seconds and `format` once Asterisk reports it
 * finished): the caller's audio from the verb on, optionally after a beep, to a mono
 * 8 kHz WAV `<name>.wav` in the runtime's recordings directory. It ends after
 * `maxDuration` seconds of audio, after `maxSilence` seconds of silence (the silence is
 * trimmed to its first {@linkcode KEPT_SILENCE_MS}, as Asterisk's recorder rewinds it), on
 * the `finishOnKey` digit, or with the call. Zero (proto3's unset) means no limit, as in
 * Asterisk.
 *
 * @module
 */
import { pcm16ToBytes } from "../codecs/pcm16.ts";
import type { AgentLink } from "./adapter.ts";
import type { RecordingWriter } from "./recordings_port.ts";

/** The recording rate (Fonoster's channel recordings of a G.711 call: 8 kHz). */
const RATE = 8000;
/** Average magnitude below which a frame is silence (Asterisk's `silencethreshold`). */
export const SILENCE_THRESHOLD = 256;
/** Silence kept at the end of a recording its silence ended, ms. */
export const KEPT_SILENCE_MS = 200;
/** Audio buffered before a write to the file, samples (200 ms). */
const WRITE_CHUNK = RATE / 5;

/** What a `recordRequest` asks for (as the proto carries it; zero is unset). */
export interface RecordOptions {
  readonly maxDuration?: number;
  readonly maxSilence?: number;
  readonly beep?: boolean;
  readonly finishOnKey?: string;
}

/** How a recording ended. */
export type RecordEnd = "max_duration" | "silence" | "key" | "closed";

/** A finished recording. */
export interface RecordResult {
  readonly name: string;
  readonly path: string;
  /** Whole seconds of audio in the file. */
  readonly duration: number;
  readonly samples: number;
  readonly end: RecordEnd;
}

/**
 * The beep Asterisk plays before a recording: a 1 kHz tone, 250 ms.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { beep } from "./fonoster_record.ts";
 * assertEquals(beep().length, 2000);
 * ```
 */
export function beep(): Int16Array {
  const pcm = new Int16Array(RATE / 4);
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / RATE));
  }
  return pcm;
}

/** Whether `pcm` is silence by Asterisk's measure (average magnitude under the threshold). */
function silent(pcm: Int16Array): boolean {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += Math.abs(pcm[i]);
  return sum < SILENCE_THRESHOLD * pcm.length;
}

/**
 * One recording of the caller under way: feed it the caller's frames and digits; `done`
 * resolves once it ended and its file is closed.
 */
export class CallerRecording {
  readonly name: string;
  readonly path: string;
  readonly done: Promise<RecordResult>;
  readonly #writer: RecordingWriter;
  readonly #maxSamples: number;
  readonly #maxSilence: number;
  readonly #finishOnKey: string;
  readonly #finished = Promise.withResolvers<RecordEnd>();
  /** Audio not written yet (speech, or silence that may still be trimmed). */
  #pending: Int16Array[] = [];
  #pendingSamples = 0;
  /** Samples of silence at the end of `#pending`, in a row. */
  #silence = 0;
  #samples = 0;
  #writes: Promise<void> = Promise.resolve();
  #ended = false;

  /** Starts recording: plays the beep first when asked; rejects when the file cannot open. */
  static async start(
    link: Pick<AgentLink, "play" | "mark" | "record">,
    name: string,
    options: RecordOptions,
  ): Promise<CallerRecording> {
    const { path, writer } = await link.record(name, RATE);
    if (options.beep) {
      const item = `beep-${name}`;
      link.play(pcm16ToBytes(beep()), item);
      await new Promise<void>((resolve) => {
        if (!link.mark(item, () => resolve())) resolve();
      });
    }
    return new CallerRecording(name, path, writer, options);
  }

  private constructor(name: string, path: string, writer: RecordingWriter, o: RecordOptions) {
    this.name = name;
    this.path = path;
    this.#writer = writer;
    this.#maxSamples = (o.maxDuration ?? 0) > 0 ? o.maxDuration! * RATE : Infinity;
    this.#maxSilence = (o.maxSilence ?? 0) > 0 ? o.maxSilence! * RATE : Infinity;
    this.#finishOnKey = o.finishOnKey ?? "";
    this.done = this.#finished.promise.then(async (end) => {
      const kept = end === "silence" ? this.#pendingSamples - this.#silence : this.#pendingSamples;
      const tail = end === "silence" ? Math.min(this.#silence, (RATE * KEPT_SILENCE_MS) / 1000) : 0;
      this.#flush(kept + tail);
      await this.#writes;
      await this.#writer.close();
      return {
        name,
        path,
        duration: Math.floor(this.#samples / RATE),
        samples: this.#samples,
        end,
      };
    });
  }

  /** One frame of the caller's audio (8 kHz). */
  audio(pcm: Int16Array): void {
    if (this.#ended) return;
    const take = Math.min(pcm.length, this.#maxSamples - this.#samples - this.#pendingSamples);
    const part = take === pcm.length ? pcm.slice() : pcm.slice(0, take);
    this.#pending.push(part);
    this.#pendingSamples += part.length;
    this.#silence = silent(part) ? this.#silence + part.length : 0;
    if (this.#silence >= this.#maxSilence) return this.#end("silence");
    if (this.#samples + this.#pendingSamples >= this.#maxSamples) return this.#end("max_duration");
    // Silence that may yet be trimmed stays in memory (at most maxSilence of it).
    if (
      this.#pendingSamples >= WRITE_CHUNK && (this.#silence === 0 || this.#maxSilence === Infinity)
    ) {
      this.#flush(this.#pendingSamples);
    }
  }

  /** A digit from the caller: the `finishOnKey` one ends the recording. */
  digit(digit: string): void {
    if (!this.#ended && this.#finishOnKey !== "" && this.#finishOnKey.includes(digit)) {
      this.#end("key");
    }
  }

  /** Ends the recording with the call (or the agent). */
  close(): Promise<RecordResult> {
    this.#end("closed");
    return this.done;
  }

  #end(end: RecordEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#finished.resolve(end);
  }

  /** Writes the first `samples` of what is pending, drops the rest. */
  #flush(samples: number): void {
    const out = new Int16Array(Math.max(0, Math.min(samples, this.#pendingSamples)));
    let at = 0;
    for (const part of this.#pending) {
      if (at >= out.length) break;
      const n = Math.min(part.length, out.length - at);
      out.set(part.subarray(0, n), at);
      at += n;
    }
    this.#pending = [];
    this.#pendingSamples = 0;
    this.#silence = 0;
    if (out.length === 0) return;
    this.#samples += out.length;
    const writer = this.#writer;
    this.#writes = this.#writes.then(() => writer.append(out));
  }
}
