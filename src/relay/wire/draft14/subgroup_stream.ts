/**
 * Draft-14 subgroup streams (§10.4.2): the SUBGROUP_HEADER types and header, and the objects
 * on the stream, delta coded.
 *
 * Hot path: object headers encode into a few bytes ({@link encodeSubgroupObjectHeader},
 * optionally into a caller's scratch buffer) so the payload can be written to the stream
 * separately without a copy; decoded payloads are views of the received chunk.
 *
 * @module
 */
import { BufferWriter } from "../coding/buffer.ts";
import { objectBytes } from "../coding/byte_slab.ts";
import type { StreamReader } from "../coding/stream_reader.ts";
import {
  MAX_VARINT,
  readVarintUnchecked,
  varintLengthFromFirstByte,
  varintSize,
  writeVarint,
} from "../coding/varint.ts";
import {
  checkObjectForEncode,
  checkStatus,
  DataLimits,
  EMPTY,
  fail,
  ObjectStatus,
  type SubgroupObject,
} from "./data_object.ts";

/**
 * Where a subgroup stream's Subgroup ID comes from (draft-14 Table 7).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type SubgroupIdMode = draft14.SubgroupIdMode;
 * const mode: SubgroupIdMode = "zero";
 * ```
 */
export type SubgroupIdMode = "zero" | "first_object" | "explicit";

/**
 * The meaning of the bits of a SUBGROUP_HEADER type.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type SubgroupHeaderFlags = draft14.SubgroupHeaderFlags;
 * const flags: SubgroupHeaderFlags = { subgroupIdMode: "zero", extensions: true, endOfGroup: true };
 * ```
 */
export interface SubgroupHeaderFlags {
  /** Where the stream's Subgroup ID comes from. */
  subgroupIdMode: SubgroupIdMode;
  /** Every object carries an Extension Headers Length. */
  extensions: boolean;
  /** The last object before FIN is the last object of the group. */
  endOfGroup: boolean;
}

/**
 * The SUBGROUP_HEADER type for a set of flags: 0x10 | extensions (0x01) | first-object
 * subgroup ID (0x02) or explicit subgroup ID (0x04) | end of group (0x08). @moq/net 0.3.4
 * sends 0x19 (subgroup 0, extensions, end of group).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { subgroupHeaderType } = draft14;
 * assertEquals(subgroupHeaderType({ subgroupIdMode: "zero", extensions: true, endOfGroup: true }), 25);
 * ```
 */
export function subgroupHeaderType(flags: SubgroupHeaderFlags): number {
  const mode = flags.subgroupIdMode === "zero"
    ? 0
    : flags.subgroupIdMode === "first_object"
    ? 0x02
    : 0x04;
  return 0x10 | mode | (flags.extensions ? 0x01 : 0) | (flags.endOfGroup ? 0x08 : 0);
}

/**
 * Parses a SUBGROUP_HEADER type, or returns `undefined` if it is not one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { parseSubgroupHeaderType } = draft14;
 * assertEquals(parseSubgroupHeaderType(0x14), { subgroupIdMode: "explicit", extensions: false, endOfGroup: false });
 * assertEquals(parseSubgroupHeaderType(0x16), undefined);
 * ```
 */
export function parseSubgroupHeaderType(type: number): SubgroupHeaderFlags | undefined {
  if (!isSubgroupHeaderType(type)) return undefined;
  const mode = type & 0x06;
  return {
    subgroupIdMode: mode === 0 ? "zero" : mode === 0x02 ? "first_object" : "explicit",
    extensions: (type & 0x01) !== 0,
    endOfGroup: (type & 0x08) !== 0,
  };
}

/**
 * Whether `type` is one of draft-14's twelve SUBGROUP_HEADER types.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { isSubgroupHeaderType } = draft14;
 * assertEquals([isSubgroupHeaderType(0x19), isSubgroupHeaderType(0x1e)], [true, false]);
 * ```
 */
export function isSubgroupHeaderType(type: number): boolean {
  return type >= 0x10 && type <= 0x1d && (type & 0x06) !== 0x06;
}

/**
 * A decoded SUBGROUP_HEADER.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type SubgroupHeader = draft14.SubgroupHeader;
 * const h: SubgroupHeader = { headerType: 0x19, trackAlias: 1, groupId: 7, subgroupId: 0, publisherPriority: 0 };
 * ```
 */
