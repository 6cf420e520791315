/**
 * Synchronous readers and writers over byte arrays for draft-14 message bodies.
 *
 * {@link BufferReader} throws {@link MoqParseError} on every malformed input: reads past the
 * end, invalid UTF-8, out-of-range counts. {@link BufferWriter} throws `RangeError` /
 * `TypeError` when asked to encode something the wire cannot carry.
 *
 * @module
 */
import { MoqParseError, type MoqParseErrorKind } from "../../error.ts";
import {
  readVarintUnchecked,
  varintLengthFromFirstByte,
  varintSize,
  writeVarint,
} from "./varint.ts";

/** Draft-14 §2.4.1: a Track Namespace has 1 to 32 fields. */
export const MAX_NAMESPACE_FIELDS = 32;
/** Draft-14 §2.4.1: namespace fields plus track name are at most 4,096 bytes. */
export const MAX_FULL_TRACK_NAME_LENGTH = 4096;

/**
 * A location in a track: group and object ID (draft-14 §1.4.1).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type Location = draft14.Location;
 * const start: Location = { group: 10, object: 0 };
 * ```
 */
export interface Location {
  /** Group ID. */
  group: number;
  /** Object ID within the group. */
  object: number;
}

/**
 * Bounds for {@link BufferReader.tuple} and {@link BufferWriter.tuple}.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type TupleLimits = draft14.TupleLimits;
 * const prefix: TupleLimits = { minFields: 0 };
 * ```
 */
