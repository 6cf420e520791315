/**
 * A WAV file written while the call goes on, valid at every moment: samples are appended,
 * then the RIFF and `data` sizes are rewritten, then (optionally) the data is synced. A
 * crash leaves at worst samples past the sizes, which {@linkcode repairWavFile} adopts.
 *
 * @module
 */
import { pcm16ToBytes } from "../../codecs/pcm16.ts";
import { WAV_HEADER_BYTES, wavHeader } from "../../codecs/wav.ts";

/**
 * Options of {@linkcode StreamingWavFile.create}.
 *
 * @example
 * ```ts
 * import type { StreamingWavOptions } from "./wav_file.ts";
 * const options: StreamingWavOptions = { sampleRate: 16000, channels: 2, sync: true };
 * ```
 */
export interface StreamingWavOptions {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channel count. */
  readonly channels: number;
  /** `fdatasync` after each append, so a power loss keeps the data too (default true). */
  readonly sync?: boolean;
}

/**
 * A PCM16 WAV file open for appending.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { StreamingWavFile } from "./wav_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".wav" });
 * await using wav = await StreamingWavFile.create(path, { sampleRate: 8000, channels: 2 });
 * await wav.append(new Int16Array(320)); // 20 ms of stereo silence
 * assertEquals(wav.dataBytes, 640);
 * ```
 */
export class StreamingWavFile implements AsyncDisposable {
  /** Where the file is. */
  readonly path: string;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channel count. */
  readonly channels: number;
  readonly #file: Deno.FsFile;
  /** The 44-byte header as on disk; its sizes are updated in place before each rewrite. */
  readonly #header: Uint8Array;
  readonly #sync: boolean;
  #dataBytes = 0;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    path: string,
    file: Deno.FsFile,
    header: Uint8Array,
    options: StreamingWavOptions,
  ) {
    this.path = path;
    this.#file = file;
    this.#header = header;
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    this.#sync = options.sync ?? true;
  }

  /** Creates (or truncates) `path` and writes a header for zero samples. */
  static async create(path: string, options: StreamingWavOptions): Promise<StreamingWavFile> {
    const header = wavHeader({ ...options, dataBytes: 0 });
    const file = await Deno.open(path, { create: true, write: true, truncate: true });
    try {
      await writeAll(file, header);
      if (options.sync ?? true) await file.syncData();
    } catch (error) {
      file.close();
      throw error;
    }
    return new StreamingWavFile(path, file, header, options);
  }

  /** Bytes in the `data` chunk so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** Seconds of audio so far. */
  get durationSeconds(): number {
    return this.#dataBytes / (2 * this.channels * this.sampleRate);
  }

  /**
   * Appends interleaved samples, then makes the header's sizes match, then syncs.
   * Appends run one after another in call order.
   */
  append(samples: Int16Array): Promise<void> {
    if (samples.length % this.channels !== 0) {
      return Promise.reject(
        new RangeError(
          `Cannot append to WAV: ${samples.length} samples for ${this.channels} channels`,
        ),
      );
    }
    const run = this.#queue.then(async () => {
      if (this.#closed) throw new TypeError(`Cannot append to WAV "${this.path}": it is closed`);
      if (samples.length === 0) return;
      const bytes = pcm16ToBytes(samples);
      await this.#file.seek(WAV_HEADER_BYTES + this.#dataBytes, Deno.SeekMode.Start);
      await writeAll(this.#file, bytes);
      this.#dataBytes += bytes.length;
      await writeSizes(this.#file, this.#header, this.#dataBytes);
      if (this.#sync) await this.#file.syncData();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Waits for pending appends and closes the file. Closing twice is a no-op. */
  async close(): Promise<void> {
    await this.#queue;
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * What {@linkcode repairWavFile} did.
 *
 * @example
 * ```ts
 * import type { WavRepair } from "./wav_file.ts";
 * const result: WavRepair = { path: "a.wav", repaired: false, dataBytes: 0, valid: true };
 * ```
 */
export interface WavRepair {
  /** The file. */
  readonly path: string;
  /** True when sizes were rewritten or a torn sample frame was cut off. */
  readonly repaired: boolean;
  /** The `data` chunk's size after the repair. */
  readonly dataBytes: number;
  /** False when the file does not start with the recorder's 44-byte PCM header. */
  readonly valid: boolean;
}

/**
 * Makes a streamed WAV file's sizes agree with its length: the `data` size becomes the
 * bytes after the 44-byte header, rounded down to whole sample frames (the torn tail is
 * cut off), and the RIFF size follows. Files in another layout are left alone.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { repairWavFile, StreamingWavFile } from "./wav_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".wav" });
 * const wav = await StreamingWavFile.create(path, { sampleRate: 8000, channels: 1 });
 * await wav.close();
 * await Deno.writeFile(path, new Uint8Array(160), { append: true }); // samples after the sizes
 * const { repaired, dataBytes } = await repairWavFile(path);
 * assert(repaired);
 * assertEquals(dataBytes, 160);
 * ```
 */
export async function repairWavFile(path: string): Promise<WavRepair> {
  using file = await Deno.open(path, { read: true, write: true });
  const { size } = await file.stat();
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const got = size >= WAV_HEADER_BYTES ? await readFull(file, header) : 0;
  const view = new DataView(header.buffer);
  const ascii = (at: number) => String.fromCharCode(...header.subarray(at, at + 4));
  if (
    got < WAV_HEADER_BYTES || ascii(0) !== "RIFF" || ascii(8) !== "WAVE" ||
    ascii(12) !== "fmt " || view.getUint32(16, true) !== 16 || ascii(36) !== "data"
  ) {
    return { path, repaired: false, dataBytes: 0, valid: false };
  }
  const blockAlign = Math.max(1, view.getUint16(32, true));
  const dataBytes = Math.min(
    Math.floor((size - WAV_HEADER_BYTES) / blockAlign) * blockAlign,
    0xffffffff - 36,
  );
  const sizesOk = view.getUint32(40, true) === dataBytes &&
    view.getUint32(4, true) === 36 + dataBytes;
  const torn = WAV_HEADER_BYTES + dataBytes !== size;
  if (sizesOk && !torn) return { path, repaired: false, dataBytes, valid: true };
  if (torn) await file.truncate(WAV_HEADER_BYTES + dataBytes);
  await writeSizes(file, header, dataBytes);
  await file.syncData();
  return { path, repaired: true, dataBytes, valid: true };
}

/**
 * Rewrites the RIFF and `data` sizes of `header` (the file's 44 bytes) in one write of bytes
 * 4-43 — the two sizes and the unchanged fields between them — so a crash leaves either the
 * old sizes or the new ones, never one of each (two 4-byte writes did: a kill -9 between
 * them left the RIFF size ahead of the data size).
 */
async function writeSizes(file: Deno.FsFile, header: Uint8Array, dataBytes: number): Promise<void> {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(4, Math.min(36 + dataBytes, 0xffffffff), true);
  view.setUint32(40, Math.min(dataBytes, 0xffffffff), true);
  await file.seek(4, Deno.SeekMode.Start);
  await writeAll(file, header.subarray(4, WAV_HEADER_BYTES));
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}

async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let at = 0;
  while (at < into.length) {
    const n = await file.read(into.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at;
}
