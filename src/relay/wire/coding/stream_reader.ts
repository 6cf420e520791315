/**
 * Incremental reads from a QUIC / WebTransport stream for draft-14 control and data streams.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import { readVarintUnchecked, varintLengthFromFirstByte } from "./varint.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

/** Initial size of a byte stream's reused read buffer; it doubles while a value needs more. */
const INITIAL_CAPACITY = 2048;
/** Free space below which the unread bytes are moved to the front before the next read. */
const MIN_FREE = 512;

/**
 * Reads varints, integers and byte runs from a `ReadableStream<Uint8Array>`.
 *
 * A byte stream (a QUIC stream) is read with a BYOB reader into one buffer per stream, reused
 * read after read, so reading allocates no chunk per object (Deno's default reader allocates a
 * 64 KiB buffer for every read). Any other stream is read chunk by chunk. Either way the
 * unread bytes are exposed for synchronous decoding ({@link StreamReader.buffer},
 * {@link StreamReader.position}, {@link StreamReader.end}, {@link StreamReader.consume}) with
 * {@link StreamReader.fill} to wait for more only when a value is short, and through async
 * helpers that await only when the bytes are not buffered yet. {@link StreamReader.bytes}
 * returns a copy: the buffer is reused, and a view of a transport chunk would pin all of it.
 * A stream that ends in the middle of a value throws {@link MoqParseError}; errors of the
 * stream itself (a reset) are rethrown unchanged.
 *
 * Holds the stream's lock until {@link StreamReader.release} or
 * {@link StreamReader.cancel}; disposing it releases the lock.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { StreamReader } = draft14;
 *
 * const stream = new ReadableStream<Uint8Array>({
 *   start(c) {
 *     c.enqueue(new Uint8Array([0x40, 0x25, 0x00]));
 *     c.enqueue(new Uint8Array([0x02]));
 *     c.close();
 *   },
 * });
 * using reader = new StreamReader(stream);
 * assertEquals([await reader.varint(), await reader.u16(), await reader.done()], [37, 2, true]);
 * ```
 */