export interface SubgroupHeader {
  /** The stream type, 0x10–0x1D; see {@link parseSubgroupHeaderType}. */
  headerType: number;
  /** The Track Alias of the track the objects belong to. */
  trackAlias: number;
  /** The Group ID of every object on the stream. */
  groupId: number;
  /**
   * The Subgroup ID: 0 for "zero" types, the header's field for "explicit" types. For
   * "first_object" types it is `undefined` until the first object is read, when
   * {@link readSubgroupObject} sets it to that object's ID.
   */
  subgroupId: number | undefined;
  /** The Publisher Priority, 0..255, lower is more important. */
  publisherPriority: number;
}

/**
 * Encodes a SUBGROUP_HEADER, stream type included.
 *
 * @throws {RangeError} If `subgroupId` does not fit the header type
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeSubgroupHeader } = draft14;
 * const header = encodeSubgroupHeader({ headerType: 0x14, trackAlias: 2, groupId: 0, subgroupId: 0, publisherPriority: 0 });
 * assertEquals(header, new Uint8Array([0x14, 0x02, 0x00, 0x00, 0x00]));
 * ```
 */
export function encodeSubgroupHeader(header: SubgroupHeader): Uint8Array {
  const flags = parseSubgroupHeaderType(header.headerType);
  if (!flags) {
    throw new RangeError(
      `Cannot encode subgroup header: 0x${header.headerType.toString(16)} is not a subgroup type`,
    );
  }
  const w = new BufferWriter(24);
  w.varint(header.headerType).varint(header.trackAlias).varint(header.groupId);
  if (flags.subgroupIdMode === "explicit") {
    if (header.subgroupId === undefined) {
      throw new RangeError("Cannot encode subgroup header: this type needs a subgroup ID");
    }
    w.varint(header.subgroupId);
  } else if (flags.subgroupIdMode === "zero" && (header.subgroupId ?? 0) !== 0) {
    throw new RangeError("Cannot encode subgroup header: this type implies subgroup 0");
  }
  w.u8(header.publisherPriority);
  return w.finish();
}

/** @internal Reads the SUBGROUP_HEADER fields after its type. */
export async function readSubgroupHeaderBody(
  reader: StreamReader,
  type: number,
): Promise<SubgroupHeader> {
  const trackAlias = await reader.varint();
  const groupId = await reader.varint();
  const mode = type & 0x06;
  const subgroupId = mode === 0x04 ? await reader.varint() : mode === 0 ? 0 : undefined;
  const publisherPriority = await reader.u8();
  return { headerType: type, trackAlias, groupId, subgroupId, publisherPriority };
}

/**
 * Reads a SUBGROUP_HEADER at the start of a unidirectional stream.
 *
 * @returns The header, or `undefined` if the stream ended before any byte
 * @throws {MoqParseError} If the stream type is not a subgroup type, or the header is cut
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { readSubgroupHeader, StreamReader } = draft14;
 * const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x19, 1, 7, 0])); c.close(); } });
 * assertEquals(await readSubgroupHeader(new StreamReader(s)), {
 *   headerType: 0x19,
 *   trackAlias: 1,
 *   groupId: 7,
 *   subgroupId: 0,
 *   publisherPriority: 0,
 * });
 * const empty = new ReadableStream<Uint8Array>({ start(c) { c.close(); } });
 * assertEquals(await readSubgroupHeader(new StreamReader(empty)), undefined);
 * ```
 */
export async function readSubgroupHeader(
  reader: StreamReader,
): Promise<SubgroupHeader | undefined> {
  const type = await reader.varintOrEnd();
  if (type === undefined) return undefined;
  if (!isSubgroupHeaderType(type)) {
    throw fail("subgroup header", `0x${type.toString(16)} is not a subgroup stream type`);
  }
  return await readSubgroupHeaderBody(reader, type);
}

/**
 * What {@link decodeSubgroupObject} returns when the buffered bytes end inside the object:
 * wait for more ({@linkcode StreamReader.fill}) and decode again.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SHORT } = draft14;
 * assertEquals(typeof SHORT, "symbol");
 * ```
 */
export const SHORT: unique symbol = Symbol("short");

