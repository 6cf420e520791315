/**
 * The draft-14 data plane (§10): subgroup streams, fetch streams, object datagrams and
 * object extension headers.
 *
 * Relays pass extension headers through unparsed: every object keeps them as the raw
 * bytes of its Extension Headers block (`extensions`), which can be forwarded as they are.
 * {@link decodeExtensions} and the timestamp helpers parse them when needed.
 *
 * Hot path: object headers encode into a few bytes ({@link encodeSubgroupObjectHeader},
 * optionally into a caller's scratch buffer) so the payload can be written to the stream
 * separately without a copy; decoded payloads are views of the received chunk.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import { BufferReader, BufferWriter } from "./buffer.ts";
import { type ParameterValue, readKeyValuePair, writeKeyValuePair } from "./parameters.ts";
import type { StreamReader } from "./stream_reader.ts";
import { MAX_VARINT, varintSize, writeVarint } from "./varint.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Unidirectional stream type of a FETCH_HEADER (draft-14 Table 4). Subgroup headers use
 * 0x10–0x15 and 0x18–0x1D.
 *
 * @example
 * ```ts
 * import { FETCH_HEADER_TYPE } from "./data.ts";
 * console.log(FETCH_HEADER_TYPE); // 5
 * ```
 */
export const FETCH_HEADER_TYPE = 0x05;

/**
 * Object Status values (draft-14 §10.2.1.1). 0x2 is unassigned.
 *
 * @example
 * ```ts
 * import { ObjectStatus } from "./data.ts";
 * console.log(ObjectStatus.END_OF_GROUP); // 3
 * ```
 */
export const ObjectStatus = {
  NORMAL: 0x0,
  DOES_NOT_EXIST: 0x1,
  END_OF_GROUP: 0x3,
  END_OF_TRACK: 0x4,
} as const;

/**
 * Object extension header types. TIMESTAMP (0x10) is not in draft-14: it is the LOC /
 * MOQ Properties timestamp that @moq/net 0.3.4 puts on every object (in its track's
 * timescale, milliseconds by default; on draft-14 its subscribers ignore it, having no
 * TIMESCALE property to read it in).
 *
 * @example
 * ```ts
 * import { ExtensionType } from "./data.ts";
 * console.log(ExtensionType.PRIOR_GROUP_ID_GAP); // 60
 * ```
 */
export const ExtensionType = {
  IMMUTABLE_EXTENSIONS: 0x0b,
  TIMESTAMP: 0x10,
  PRIOR_GROUP_ID_GAP: 0x3c,
  PRIOR_OBJECT_ID_GAP: 0x3e,
} as const;

/**
 * Implementation limits on a data stream, beyond which a peer is treated as hostile
 * (PROTOCOL_VIOLATION). Draft-14 sets no maximum for either.
 *
 * @example
 * ```ts
 * import { DataLimits } from "./data.ts";
 * console.log(DataLimits.MAX_PAYLOAD_LENGTH); // 16777216
 * ```
 */
export const DataLimits = {
  /** Largest object payload accepted: 16 MiB. */
  MAX_PAYLOAD_LENGTH: 16 * 1024 * 1024,
  /** Largest Extension Headers block accepted: 64 KiB. */
  MAX_EXTENSIONS_LENGTH: 64 * 1024,
} as const;

/**
 * Where a subgroup stream's Subgroup ID comes from (draft-14 Table 7).
 *
 * @example
 * ```ts
 * import type { SubgroupIdMode } from "./data.ts";
 * const mode: SubgroupIdMode = "zero";
 * ```
 */
export type SubgroupIdMode = "zero" | "first_object" | "explicit";

