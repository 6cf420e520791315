/**
 * An Ogg Opus file written while the call goes on: header pages at creation, then the
 * queued packets as pages on each flush, an end-of-stream page on close. A crash leaves
 * whole pages plus at most one torn page, which {@linkcode repairOggFile} cuts off.
 *
 * @module
 */
import { parseOggPages } from "./ogg.ts";
import { OggOpusStream, type OggOpusStreamOptions } from "./ogg_opus.ts";

/**
 * An Ogg Opus file open for appending.
 *
 * @example
 * ```ts
 * import { OggOpusFile } from "./ogg_opus_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".opus" });
 * await using ogg = await OggOpusFile.create(path, { tags: { SID: "CA1" } });
 * ogg.push(new Uint8Array([0xf8, 0xff, 0xfe]));
 * await ogg.flush();
 * ```
 */
export class OggOpusFile implements AsyncDisposable {
  /** Where the file is. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #stream: OggOpusStream;
  readonly #sync: boolean;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(path: string, file: Deno.FsFile, stream: OggOpusStream, sync: boolean) {
    this.path = path;
    this.#file = file;
    this.#stream = stream;
    this.#sync = sync;
  }

  /** Creates (or truncates) `path` and writes the OpusHead and OpusTags pages. */
  static async create(
    path: string,
    options: OggOpusStreamOptions & { readonly sync?: boolean } = {},
  ): Promise<OggOpusFile> {
    const stream = new OggOpusStream(options);
    const file = await Deno.open(path, { create: true, write: true, truncate: true });
    try {
      await writeAll(file, stream.headers());
    } catch (error) {
      file.close();
      throw error;
    }
    return new OggOpusFile(path, file, stream, options.sync ?? true);
  }

  /** 48 kHz samples pushed so far. */
  get samples(): number {
    return Number(this.#stream.samples);
  }

  /** Queues a packet; false when its TOC is malformed (then a concealed frame is queued). */
  push(packet: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#stream.push(packet)) return true;
    this.#stream.pushGap(960);
    return false;
  }

  /** Queues concealed frames covering `samples` 48 kHz samples of silence. */
  pushGap(samples: number): void {
    if (!this.#closed) this.#stream.pushGap(samples);
  }

  /** Writes the queued packets as pages. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.#stream.takePages());
  }

  /** Writes the rest and an end-of-stream page, then closes. Closing twice is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return await this.#queue;
    await this.#enqueue(() => this.#stream.end());
    this.#closed = true;
    await this.#queue;
    this.#file.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #enqueue(pages: () => Uint8Array): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#closed) return;
      const bytes = pages();
      if (bytes.length === 0) return;
      await writeAll(this.#file, bytes);
      if (this.#sync) await this.#file.syncData();
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * Cuts a torn last page (or anything after the last page with a valid CRC) off an Ogg
 * file. Returns the bytes kept.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { OggOpusFile, repairOggFile } from "./ogg_opus_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".opus" });
 * await (await OggOpusFile.create(path)).close();
 * await Deno.writeFile(path, new Uint8Array([0x4f, 0x67]), { append: true }); // torn page
 * const kept = await repairOggFile(path);
 * assertEquals(kept, (await Deno.stat(path)).size);
 * ```
 */
export async function repairOggFile(path: string): Promise<number> {
  const bytes = await Deno.readFile(path);
  const { validBytes } = parseOggPages(bytes);
  if (validBytes < bytes.length) await Deno.truncate(path, validBytes);
  return validBytes;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}