/** Cursor of the synchronous decoder: where the next field starts in the reader's buffer. */
let at = 0;

/** The varint at `at`, advancing it, or -1 if it is not all buffered. */
function varintAt(buf: Uint8Array, end: number): number {
  if (at >= end) return -1;
  const size = varintLengthFromFirstByte(buf[at]);
  if (end - at < size) return -1;
  const value = readVarintUnchecked(buf, at, size);
  at += size;
  return value;
}

/**
 * Decodes the next object of a subgroup stream from the bytes `reader` has already buffered,
 * synchronously: no promise per field or per object. Consumes the object's bytes only when it
 * is complete; returns {@link SHORT} (consuming nothing) when it is not yet. Object IDs are
 * delta coded (draft-14 §10.4.2): the first object carries its ID, each later one
 * `id - previous - 1`. The payload and extensions are copies (the reader's buffer is reused),
 * carved from a shared slab (`byte_slab.ts`): no `ArrayBuffer` of their own per object.
 *
 * @param prevObjectId The previous object's ID on this stream, `undefined` for the first
 * @throws {MoqParseError} If a status is unknown, a Does-Not-Exist object has extensions, or a
 *   length exceeds {@link DataLimits} (as soon as the length itself is buffered)
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeSubgroupObject, SHORT, StreamReader } = draft14;
 * const bytes = new Uint8Array([0x00, 0x02, 0xaa, 0xbb, 0x00, 0x02, 0xcc]);
 * const reader = new StreamReader(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }));
 * const header = { headerType: 0x10, trackAlias: 1, groupId: 7, subgroupId: 0, publisherPriority: 0 };
 * await reader.fill();
 * assertEquals(decodeSubgroupObject(reader, header, undefined), { objectId: 0, status: 0, payload: new Uint8Array([0xaa, 0xbb]) });
 * assertEquals(decodeSubgroupObject(reader, header, 0) === SHORT, true); // the second object is cut
 * ```
 */
export function decodeSubgroupObject(
  reader: StreamReader,
  header: SubgroupHeader,
  prevObjectId: number | undefined,
): SubgroupObject | typeof SHORT {
  const buf = reader.buffer;
  const end = reader.end;
  at = reader.position;
  const delta = varintAt(buf, end);
  if (delta < 0) return SHORT;
  const objectId = prevObjectId === undefined ? delta : prevObjectId + delta + 1;
  if (objectId > MAX_VARINT) throw fail("subgroup object", "object ID overflows");
  let extStart = 0;
  let extLength = 0;
  if ((header.headerType & 0x01) !== 0) {
    extLength = varintAt(buf, end);
    if (extLength < 0) return SHORT;
    if (extLength > DataLimits.MAX_EXTENSIONS_LENGTH) {
      throw fail("subgroup object", `extension headers of ${extLength} bytes exceed the limit`);
    }
    if (end - at < extLength) return SHORT;
    extStart = at;
    at += extLength;
  }
  const payloadLength = varintAt(buf, end);
  if (payloadLength < 0) return SHORT;
  let status: number = ObjectStatus.NORMAL;
  let payload = EMPTY;
  if (payloadLength === 0) {
    status = varintAt(buf, end);
    if (status < 0) return SHORT;
    checkStatus("subgroup object", status);
    if (status === ObjectStatus.DOES_NOT_EXIST && extLength > 0) {
      throw fail("subgroup object", "a Does-Not-Exist object carries extension headers");
    }
  } else {
    if (payloadLength > DataLimits.MAX_PAYLOAD_LENGTH) {
      throw fail("subgroup object", `payload of ${payloadLength} bytes exceeds the limit`);
    }
    if (end - at < payloadLength) return SHORT;
    payload = objectBytes.copy(buf, at, at + payloadLength);
    at += payloadLength;
  }
  reader.consume(at - reader.position);
  if (header.subgroupId === undefined) header.subgroupId = objectId;
  const obj: SubgroupObject = { objectId, status, payload };
  if (extLength > 0) obj.extensions = objectBytes.copy(buf, extStart, extStart + extLength);
  return obj;
}