export interface TupleLimits {
  /** Fewest fields allowed: 1 for a Track Namespace (the default), 0 for a prefix we accept empty. */
  minFields?: number;
  /** Most fields allowed, default 32. */
  maxFields?: number;
  /** Most bytes in all fields together, default 4,096. */
  maxBytes?: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Reads draft-14 fields from a byte array. Byte slices it returns alias the input (no copy).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferReader } = draft14;
 *
 * const r = new BufferReader(new Uint8Array([0x05, 0x40, 0x40, 0x02, 0x68, 0x69]), "EXAMPLE");
 * assertEquals([r.varint(), r.varint(), r.string()], [5, 64, "hi"]);
 * r.expectEnd();
 * ```
 */
export class BufferReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #pos = 0;

  /**
   * Creates a reader positioned at the first byte of `bytes`.
   *
   * @param bytes The bytes to read
   * @param what What is being decoded, for error messages ("SUBSCRIBE")
   */
  constructor(bytes: Uint8Array, what = "message") {
    this.#bytes = bytes;
    this.#what = what;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** Whether every byte has been read. */
  get atEnd(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /** Bytes read so far. */
  get position(): number {
    return this.#pos;
  }

  /**
   * Builds the parse error this reader throws: `Cannot decode <what>: <reason>`.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { draft14 } from "@clutchcall/voice/relay";
   * const { BufferReader } = draft14;
   * const err = new BufferReader(new Uint8Array(), "GOAWAY").error("URI too long");
   * assertEquals(err.message, "Cannot decode GOAWAY: URI too long");
   * ```
   */
  error(reason: string, kind: MoqParseErrorKind = "protocol_violation"): MoqParseError {
    return new MoqParseError(`Cannot decode ${this.#what}: ${reason}`, kind);
  }

  #need(n: number, field: string): void {
    if (this.#bytes.length - this.#pos < n) {
      throw this.error(`${field} past the end of the message`);
    }
  }

  /** Reads one byte. */
  u8(): number {
    this.#need(1, "byte");
    return this.#bytes[this.#pos++];
  }

  /** Reads a big-endian 16-bit integer. */
  u16(): number {
    this.#need(2, "16-bit integer");
    const v = (this.#bytes[this.#pos] << 8) | this.#bytes[this.#pos + 1];
    this.#pos += 2;
    return v;
  }

  /** Reads a QUIC varint. */
  varint(): number {
    this.#need(1, "varint");
    const size = varintLengthFromFirstByte(this.#bytes[this.#pos]);
    this.#need(size, "varint");
    let v: number;
    try {
      v = readVarintUnchecked(this.#bytes, this.#pos, size);
    } catch {
      throw this.error("varint above Number.MAX_SAFE_INTEGER");
    }
    this.#pos += size;
    return v;
  }

  /** Reads a byte that must be 0 or 1 (draft-14 flag fields such as Forward). */
  flag(field: string): boolean {
    const v = this.u8();
    if (v > 1) throw this.error(`${field} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  /** Reads `n` bytes (aliasing the input). */
  bytes(n: number): Uint8Array {
    this.#need(n, "length");
    const out = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Reads everything that is left (aliasing the input). */
  rest(): Uint8Array {
    const out = this.#bytes.subarray(this.#pos);
    this.#pos = this.#bytes.length;
    return out;
  }

  /**
   * Reads a varint length and that many bytes.
   *
   * @param max Largest length allowed; a larger one is a parse error of that `kind`
   */
  lengthPrefixedBytes(
    max = Number.MAX_SAFE_INTEGER,
    kind: MoqParseErrorKind = "protocol_violation",
  ): Uint8Array {
    const n = this.varint();
    if (n > max) throw this.error(`length ${n} exceeds the maximum of ${max}`, kind);
    return this.bytes(n);
  }

  /** Reads a length-prefixed UTF-8 string; invalid UTF-8 is a parse error. */
  string(max = Number.MAX_SAFE_INTEGER): string {
    return this.utf8(this.lengthPrefixedBytes(max));
  }

  /** Decodes bytes already read as UTF-8; invalid UTF-8 is a parse error. */
  utf8(bytes: Uint8Array): string {
    if (bytes.length === 0) return "";
    try {
      return decoder.decode(bytes);
    } catch {
      throw this.error("invalid UTF-8");
    }
  }

  /**
   * Reads a tuple (draft-14 §1.4): a field count, then length-prefixed fields, as UTF-8
   * strings. Draft-14 allows any bytes in namespace fields; this codec requires UTF-8 and
   * rejects anything else as a PROTOCOL_VIOLATION.
   */
  tuple(limits: TupleLimits = {}): string[] {
    const {
      minFields = 1,
      maxFields = MAX_NAMESPACE_FIELDS,
      maxBytes = MAX_FULL_TRACK_NAME_LENGTH,
    } = limits;
    const count = this.varint();
    if (count < minFields || count > maxFields) {
      throw this.error(`namespace has ${count} fields, expected ${minFields} to ${maxFields}`);
    }
    const fields: string[] = new Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const field = this.lengthPrefixedBytes();
      total += field.length;
      if (total > maxBytes) {
        throw this.error(`namespace is longer than ${maxBytes} bytes`);
      }
      fields[i] = this.utf8(field);
    }
    return fields;
  }

  /** Reads a Location: group then object varints. */
  location(): Location {
    const group = this.varint();
    const object = this.varint();
    return { group, object };
  }

  /** Throws unless every byte has been read. */
  expectEnd(): void {
    if (!this.atEnd) throw this.error(`${this.remaining} trailing bytes`);
  }
}

/**
 * Writes draft-14 fields into a growable buffer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferWriter } = draft14;
 *
 * const w = new BufferWriter();
 * w.varint(5).string("hi").tuple(["voice", "room1"]);
 * const utf8 = (s: string) => [...new TextEncoder().encode(s)];
 * // 5; "hi" (length 2); a tuple of 2 fields, each length-prefixed.
 * assertEquals([...w.finish()], [5, 2, ...utf8("hi"), 2, 5, ...utf8("voice"), 5, ...utf8("room1")]);
 * ```
 */
export class BufferWriter {
  #buf: Uint8Array;
  #pos = 0;

  /**
   * Creates an empty writer.
   *
   * @param capacity Initial capacity in bytes
   */
  constructor(capacity = 64) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  #reserve(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2 || 64;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Writes one byte. */
  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new RangeError(`Cannot encode byte: ${value} is out of range`);
    }
    this.#reserve(1);
    this.#buf[this.#pos++] = value;
    return this;
  }

  /** Writes a big-endian 16-bit integer. */
  u16(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`Cannot encode 16-bit integer: ${value} is out of range`);
    }
    this.#reserve(2);
    this.#buf[this.#pos++] = value >> 8;
    this.#buf[this.#pos++] = value & 0xff;
    return this;
  }

  /** Overwrites a 16-bit integer already written at `offset` (for length fields). */
  patchU16(offset: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`Cannot encode 16-bit integer: ${value} is out of range`);
    }
    this.#buf[offset] = value >> 8;
    this.#buf[offset + 1] = value & 0xff;
    return this;
  }

  /** Writes a varint (minimal encoding). */
  varint(value: number): this {
    this.#reserve(varintSize(value));
    this.#pos = writeVarint(this.#buf, this.#pos, value);
    return this;
  }

  /** Writes a 0/1 flag byte. */
  flag(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Writes raw bytes. */
  bytes(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  /** Writes a varint length then the bytes; longer than `max` is a RangeError. */
  lengthPrefixedBytes(bytes: Uint8Array, max = Number.MAX_SAFE_INTEGER): this {
    if (bytes.length > max) {
      throw new RangeError(`Cannot encode field: ${bytes.length} bytes exceeds ${max}`);
    }
    return this.varint(bytes.length).bytes(bytes);
  }

  /** Writes a length-prefixed UTF-8 string. */
  string(value: string, max = Number.MAX_SAFE_INTEGER): this {
    return this.lengthPrefixedBytes(value.length === 0 ? EMPTY : encoder.encode(value), max);
  }

  /** Writes a tuple of UTF-8 fields, checking the same limits as {@link BufferReader.tuple}. */
  tuple(fields: readonly string[], limits: TupleLimits = {}): this {
    const {
      minFields = 1,
      maxFields = MAX_NAMESPACE_FIELDS,
      maxBytes = MAX_FULL_TRACK_NAME_LENGTH,
    } = limits;
    if (fields.length < minFields || fields.length > maxFields) {
      throw new RangeError(
        `Cannot encode namespace: ${fields.length} fields, expected ${minFields} to ${maxFields}`,
      );
    }
    this.varint(fields.length);
    let total = 0;
    for (const field of fields) {
      const bytes = encoder.encode(field);
      total += bytes.length;
      if (total > maxBytes) {
        throw new RangeError(`Cannot encode namespace: longer than ${maxBytes} bytes`);
      }
      this.varint(bytes.length).bytes(bytes);
    }
    return this;
  }

  /** Writes a Location. */
  location(location: Location): this {
    return this.varint(location.group).varint(location.object);
  }

  /**
   * Returns the bytes written. The result shares memory with the writer: do not write
   * after calling it.
   */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}
