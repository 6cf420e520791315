/**
 * Draft-14 object datagrams (§10.3): OBJECT_DATAGRAM and its status form.
 *
 * @module
 */
import { BufferReader, BufferWriter } from "../coding/buffer.ts";
import { checkObjectForEncode, checkStatus, EMPTY, ObjectStatus } from "./data_object.ts";

/**
 * An OBJECT_DATAGRAM (draft-14 §10.3.1). `status` other than NORMAL is sent as a status
 * datagram (types 0x20/0x21), which has no payload and no End-Of-Group variant.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { ObjectStatus } = draft14;
 * type ObjectDatagram = draft14.ObjectDatagram;
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeDatagram, ObjectStatus } = draft14;
 * assertEquals(decodeDatagram(new Uint8Array([0x04, 1, 9, 0x80, 0xaa])), {
 *   trackAlias: 1,
 *   groupId: 9,
 *   objectId: 0,
 *   publisherPriority: 128,
 *   endOfGroup: false,
 *   status: ObjectStatus.NORMAL,
 *   payload: new Uint8Array([0xaa]),
 * });
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeDatagram, ObjectStatus } = draft14;
 * const datagram = encodeDatagram({
 *   trackAlias: 1, groupId: 9, objectId: 0, publisherPriority: 128, endOfGroup: false,
 *   status: ObjectStatus.NORMAL, payload: new Uint8Array([0xaa]),
 * });
 * assertEquals(datagram, new Uint8Array([0x04, 0x01, 0x09, 0x80, 0xaa]));
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