/**
 * Reads the next object of a subgroup stream: {@link decodeSubgroupObject}, waiting for more
 * bytes only while the object is short.
 *
 * @param prevObjectId The previous object's ID on this stream, `undefined` for the first
 * @returns The object, or `undefined` if the stream ended cleanly between objects
 * @throws {MoqParseError} If the stream ends mid-object, a status is unknown, a
 *   Does-Not-Exist object has extensions, or a length exceeds {@link DataLimits}
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { readSubgroupHeader, readSubgroupObject, StreamReader } = draft14;
 * const bytes = new Uint8Array([0x10, 1, 7, 0, 0x00, 0x02, 0xaa, 0xbb]);
 * const reader = new StreamReader(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }));
 * const header = (await readSubgroupHeader(reader))!;
 * assertEquals(await readSubgroupObject(reader, header, undefined), {
 *   objectId: 0,
 *   status: 0,
 *   payload: new Uint8Array([0xaa, 0xbb]),
 * });
 * ```
 */
export async function readSubgroupObject(
  reader: StreamReader,
  header: SubgroupHeader,
  prevObjectId: number | undefined,
): Promise<SubgroupObject | undefined> {
  for (;;) {
    const object = decodeSubgroupObject(reader, header, prevObjectId);
    if (object !== SHORT) return object;
    if (await reader.fill()) continue;
    if (reader.buffered === 0) return undefined;
    throw fail("subgroup object", "the stream ended in the middle of an object");
  }
}

/**
 * Encodes the header fields of a subgroup object (everything but the payload), so the
 * payload can be written after it without a copy.
 *
 * @param headerType The stream's SUBGROUP_HEADER type (decides whether extensions are written)
 * @param prevObjectId The previous object's ID on this stream, `undefined` for the first
 * @param obj The object; only `payload.length` of its payload is used
 * @param scratch Optional buffer to encode into; the result is a view of it when it fits
 * @throws {RangeError} If IDs do not increase, or the object cannot be carried by this stream type
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeSubgroupObjectHeader, ObjectStatus } = draft14;
 * const payload = new Uint8Array(160);
 * const head = encodeSubgroupObjectHeader(0x10, 4, { objectId: 5, status: ObjectStatus.NORMAL, payload });
 * assertEquals(head, new Uint8Array([0x00, 0x40, 0xa0]));
 * ```
 */
export function encodeSubgroupObjectHeader(
  headerType: number,
  prevObjectId: number | undefined,
  obj: SubgroupObject,
  scratch?: Uint8Array,
): Uint8Array {
  const delta = prevObjectId === undefined ? obj.objectId : obj.objectId - prevObjectId - 1;
  if (delta < 0) {
    throw new RangeError(
      `Cannot encode subgroup object: ID ${obj.objectId} does not follow ${prevObjectId}`,
    );
  }
  checkObjectForEncode("subgroup object", obj);
  const withExtensions = (headerType & 0x01) !== 0;
  const ext = obj.extensions ?? EMPTY;
  if (!withExtensions && ext.length > 0) {
    throw new RangeError("Cannot encode subgroup object: this stream type carries no extensions");
  }
  const payloadLength = obj.payload.length;
  const size = varintSize(delta) +
    (withExtensions ? varintSize(ext.length) + ext.length : 0) +
    varintSize(payloadLength) + (payloadLength === 0 ? varintSize(obj.status) : 0);
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  let pos = writeVarint(out, 0, delta);
  if (withExtensions) {
    pos = writeVarint(out, pos, ext.length);
    out.set(ext, pos);
    pos += ext.length;
  }
  pos = writeVarint(out, pos, payloadLength);
  if (payloadLength === 0) writeVarint(out, pos, obj.status);
  return out;
}

/**
 * Encodes a whole subgroup object, header fields then payload, into one new array.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeSubgroupObject, ObjectStatus } = draft14;
 * const object = encodeSubgroupObject(0x10, undefined, { objectId: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([1]) });
 * assertEquals(object, new Uint8Array([0x00, 0x01, 0x01])); // object id delta, length, payload
 * ```
 */
export function encodeSubgroupObject(
  headerType: number,
  prevObjectId: number | undefined,
  obj: SubgroupObject,
): Uint8Array {
  const head = encodeSubgroupObjectHeader(headerType, prevObjectId, obj);
  const out = new Uint8Array(head.length + obj.payload.length);
  out.set(head, 0);
  out.set(obj.payload, head.length);
  return out;
}