/**
 * The meaning of the bits of a SUBGROUP_HEADER type.
 *
 * @example
 * ```ts
 * import type { SubgroupHeaderFlags } from "./data.ts";
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
 * import { subgroupHeaderType } from "./data.ts";
 * console.log(subgroupHeaderType({ subgroupIdMode: "zero", extensions: true, endOfGroup: true })); // 25
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
 * import { parseSubgroupHeaderType } from "./data.ts";
 * console.log(parseSubgroupHeaderType(0x14)); // { subgroupIdMode: "explicit", extensions: false, endOfGroup: false }
 * console.log(parseSubgroupHeaderType(0x16)); // undefined
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
 * import { isSubgroupHeaderType } from "./data.ts";
 * console.log(isSubgroupHeaderType(0x19), isSubgroupHeaderType(0x1e)); // true false
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
 * import type { SubgroupHeader } from "./data.ts";
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
 * An object read from, or written to, a subgroup stream.
 *
 * @example
 * ```ts
 * import { ObjectStatus, type SubgroupObject } from "./data.ts";
 * const o: SubgroupObject = { objectId: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array(160) };
 * ```
 */
export interface SubgroupObject {
  /** The Object ID. */
  objectId: number;
  /** {@link ObjectStatus}; anything but NORMAL has an empty payload. */
  status: number;
  /** The object's payload bytes. */
  payload: Uint8Array;
  /** The raw Extension Headers block, absent when empty. */
  extensions?: Uint8Array;
}

function fail(what: string, reason: string): MoqParseError {
  return new MoqParseError(`Cannot decode ${what}: ${reason}`);
}

function checkStatus(what: string, status: number): void {
  if (status !== 0 && status !== 1 && status !== 3 && status !== 4) {
    throw fail(what, `unknown object status ${status}`);
  }
}

/**
 * Encodes a SUBGROUP_HEADER, stream type included.
 *
 * @throws {RangeError} If `subgroupId` does not fit the header type
 * @example
 * ```ts
 * import { encodeSubgroupHeader } from "./data.ts";
 * console.log(encodeSubgroupHeader({ headerType: 0x14, trackAlias: 2, groupId: 0, subgroupId: 0, publisherPriority: 0 }));
 * // Uint8Array [0x14, 0x02, 0x00, 0x00, 0x00]
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

async function readSubgroupHeaderBody(reader: StreamReader, type: number): Promise<SubgroupHeader> {
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
 * import { readSubgroupHeader } from "./data.ts";
 * import { StreamReader } from "./stream_reader.ts";
 * const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x19, 1, 7, 0])); c.close(); } });
 * console.log(await readSubgroupHeader(new StreamReader(s)));
 * // { headerType: 25, trackAlias: 1, groupId: 7, subgroupId: 0, publisherPriority: 0 }
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
 * The header of any draft-14 unidirectional data stream.
 *
 * @example
 * ```ts
 * import type { DataStreamHeader } from "./data.ts";
 * const h: DataStreamHeader = { type: "fetch", requestId: 2 };
 * ```
 */
export type DataStreamHeader =
  | { type: "subgroup"; header: SubgroupHeader }
  | { type: "fetch"; requestId: number };

/**
 * Reads the header of a unidirectional data stream: a SUBGROUP_HEADER or a FETCH_HEADER.
 *
 * @returns The header, or `undefined` if the stream ended before any byte
 * @throws {MoqParseError} For an unknown stream type (the draft says to close the session)
 * @example
 * ```ts
 * import { readDataStreamHeader } from "./data.ts";
 * import { StreamReader } from "./stream_reader.ts";
 * const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x05, 0x02])); c.close(); } });
 * console.log(await readDataStreamHeader(new StreamReader(s))); // { type: "fetch", requestId: 2 }
 * ```
 */
export async function readDataStreamHeader(
  reader: StreamReader,
): Promise<DataStreamHeader | undefined> {
  const type = await reader.varintOrEnd();
  if (type === undefined) return undefined;
  if (type === FETCH_HEADER_TYPE) return { type: "fetch", requestId: await reader.varint() };
  if (!isSubgroupHeaderType(type)) {
    throw fail("data stream", `unknown stream type 0x${type.toString(16)}`);
  }
  return { type: "subgroup", header: await readSubgroupHeaderBody(reader, type) };
}

