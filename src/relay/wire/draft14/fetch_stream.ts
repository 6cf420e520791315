/**
 * Draft-14 fetch streams (§10.4.4): the FETCH_HEADER and the objects that follow it, each
 * with its full location.
 *
 * @module
 */
import { BufferWriter } from "../coding/buffer.ts";
import type { StreamReader } from "../coding/stream_reader.ts";
import {
  checkObjectForEncode,
  DataLimits,
  EMPTY,
  fail,
  readStatusAndPayload,
  type SubgroupObject,
} from "./data_object.ts";

/**
 * Unidirectional stream type of a FETCH_HEADER (draft-14 Table 4). Subgroup headers use
 * 0x10–0x15 and 0x18–0x1D.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { FETCH_HEADER_TYPE } = draft14;
 * assertEquals(FETCH_HEADER_TYPE, 5);
 * ```
 */
export const FETCH_HEADER_TYPE = 0x05;

/**
 * An object on a fetch stream (draft-14 Figure 35).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { ObjectStatus } = draft14;
 * type FetchObject = draft14.FetchObject;
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeFetchHeader } = draft14;
 * assertEquals(encodeFetchHeader(2), new Uint8Array([0x05, 0x02]));
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeFetchObject, readFetchObject, ObjectStatus, StreamReader } = draft14;
 * const bytes = encodeFetchObject({ groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([9]) });
 * const reader = new StreamReader(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }));
 * assertEquals((await readFetchObject(reader))?.objectId, 1);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeFetchObjectHeader, ObjectStatus } = draft14;
 * const header = encodeFetchObjectHeader({ groupId: 3, subgroupId: 0, objectId: 1, publisherPriority: 0, status: ObjectStatus.END_OF_GROUP, payload: new Uint8Array() });
 * assertEquals(header, new Uint8Array([3, 0, 1, 0, 0, 0, 3]));
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeFetchObject, ObjectStatus } = draft14;
 * const bytes = encodeFetchObject({ groupId: 0, subgroupId: 0, objectId: 0, publisherPriority: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array([1]) });
 * assertEquals(bytes, new Uint8Array([0, 0, 0, 0, 0, 1, 1]));
 * ```
 */
export function encodeFetchObject(obj: FetchObject): Uint8Array {
  const head = encodeFetchObjectHeader(obj);
  const out = new Uint8Array(head.length + obj.payload.length);
  out.set(head, 0);
  out.set(obj.payload, head.length);
  return out;
}