export class StreamReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #default: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  #ended = false;
  #released = false;
  /** Chunk mode: `#buf` is ours (not a transport chunk) and may be appended to. */
  #owned = false;

  /**
   * Creates a reader over `stream`, taking its reader lock.
   *
   * @param stream The stream to read; locked until release or cancel
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    let byob: ReadableStreamBYOBReader | undefined;
    try {
      byob = stream.getReader({ mode: "byob" });
    } catch (error) {
      // Expected for a stream that is not a byte stream: read it chunk by chunk.
      if (!(error instanceof TypeError)) throw error;
    }
    this.#byob = byob;
    this.#default = byob ? undefined : stream.getReader();
    if (byob) this.#buf = new Uint8Array(INITIAL_CAPACITY);
  }

  /** Bytes already buffered and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#pos;
  }

  /**
   * The buffer holding the unread bytes, from {@link StreamReader.position} to
   * {@link StreamReader.end}. Valid until the next {@link StreamReader.fill}: copy what you keep.
   */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Offset of the first unread byte in {@link StreamReader.buffer}. */
  get position(): number {
    return this.#pos;
  }

  /** Offset just past the last buffered byte in {@link StreamReader.buffer}. */
  get end(): number {
    return this.#end;
  }

  /** Marks `n` buffered bytes as read (after decoding them synchronously). */
  consume(n: number): void {
    if (n < 0 || this.#pos + n > this.#end) {
      throw new RangeError(`Cannot consume ${n} bytes: ${this.buffered} are buffered`);
    }
    this.#pos += n;
  }

  /**
   * Waits for more bytes, appending them to what is buffered.
   *
   * @returns false if the stream ended (or was cancelled) instead
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1, 2])); c.close(); } });
   * const reader = new StreamReader(s);
   * assertEquals([await reader.fill(), reader.buffered, await reader.fill()], [true, 2, false]);
   * ```
   */
  fill(): Promise<boolean> {
    // Not async itself: the read's own promise is the only one per chunk.
    if (this.#ended || this.#released) return Promise.resolve(false);
    return this.#byob ? this.#fillByob(this.#byob) : this.#fillChunk(this.#default!);
  }

  async #fillByob(reader: ReadableStreamBYOBReader): Promise<boolean> {
    for (;;) {
      let buf = this.#buf;
      if (this.#pos === this.#end) {
        this.#pos = this.#end = 0;
      } else if (buf.length - this.#end < MIN_FREE) {
        const unread = this.#end - this.#pos;
        if (unread > buf.length / 2) {
          // A value bigger than the buffer: grow it (lengths are bounded by the decoders' limits).
          const grown = new Uint8Array(buf.length * 2);
          grown.set(buf.subarray(this.#pos, this.#end));
          buf = this.#buf = grown;
        } else buf.copyWithin(0, this.#pos, this.#end);
        this.#pos = 0;
        this.#end = unread;
      }
      const { value, done } = await reader.read(
        new Uint8Array(buf.buffer, this.#end, buf.length - this.#end),
      );
      // The read transferred the buffer: keep the new one (same memory, same size). A
      // cancelled read gives none back; nothing is read after that anyway.
      if (value) this.#buf = new Uint8Array(value.buffer);
      if (done || this.#released) {
        this.#ended = true;
        return false;
      }
      if (value.length === 0) continue;
      this.#end += value.length;
      return true;
    }
  }

  async #fillChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.#released) {
        this.#ended = true;
        return false;
      }
      if (value.length === 0) continue;
      const unread = this.#end - this.#pos;
      if (unread === 0) {
        // Nothing pending: read the chunk in place.
        this.#buf = value;
        this.#owned = false;
        this.#pos = 0;
        this.#end = value.length;
        return true;
      }
      // A value straddles chunks: append into a buffer of our own that grows by doubling, so
      // a large object arriving in many small chunks costs linear, not quadratic, copying.
      if (!this.#owned || this.#buf.length - this.#end < value.length) {
        const grown = new Uint8Array(Math.max(INITIAL_CAPACITY, 2 * (unread + value.length)));
        grown.set(this.#buf.subarray(this.#pos, this.#end));
        this.#buf = grown;
        this.#owned = true;
        this.#pos = 0;
        this.#end = unread;
      }
      this.#buf.set(value, this.#end);
      this.#end += value.length;
      return true;
    }
  }

  /** Makes at least `n` bytes available; false if the stream ended first. */
  async #ensure(n: number): Promise<boolean> {
    while (this.#end - this.#pos < n) {
      if (!(await this.fill())) return false;
    }
    return true;
  }

  #ended_mid(what: string): MoqParseError {
    return new MoqParseError(`Cannot read ${what}: stream ended in the middle of a value`);
  }

  /**
   * Whether the stream ended cleanly with nothing left to read. Waits for data or FIN.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const reader = new StreamReader(new ReadableStream({ start: (c) => c.close() }));
   * assertEquals(await reader.done(), true);
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
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const reader = new StreamReader(new ReadableStream({ start: (c) => c.close() }));
   * assertEquals(await reader.varintOrEnd(), undefined);
   * ```
   */
  async varintOrEnd(): Promise<number | undefined> {
    if (this.#pos >= this.#end && !(await this.#ensure(1))) return undefined;
    return await this.varint();
  }

  /**
   * Reads a varint.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([0x25])); c.close(); } });
   * assertEquals(await new StreamReader(s).varint(), 37);
   * ```
   */
  async varint(): Promise<number> {
    if (this.#pos >= this.#end && !(await this.#ensure(1))) {
      throw this.#ended_mid("varint");
    }
    const size = varintLengthFromFirstByte(this.#buf[this.#pos]);
    if (this.#end - this.#pos < size && !(await this.#ensure(size))) {
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
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([7])); c.close(); } });
   * assertEquals(await new StreamReader(s).u8(), 7);
   * ```
   */
  async u8(): Promise<number> {
    if (this.#pos >= this.#end && !(await this.#ensure(1))) {
      throw this.#ended_mid("byte");
    }
    return this.#buf[this.#pos++];
  }

  /**
   * Reads a big-endian 16-bit integer.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1, 2])); c.close(); } });
   * assertEquals(await new StreamReader(s).u16(), 258);
   * ```
   */
  async u16(): Promise<number> {
    if (this.#end - this.#pos < 2 && !(await this.#ensure(2))) {
      throw this.#ended_mid("16-bit integer");
    }
    const v = (this.#buf[this.#pos] << 8) | this.#buf[this.#pos + 1];
    this.#pos += 2;
    return v;
  }

  /**
   * Reads exactly `n` bytes, as a copy the caller owns.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const s = new ReadableStream({ start: (c) => { c.enqueue(new Uint8Array([1, 2, 3])); c.close(); } });
   * assertEquals(await new StreamReader(s).bytes(2), new Uint8Array([1, 2]));
   * ```
   */
  async bytes(n: number): Promise<Uint8Array> {
    if (n === 0) return EMPTY;
    if (this.#end - this.#pos < n && !(await this.#ensure(n))) {
      throw this.#ended_mid(`${n} bytes`);
    }
    const out = this.#buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /**
   * Releases the stream's lock without cancelling it. Buffered bytes are dropped.
   * Calling it twice is a no-op.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * const stream = new ReadableStream();
   * new StreamReader(stream).release();
   * assertEquals(stream.locked, false);
   * ```
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    (this.#byob ?? this.#default!).releaseLock();
  }

  /**
   * Cancels the stream (STOP_SENDING on QUIC streams) and releases it.
   *
   * @example
   * ```ts
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { StreamReader } = draft14;
   * await new StreamReader(new ReadableStream()).cancel(new Error("Not interested"));
   * ```
   */
  async cancel(reason?: unknown): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#buf = EMPTY;
    this.#pos = this.#end = 0;
    const reader = this.#byob ?? this.#default!;
    await reader.cancel(reason);
    reader.releaseLock();
  }

  /** Releases the lock, as {@link StreamReader.release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}