/**
 * Reads the next object of a subgroup stream. Object IDs are delta coded (draft-14
 * §10.4.2): the first object carries its ID, each later one `id - previous - 1`.
 *
 * @param prevObjectId The previous object's ID on this stream, `undefined` for the first
 * @returns The object, or `undefined` if the stream ended cleanly between objects
 * @throws {MoqParseError} If the stream ends mid-object, a status is unknown, a
 *   Does-Not-Exist object has extensions, or a length exceeds {@link DataLimits}
 * @example
 * ```ts
 * import { readSubgroupHeader, readSubgroupObject } from "./data.ts";
 * import { StreamReader } from "./stream_reader.ts";
 * const bytes = new Uint8Array([0x10, 1, 7, 0, 0x00, 0x02, 0xaa, 0xbb]);
 * const reader = new StreamReader(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }));
 * const header = (await readSubgroupHeader(reader))!;
 * console.log(await readSubgroupObject(reader, header, undefined));
 * // { objectId: 0, status: 0, payload: Uint8Array [0xaa, 0xbb] }
 * ```
 */
export async function readSubgroupObject(
  reader: StreamReader,
  header: SubgroupHeader,
  prevObjectId: number | undefined,
): Promise<SubgroupObject | undefined> {
  const delta = await reader.varintOrEnd();
  if (delta === undefined) return undefined;
  const objectId = prevObjectId === undefined ? delta : prevObjectId + delta + 1;
  if (objectId > MAX_VARINT) throw fail("subgroup object", "object ID overflows");
  if (header.subgroupId === undefined) header.subgroupId = objectId;
  let extensions: Uint8Array | undefined;
  if ((header.headerType & 0x01) !== 0) {
    const length = await reader.varint();
    if (length > DataLimits.MAX_EXTENSIONS_LENGTH) {
      throw fail("subgroup object", `extension headers of ${length} bytes exceed the limit`);
    }
    if (length > 0) extensions = await reader.bytes(length);
  }
  const payloadLength = await reader.varint();
  return await readStatusAndPayload(reader, "subgroup object", objectId, payloadLength, extensions);
}

async function readStatusAndPayload(
  reader: StreamReader,
  what: string,
  objectId: number,
  payloadLength: number,
  extensions: Uint8Array | undefined,
): Promise<SubgroupObject> {
  let status: number = ObjectStatus.NORMAL;
  let payload = EMPTY;
  if (payloadLength === 0) {
    status = await reader.varint();
    checkStatus(what, status);
    if (status === ObjectStatus.DOES_NOT_EXIST && extensions) {
      throw fail(what, "a Does-Not-Exist object carries extension headers");
    }
  } else {
    if (payloadLength > DataLimits.MAX_PAYLOAD_LENGTH) {
      throw fail(what, `payload of ${payloadLength} bytes exceeds the limit`);
    }
    payload = await reader.bytes(payloadLength);
  }
  const obj: SubgroupObject = { objectId, status, payload };
  if (extensions) obj.extensions = extensions;
  return obj;
}

