/**
 * Incremental reads from a QUIC / WebTransport stream for draft-14 control and data streams.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import { readVarintUnchecked, varintLengthFromFirstByte } from "./varint.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Reads varints, integers and byte runs from a `ReadableStream<Uint8Array>`.
 *
 * It keeps the current chunk and an offset into it; values inside one chunk are read in
 * place and {@link StreamReader.bytes} returns a view of the chunk (no copy). Only a value
 * that straddles chunks costs one copy. A stream that ends in the middle of a value throws
 * {@link MoqParseError}; errors of the stream itself (a reset) are rethrown unchanged.
 *
 * Holds the stream's lock until {@link StreamReader.release} or
 * {@link StreamReader.cancel}; disposing it releases the lock.
 *
 * @example
 * ```ts
 * import { StreamReader } from "./stream_reader.ts";
 *
 * const stream = new ReadableStream<Uint8Array>({
 *   start(c) {
 *     c.enqueue(new Uint8Array([0x40, 0x25, 0x00]));
 *     c.enqueue(new Uint8Array([0x02]));
 *     c.close();
 *   },
 * });
 * using reader = new StreamReader(stream);
 * console.log(await reader.varint(), await reader.u16(), await reader.done()); // 37 2 true
 * ```
 */
export class StreamReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #ended = false;
  #released = false;

  /**
   * Creates a reader over `stream`, taking its reader lock.
   *
   * @param stream The stream to read; locked until release or cancel
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Bytes already buffered and not yet consumed. */
  get buffered(): number {
    return this.#buf.length - this.#pos;
  }

  /**
   * Makes at least `n` bytes available; false if the stream ended first.
   * Copies only when a value straddles chunks.
   */
  async #ensure(n: number): Promise<boolean> {
    let avail = this.#buf.length - this.#pos;
    if (avail >= n) return true;
    if (this.#ended) return false;
    const chunks: Uint8Array[] = [];
    while (avail < n) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        break;
      }
      if (value.length === 0) continue;
      chunks.push(value);
      avail += value.length;
    }
    if (chunks.length === 0) return false;
    if (this.#pos === this.#buf.length && chunks.length === 1) {
      this.#buf = chunks[0];
    } else {
      const merged = new Uint8Array(avail);
      merged.set(this.#buf.subarray(this.#pos), 0);
      let off = this.#buf.length - this.#pos;
      for (const c of chunks) {
        merged.set(c, off);
        off += c.length;
      }
      this.#buf = merged;
    }
    this.#pos = 0;
    return avail >= n;
  }

  #ended_mid(what: string): MoqParseError {
    return new MoqParseError(`Cannot read ${what}: stream ended in the middle of a value`);
  }

  /**
   * Whether the stream ended cleanly with nothing left to read. Waits for data or FIN.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const reader = new StreamReader(new ReadableStream({ start: (c) => c.close() }));
   * console.log(await reader.done()); // true
   * ```
   */
  async done(): Promise<boolean> {
    return !(await this.#ensure(1));
  }

  /**
   * Reads a varint, or returns `undefined` if the stream ended exactly before it.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const reader = new StreamReader(new ReadableStream({ start: (c) => c.close() }));
   * console.log(await reader.varintOrEnd()); // undefined
   * ```
   */
  async varintOrEnd(): Promise<number | undefined> {
    if (this.#pos >= this.#buf.length && !(await this.#ensure(1))) return undefined;
    return await this.varint();
  }

  /**
   * Reads a varint.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([0x25])); c.close(); } });
   * console.log(await new StreamReader(s).varint()); // 37
   * ```
   */
  async varint(): Promise<number> {
    if (this.#pos >= this.#buf.length && !(await this.#ensure(1))) {
      throw this.#ended_mid("varint");
    }
    const size = varintLengthFromFirstByte(this.#buf[this.#pos]);
    if (this.#buf.length - this.#pos < size && !(await this.#ensure(size))) {
      throw this.#ended_mid("varint");
    }
    const v = readVarintUnchecked(this.#buf, this.#pos, size);
    this.#pos += size;
    return v;
  }

  /**
   * Reads one byte.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([7])); c.close(); } });
   * console.log(await new StreamReader(s).u8()); // 7
   * ```
   */
  async u8(): Promise<number> {
    if (this.#pos >= this.#buf.length && !(await this.#ensure(1))) {
      throw this.#ended_mid("byte");
    }
    return this.#buf[this.#pos++];
  }

  /**
   * Reads a big-endian 16-bit integer.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1, 2])); c.close(); } });
   * console.log(await new StreamReader(s).u16()); // 258
   * ```
   */
  async u16(): Promise<number> {
    if (this.#buf.length - this.#pos < 2 && !(await this.#ensure(2))) {
      throw this.#ended_mid("16-bit integer");
    }
    const v = (this.#buf[this.#pos] << 8) | this.#buf[this.#pos + 1];
    this.#pos += 2;
    return v;
  }

  /**
   * Reads exactly `n` bytes. The result may be a view of the stream's chunk: copy it if
   * you keep it beyond the chunk's life and care about the memory it pins.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1, 2, 3])); c.close(); } });
   * console.log(await new StreamReader(s).bytes(2)); // Uint8Array [1, 2]
   * ```
   */
  async bytes(n: number): Promise<Uint8Array> {
    if (n === 0) return EMPTY;
    if (this.#buf.length - this.#pos < n && !(await this.#ensure(n))) {
      throw this.#ended_mid(`${n} bytes`);
    }
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /**
   * Releases the stream's lock without cancelling it. Buffered bytes are dropped.
   * Calling it twice is a no-op.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * const stream = new ReadableStream();
   * new StreamReader(stream).release();
   * console.log(stream.locked); // false
   * ```
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#reader.releaseLock();
  }

  /**
   * Cancels the stream (STOP_SENDING on QUIC streams) and releases it.
   *
   * @example
   * ```ts
   * import { StreamReader } from "./stream_reader.ts";
   * await new StreamReader(new ReadableStream()).cancel(new Error("Not interested"));
   * ```
   */
  async cancel(reason?: unknown): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#buf = EMPTY;
    this.#pos = 0;
    await this.#reader.cancel(reason);
    this.#reader.releaseLock();
  }

  /** Releases the lock, as {@link StreamReader.release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}
