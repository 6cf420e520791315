/**
 * Draft-14 control messages (draft-ietf-moq-transport-14 §9) as a discriminated union, with
 * their encoders and decoders.
 *
 * Every frame is `Message Type (i), Message Length (16), Message Payload`. (Draft-14's
 * figures for PUBLISH, PUBLISH_OK and PUBLISH_ERROR say `Length (i)`; that contradicts §9
 * and @moq/net 0.3.4 uses 16 bits for every message, as does this codec.)
 *
 * Namespaces and track names are UTF-8 strings. Draft-14 allows arbitrary bytes there; this
 * codec decodes them with fatal UTF-8 and rejects anything else as a PROTOCOL_VIOLATION.
 *
 * Where @moq/net 0.3.4 (our interop peer) departs from the draft text, the deviation is
 * noted on the field: see {@link UnsubscribeNamespace} and {@link SubscribeNamespace}.
 *
 * @module
 */
import { BufferReader, BufferWriter } from "../coding/buffer.ts";
import { MoqParseError } from "../../error.ts";
import type { StreamReader } from "../coding/stream_reader.ts";
import { MAX_CONTROL_PAYLOAD } from "./message_constants.ts";
import type { ControlMessage, ControlMessageKind } from "./message_types.ts";
import type { Codec, CodecTable } from "./message_codec.ts";
import { SETUP_CODECS } from "./messages_setup.ts";
import { SUBSCRIBE_CODECS } from "./messages_subscribe.ts";
import { PUBLISH_CODECS } from "./messages_publish.ts";
import { FETCH_CODECS } from "./messages_fetch.ts";
import { NAMESPACE_CODECS } from "./messages_namespace.ts";

export * from "./message_constants.ts";
export type * from "./message_types.ts";
export type { Location } from "../coding/buffer.ts";

const CODECS: CodecTable = {
  ...SETUP_CODECS,
  ...SUBSCRIBE_CODECS,
  ...PUBLISH_CODECS,
  ...FETCH_CODECS,
  ...NAMESPACE_CODECS,
};

const BY_CODE = new Map<number, Codec<ControlMessage>>();
for (const codec of Object.values(CODECS)) {
  BY_CODE.set(codec.code, codec as unknown as Codec<ControlMessage>);
}

/**
 * The wire type code of a message kind.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { messageTypeCode } = draft14;
 * assertEquals(messageTypeCode("subscribe_ok"), 4);
 * ```
 */
export function messageTypeCode(kind: ControlMessageKind): number {
  return CODECS[kind].code;
}

/**
 * Encodes the payload of a control message (without type and length).
 *
 * @throws {RangeError | TypeError} If a field cannot be carried on the wire
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeControlPayload } = draft14;
 * assertEquals(encodeControlPayload({ type: "unsubscribe", requestId: 4 }), new Uint8Array([4]));
 * ```
 */
export function encodeControlPayload(msg: ControlMessage): Uint8Array {
  const codec = CODECS[msg.type] as unknown as Codec<ControlMessage> | undefined;
  if (!codec) throw new TypeError(`Cannot encode control message: unknown type ${msg.type}`);
  const w = new BufferWriter(64);
  codec.write(w, msg);
  return w.finish();
}

/**
 * Encodes a full control message frame: type varint, 16-bit length, payload.
 *
 * @throws {RangeError} If the payload is longer than 65,535 bytes or a field is out of range
 * @throws {TypeError} If a field has the wrong kind
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeControlMessage } = draft14;
 * // Type 0x15, a 16-bit length of 1, the request id.
 * assertEquals(
 *   encodeControlMessage({ type: "max_request_id", requestId: 10 }),
 *   new Uint8Array([0x15, 0x00, 0x01, 0x0a]),
 * );
 * ```
 */
export function encodeControlMessage(msg: ControlMessage): Uint8Array {
  const codec = CODECS[msg.type] as unknown as Codec<ControlMessage> | undefined;
  if (!codec) throw new TypeError(`Cannot encode control message: unknown type ${msg.type}`);
  const w = new BufferWriter(64);
  w.varint(codec.code);
  const lengthAt = w.length;
  w.u16(0);
  codec.write(w, msg);
  const payload = w.length - lengthAt - 2;
  if (payload > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`Cannot encode ${codec.name}: payload of ${payload} bytes exceeds 65535`);
  }
  w.patchU16(lengthAt, payload);
  return w.finish();
}

/**
 * Decodes a control message payload of the given type. The payload must be consumed
 * exactly.
 *
 * @throws {MoqParseError} For an unknown type, malformed payload, trailing bytes or
 *   out-of-range enum values (PROTOCOL_VIOLATION unless stated otherwise)
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeControlMessage, MessageType } = draft14;
 * assertEquals(decodeControlMessage(MessageType.UNSUBSCRIBE, new Uint8Array([4])), {
 *   type: "unsubscribe",
 *   requestId: 4,
 * });
 * ```
 */
export function decodeControlMessage(type: number, payload: Uint8Array): ControlMessage {
  const codec = BY_CODE.get(type);
  if (!codec) {
    throw new MoqParseError(
      `Cannot decode control message: unknown message type 0x${type.toString(16)}`,
    );
  }
  const r = new BufferReader(payload, codec.name);
  const msg = codec.read(r);
  r.expectEnd();
  return msg;
}

/**
 * Reads the next control message from a control stream.
 *
 * @returns The message, or `undefined` if the stream ended cleanly between messages
 * @throws {MoqParseError} For truncated frames or malformed messages
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeControlMessage, readControlMessage, StreamReader } = draft14;
 *
 * const bytes = encodeControlMessage({ type: "goaway", newSessionUri: "" });
 * const reader = new StreamReader(new ReadableStream({
 *   start(c) { c.enqueue(bytes); c.close(); },
 * }));
 * assertEquals(await readControlMessage(reader), { type: "goaway", newSessionUri: "" });
 * assertEquals(await readControlMessage(reader), undefined);
 * ```
 */
export async function readControlMessage(
  reader: StreamReader,
): Promise<ControlMessage | undefined> {
  const type = await reader.varintOrEnd();
  if (type === undefined) return undefined;
  const length = await reader.u16();
  const payload = await reader.bytes(length);
  return decodeControlMessage(type, payload);
}