function checkObjectForEncode(
  what: string,
  obj: { status: number; payload: Uint8Array; extensions?: Uint8Array },
): void {
  if (obj.status !== ObjectStatus.NORMAL && obj.payload.length > 0) {
    throw new RangeError(`Cannot encode ${what}: only a Normal object has a payload`);
  }
  if (![0, 1, 3, 4].includes(obj.status)) {
    throw new RangeError(`Cannot encode ${what}: unknown object status ${obj.status}`);
  }
  if (obj.status === ObjectStatus.DOES_NOT_EXIST && obj.extensions?.length) {
    throw new RangeError(`Cannot encode ${what}: a Does-Not-Exist object has no extensions`);
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
 * import { encodeSubgroupObjectHeader, ObjectStatus } from "./data.ts";
 * const payload = new Uint8Array(160);
 * const head = encodeSubgroupObjectHeader(0x10, 4, { objectId: 5, status: ObjectStatus.NORMAL, payload });
 * console.log(head); // Uint8Array [0x00, 0x40, 0xa0]
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
 * import { encodeSubgroupObject, ObjectStatus } from "./data.ts";
 * console.log(encodeSubgroupObject(0x10, undefined, { objectId: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([1]) }));
 * // Uint8Array [0x00, 0x01, 0x01]
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

// -----------------------------------------------------------------------------------------
// Datagrams

/**
 * An OBJECT_DATAGRAM (draft-14 §10.3.1). `status` other than NORMAL is sent as a status
 * datagram (types 0x20/0x21), which has no payload and no End-Of-Group variant.
 *
 * @example
 * ```ts
 * import { ObjectStatus, type ObjectDatagram } from "./data.ts";
 * const d: ObjectDatagram = {
 *   trackAlias: 1, groupId: 9, objectId: 0, publisherPriority: 128, endOfGroup: false,
 *   status: ObjectStatus.NORMAL, payload: new Uint8Array(160),
 * };
 * ```
 */
export interface ObjectDatagram {
  /** The Track Alias of the track the object belongs to. */
  trackAlias: number;
  /** The Group ID. */
  groupId: number;
  /** The Object ID. */
  objectId: number;
  /** The Publisher Priority, 0..255, lower is more important. */
  publisherPriority: number;
  /** This object is the last of its group (payload types 0x02, 0x03, 0x06, 0x07). */
  endOfGroup: boolean;
  /** {@link ObjectStatus}; anything but NORMAL is sent as a status datagram, without payload. */
  status: number;
  /** The object's payload bytes. */
  payload: Uint8Array;
  /** The raw Extension Headers block, absent when empty. */
  extensions?: Uint8Array;
}

/**
 * Decodes an OBJECT_DATAGRAM. The payload and extensions are views of `bytes`.
 *
 * @throws {MoqParseError} For an unknown datagram type, truncation, an empty extensions
 *   block with the extensions bit set, an unknown status or trailing bytes after a status
 * @example
 * ```ts
 * import { decodeDatagram } from "./data.ts";
 * console.log(decodeDatagram(new Uint8Array([0x04, 1, 9, 0x80, 0xaa])));
 * // { trackAlias: 1, groupId: 9, objectId: 0, publisherPriority: 128, endOfGroup: false, status: 0, payload: Uint8Array [0xaa] }
 * ```
 */
export function decodeDatagram(bytes: Uint8Array): ObjectDatagram {
  const r = new BufferReader(bytes, "datagram");
  const type = r.varint();
  if (!(type <= 0x07 || type === 0x20 || type === 0x21)) {
    throw r.error(`unknown datagram type 0x${type.toString(16)}`);
  }
  const statusForm = type >= 0x20;
  const trackAlias = r.varint();
  const groupId = r.varint();
  const objectId = !statusForm && (type & 0x04) !== 0 ? 0 : r.varint();
  const publisherPriority = r.u8();
  let extensions: Uint8Array | undefined;
  if ((type & 0x01) !== 0) {
    const length = r.varint();
    if (length === 0) throw r.error("extensions flagged but the block is empty");
    extensions = r.bytes(length);
  }
  const d: ObjectDatagram = {
    trackAlias,
    groupId,
    objectId,
    publisherPriority,
    endOfGroup: !statusForm && (type & 0x02) !== 0,
    status: ObjectStatus.NORMAL,
    payload: EMPTY,
  };
  if (statusForm) {
    d.status = r.varint();
    checkStatus("datagram", d.status);
    if (d.status === ObjectStatus.DOES_NOT_EXIST && extensions) {
      throw r.error("a Does-Not-Exist object carries extension headers");
    }
    r.expectEnd();
  } else {
    d.payload = r.rest();
  }
  if (extensions) d.extensions = extensions;
  return d;
}

/**
 * Encodes an OBJECT_DATAGRAM, picking the most compact type: Object ID omitted when 0,
 * extensions flagged only when non-empty, a status datagram when `status` is not NORMAL.
 *
 * @throws {RangeError} If the datagram cannot be carried (payload with a status, or
 *   End Of Group on a status datagram)
 * @example
 * ```ts
 * import { encodeDatagram, ObjectStatus } from "./data.ts";
 * console.log(encodeDatagram({
 *   trackAlias: 1, groupId: 9, objectId: 0, publisherPriority: 128, endOfGroup: false,
 *   status: ObjectStatus.NORMAL, payload: new Uint8Array([0xaa]),
 * })); // Uint8Array [0x04, 0x01, 0x09, 0x80, 0xaa]
 * ```
 */
export function encodeDatagram(d: ObjectDatagram): Uint8Array {
  checkObjectForEncode("datagram", d);
  const ext = d.extensions ?? EMPTY;
  const statusForm = d.status !== ObjectStatus.NORMAL;
  if (statusForm && d.endOfGroup) {
    throw new RangeError("Cannot encode datagram: a status datagram has no End Of Group flag");
  }
  let type = ext.length > 0 ? 0x01 : 0;
  if (statusForm) type |= 0x20;
  else {
    if (d.endOfGroup) type |= 0x02;
    if (d.objectId === 0) type |= 0x04;
  }
  const w = new BufferWriter(16 + ext.length + d.payload.length);
  w.varint(type).varint(d.trackAlias).varint(d.groupId);
  if (statusForm || d.objectId !== 0) w.varint(d.objectId);
  w.u8(d.publisherPriority);
  if (ext.length > 0) w.varint(ext.length).bytes(ext);
  if (statusForm) w.varint(d.status);
  else w.bytes(d.payload);
  return w.finish();
}

// -----------------------------------------------------------------------------------------
// Fetch streams

/**
 * An object on a fetch stream (draft-14 Figure 35).
 *
 * @example
 * ```ts
 * import { ObjectStatus, type FetchObject } from "./data.ts";
 * const o: FetchObject = { groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array(4) };
 * ```
 */
export interface FetchObject extends SubgroupObject {
  /** The Group ID. */
  groupId: number;
  /** For objects with Datagram forwarding preference, the Object ID. */
  subgroupId: number;
  /** The Publisher Priority, 0..255, lower is more important. */
  publisherPriority: number;
}

/**
 * Encodes a FETCH_HEADER, stream type included.
 *
 * @example
 * ```ts
 * import { encodeFetchHeader } from "./data.ts";
 * console.log(encodeFetchHeader(2)); // Uint8Array [0x05, 0x02]
 * ```
 */
export function encodeFetchHeader(requestId: number): Uint8Array {
  return new BufferWriter(9).varint(FETCH_HEADER_TYPE).varint(requestId).finish();
}

/**
 * Reads the next object of a fetch stream (after its header).
 *
 * @returns The object, or `undefined` if the stream ended cleanly between objects
 * @example
 * ```ts
 * import { encodeFetchObject, readFetchObject, ObjectStatus } from "./data.ts";
 * import { StreamReader } from "./stream_reader.ts";
 * const bytes = encodeFetchObject({ groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([9]) });
 * const reader = new StreamReader(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }));
 * console.log((await readFetchObject(reader))?.objectId); // 1
 * ```
 */
export async function readFetchObject(reader: StreamReader): Promise<FetchObject | undefined> {
  const groupId = await reader.varintOrEnd();
  if (groupId === undefined) return undefined;
  const subgroupId = await reader.varint();
  const objectId = await reader.varint();
  const publisherPriority = await reader.u8();
  const length = await reader.varint();
  if (length > DataLimits.MAX_EXTENSIONS_LENGTH) {
    throw fail("fetch object", `extension headers of ${length} bytes exceed the limit`);
  }
  const extensions = length > 0 ? await reader.bytes(length) : undefined;
  const payloadLength = await reader.varint();
  const obj = await readStatusAndPayload(
    reader,
    "fetch object",
    objectId,
    payloadLength,
    extensions,
  );
  return { groupId, subgroupId, publisherPriority, ...obj };
}

/**
 * Encodes the header fields of a fetch object (everything but the payload).
 *
 * @example
 * ```ts
 * import { encodeFetchObjectHeader, ObjectStatus } from "./data.ts";
 * console.log(encodeFetchObjectHeader({ groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 0, status: ObjectStatus.END_OF_GROUP, payload: new Uint8Array() }));
 * // Uint8Array [3, 0, 1, 0, 0, 0, 3]
 * ```
 */
export function encodeFetchObjectHeader(obj: FetchObject): Uint8Array {
  checkObjectForEncode("fetch object", obj);
  const ext = obj.extensions ?? EMPTY;
  const w = new BufferWriter(24 + ext.length);
  w.varint(obj.groupId).varint(obj.subgroupId).varint(obj.objectId).u8(obj.publisherPriority);
  w.varint(ext.length).bytes(ext).varint(obj.payload.length);
  if (obj.payload.length === 0) w.varint(obj.status);
  return w.finish();
}

/**
 * Encodes a whole fetch object into one new array.
 *
 * @example
 * ```ts
 * import { encodeFetchObject, ObjectStatus } from "./data.ts";
 * const bytes = encodeFetchObject({ groupId: 0, subgroupId: 0, objectId: 0, publisherPriority: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([1]) });
 * console.log(bytes); // Uint8Array [0, 0, 0, 0, 0, 1, 1]
 * ```
 */
export function encodeFetchObject(obj: FetchObject): Uint8Array {
  const head = encodeFetchObjectHeader(obj);
  const out = new Uint8Array(head.length + obj.payload.length);
  out.set(head, 0);
  out.set(obj.payload, head.length);
  return out;
}

// -----------------------------------------------------------------------------------------
// Extension headers

/**
 * One object extension header (a Key-Value-Pair: number for even types, bytes for odd).
 *
 * @example
 * ```ts
 * import type { ExtensionHeader } from "./data.ts";
 * const h: ExtensionHeader = { type: 0x10, value: 1700000000000 };
 * ```
 */
export interface ExtensionHeader {
  /** The header type: even types carry a number, odd types bytes. */
  type: number;
  /** The header value: a number for even types, bytes for odd types. */
  value: ParameterValue;
}

/**
 * Parses an Extension Headers block into its headers, in order (duplicates kept).
 *
 * @throws {MoqParseError} If the block is not a sequence of well-formed Key-Value-Pairs
 * @example
 * ```ts
 * import { decodeExtensions } from "./data.ts";
 * console.log(decodeExtensions(new Uint8Array([0x3c, 0x02]))); // [{ type: 60, value: 2 }]
 * ```
 */
export function decodeExtensions(block: Uint8Array): ExtensionHeader[] {
  const r = new BufferReader(block, "extension headers");
  const out: ExtensionHeader[] = [];
  while (!r.atEnd) out.push(readKeyValuePair(r));
  return out;
}

/**
 * Builds an Extension Headers block.
 *
 * @example
 * ```ts
 * import { encodeExtensions } from "./data.ts";
 * console.log(encodeExtensions([{ type: 0x3c, value: 2 }])); // Uint8Array [0x3c, 0x02]
 * ```
 */
export function encodeExtensions(headers: readonly ExtensionHeader[]): Uint8Array {
  const w = new BufferWriter(16);
  for (const h of headers) writeKeyValuePair(w, h.type, h.value);
  return w.finish();
}

/**
 * Finds the TIMESTAMP extension (0x10) in an Extension Headers block.
 *
 * @returns The timestamp in the track's timescale, or `undefined` if absent
 * @throws {MoqParseError} If the block is malformed
 * @example
 * ```ts
 * import { encodeTimestampExtension, readTimestampExtension } from "./data.ts";
 * console.log(readTimestampExtension(encodeTimestampExtension(42))); // 42
 * ```
 */
export function readTimestampExtension(block: Uint8Array | undefined): number | undefined {
  if (!block || block.length === 0) return undefined;
  const r = new BufferReader(block, "extension headers");
  while (!r.atEnd) {
    const { type, value } = readKeyValuePair(r);
    if (type === ExtensionType.TIMESTAMP) return value as number;
  }
  return undefined;
}

/**
 * Builds an Extension Headers block holding only a TIMESTAMP extension, as @moq/net sends.
 *
 * @example
 * ```ts
 * import { encodeTimestampExtension } from "./data.ts";
 * console.log(encodeTimestampExtension(1000)); // Uint8Array [0x10, 0x43, 0xe8]
 * ```
 */
export function encodeTimestampExtension(timestamp: number): Uint8Array {
  return encodeExtensions([{ type: ExtensionType.TIMESTAMP, value: timestamp }]);
}
