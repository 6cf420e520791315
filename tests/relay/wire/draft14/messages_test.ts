import { assert, assertEquals, assertRejects, assertThrows, fail } from "@std/assert";
import { MoqError, MoqParseError } from "../../../../src/relay/error.ts";
import {
  SessionErrorCode,
  sessionErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import { BufferWriter } from "../../../../src/relay/wire/coding/buffer.ts";
import {
  type ControlMessage,
  type ControlMessageKind,
  decodeControlMessage,
  DRAFT14_VERSION,
  encodeControlMessage,
  encodeControlPayload,
  MessageType,
  messageTypeCode,
  readControlMessage,
  STREAM_COUNT_UNKNOWN,
  type SubscriptionFilter,
} from "../../../../src/relay/wire/draft14/messages.ts";
import { SetupParameter } from "../../../../src/relay/wire/draft14/parameters.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { byteByByte, concat, readerOf, rng } from "../_streams.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const ns = ["clutchcall", "room-42", "alice"];
const params = () =>
  new Map<number, number | Uint8Array>([[0x02, 5000], [0x03, new Uint8Array([3, 0, 1])]]);
const filters: SubscriptionFilter[] = [
  { type: "next_group_start" },
  { type: "largest_object" },
  { type: "absolute_start", start: { group: 0, object: 0 } },
  { type: "absolute_range", start: { group: 10, object: 3 }, endGroup: 10 },
  { type: "absolute_range", start: { group: 10, object: 3 }, endGroup: MAX },
];

/** Representative values of every message type, with edge cases. */
const samples: ControlMessage[] = [
  {
    type: "client_setup",
    versions: [0xff0dad02, 0xff0dad01, DRAFT14_VERSION],
    parameters: new Map<number, number | Uint8Array>([
      [SetupParameter.MAX_REQUEST_ID, 42069],
      [SetupParameter.MOQT_IMPLEMENTATION, new TextEncoder().encode("clutchcall")],
    ]),
  },
  { type: "client_setup", versions: [DRAFT14_VERSION], parameters: new Map() },
  {
    type: "server_setup",
    version: DRAFT14_VERSION,
    parameters: new Map([[SetupParameter.MAX_REQUEST_ID, 100]]),
  },
  { type: "goaway", newSessionUri: "" },
  { type: "goaway", newSessionUri: "https://relay2.example/moq?x=é" },
  { type: "max_request_id", requestId: 0 },
  { type: "max_request_id", requestId: MAX },
  { type: "requests_blocked", maximumRequestId: 64 },
  ...filters.map((filter, i): ControlMessage => ({
    type: "subscribe",
    requestId: i * 2,
    namespace: ns,
    name: "audio",
    subscriberPriority: i === 0 ? 0 : 255,
    groupOrder: i % 3,
    forward: i % 2 === 0,
    filter,
    parameters: i === 0 ? new Map() : params(),
  })),
  {
    type: "subscribe",
    requestId: MAX,
    namespace: ["x".repeat(100)],
    name: "",
    subscriberPriority: 128,
    groupOrder: 2,
    forward: true,
    filter: { type: "largest_object" },
    parameters: new Map(),
  },
  {
    type: "subscribe_ok",
    requestId: 0,
    trackAlias: 0,
    expires: 0,
    groupOrder: 2,
    parameters: new Map(),
  },
  {
    type: "subscribe_ok",
    requestId: 6,
    trackAlias: MAX,
    expires: 30000,
    groupOrder: 1,
    largest: { group: MAX, object: MAX },
    parameters: params(),
  },
  { type: "subscribe_error", requestId: 2, errorCode: 4, reason: "" },
  { type: "subscribe_error", requestId: 2, errorCode: MAX, reason: "ü".repeat(512) },
  {
    type: "subscribe_update",
    requestId: 8,
    subscriptionRequestId: 2,
    start: { group: 5, object: 1 },
    subscriberPriority: 7,
    forward: false,
    parameters: new Map(),
  },
  {
    type: "subscribe_update",
    requestId: 10,
    subscriptionRequestId: 2,
    start: { group: 5, object: 1 },
    endGroup: 5,
    subscriberPriority: 7,
    forward: true,
    parameters: params(),
  },
  { type: "unsubscribe", requestId: 2 },
  { type: "publish_done", requestId: 2, statusCode: 2, streamCount: 17, reason: "Track ended" },
  {
    type: "publish_done",
    requestId: 2,
    statusCode: 0,
    streamCount: STREAM_COUNT_UNKNOWN,
    reason: "",
  },
  {
    type: "publish",
    requestId: 1,
    namespace: ns,
    name: "audio",
    trackAlias: 9,
    groupOrder: 1,
    forward: true,
    parameters: new Map(),
  },
  {
    type: "publish",
    requestId: 3,
    namespace: ns,
    name: "video",
    trackAlias: 10,
    groupOrder: 2,
    largest: { group: 100, object: 0 },
    forward: false,
    parameters: params(),
  },
  ...filters.map((filter, i): ControlMessage => ({
    type: "publish_ok",
    requestId: 1 + i * 2,
    forward: i % 2 === 1,
    subscriberPriority: 10,
    groupOrder: 1 + (i % 2),
    filter,
    parameters: i === 0 ? new Map() : params(),
  })),
  { type: "publish_error", requestId: 1, errorCode: 4, reason: "Uninterested" },
  {
    type: "fetch",
    requestId: 12,
    subscriberPriority: 1,
    groupOrder: 0,
    fetch: {
      type: "standalone",
      namespace: ns,
      name: "audio",
      start: { group: 1, object: 0 },
      end: { group: 3, object: 0 },
    },
    parameters: new Map(),
  },
  {
    type: "fetch",
    requestId: 14,
    subscriberPriority: 1,
    groupOrder: 2,
    fetch: { type: "relative_joining", joiningRequestId: 2, joiningStart: 1 },
    parameters: params(),
  },
  {
    type: "fetch",
    requestId: 16,
    subscriberPriority: 1,
    groupOrder: 1,
    fetch: { type: "absolute_joining", joiningRequestId: 2, joiningStart: MAX },
    parameters: new Map(),
  },
  {
    type: "fetch_ok",
    requestId: 12,
    groupOrder: 1,
    endOfTrack: true,
    end: { group: 3, object: 0 },
    parameters: new Map(),
  },
  {
    type: "fetch_ok",
    requestId: 12,
    groupOrder: 2,
    endOfTrack: false,
    end: { group: MAX, object: 1 },
    parameters: params(),
  },
  { type: "fetch_error", requestId: 12, errorCode: 6, reason: "No objects" },
  { type: "fetch_cancel", requestId: 12 },
  {
    type: "track_status",
    requestId: 18,
    namespace: ns,
    name: "audio",
    subscriberPriority: 0,
    groupOrder: 2,
    forward: false,
    filter: { type: "largest_object" },
    parameters: new Map(),
  },
  {
    type: "track_status_ok",
    requestId: 18,
    trackAlias: 0,
    expires: 0,
    groupOrder: 2,
    largest: { group: 4, object: 9 },
    parameters: new Map(),
  },
  { type: "track_status_error", requestId: 18, errorCode: 4, reason: "No such track" },
  { type: "publish_namespace", requestId: 0, namespace: ns, parameters: new Map() },
  {
    type: "publish_namespace",
    requestId: 2,
    namespace: Array.from({ length: 32 }, (_, i) => `f${i}`),
    parameters: params(),
  },
  { type: "publish_namespace_ok", requestId: 0 },
  { type: "publish_namespace_error", requestId: 0, errorCode: 1, reason: "Unauthorized" },
  { type: "publish_namespace_done", namespace: ["a"] },
  { type: "publish_namespace_cancel", namespace: ns, errorCode: 0, reason: "" },
  {
    type: "subscribe_namespace",
    requestId: 4,
    namespacePrefix: ["clutchcall"],
    parameters: new Map(),
  },
  { type: "subscribe_namespace", requestId: 6, namespacePrefix: [], parameters: params() },
  { type: "subscribe_namespace_ok", requestId: 4 },
  { type: "subscribe_namespace_error", requestId: 4, errorCode: 5, reason: "Overlap" },
  { type: "unsubscribe_namespace", namespacePrefix: ["clutchcall", "room-42"] },
  { type: "unsubscribe_namespace", requestId: 4 },
  { type: "unsubscribe_namespace", requestId: MAX },
];

const ALL_KINDS: ControlMessageKind[] = [
  "client_setup",
  "server_setup",
  "goaway",
  "max_request_id",
  "requests_blocked",
  "subscribe",
  "subscribe_ok",
  "subscribe_error",
  "subscribe_update",
  "unsubscribe",
  "publish_done",
  "publish",
  "publish_ok",
  "publish_error",
  "fetch",
  "fetch_ok",
  "fetch_error",
  "fetch_cancel",
  "track_status",
  "track_status_ok",
  "track_status_error",
  "publish_namespace",
  "publish_namespace_ok",
  "publish_namespace_error",
  "publish_namespace_done",
  "publish_namespace_cancel",
  "subscribe_namespace",
  "subscribe_namespace_ok",
  "subscribe_namespace_error",
  "unsubscribe_namespace",
];

/** Splits a frame into its type and payload, checking the 16-bit length. */
function unframe(frame: Uint8Array): { type: number; payload: Uint8Array } {
  const type = frame[0];
  assert(type < 64, "all draft-14 message types fit one varint byte");
  const length = (frame[1] << 8) | frame[2];
  assertEquals(length, frame.length - 3);
  return { type, payload: frame.subarray(3) };
}

function roundTrip(msg: ControlMessage): ControlMessage {
  const { type, payload } = unframe(encodeControlMessage(msg));
  assertEquals(type, messageTypeCode(msg.type));
  return decodeControlMessage(type, payload);
}

Deno.test("every draft-14 control message type has a sample and a distinct code", () => {
  assertEquals(new Set(samples.map((m) => m.type)), new Set(ALL_KINDS));
  assertEquals(ALL_KINDS.length, 30);
  assertEquals(new Set(Object.values(MessageType)).size, 30);
  for (const kind of ALL_KINDS) {
    assert(Object.values(MessageType).includes(messageTypeCode(kind) as never), kind);
  }
});

Deno.test("every control message round-trips through encode and decode", () => {
  for (const msg of samples) assertEquals(roundTrip(msg), msg, msg.type);
});

Deno.test("control messages are read back in order from a control stream delivered byte by byte", async () => {
  const bytes = concat(...samples.map(encodeControlMessage));
  const reader = new StreamReader(byteByByte(bytes));
  for (const msg of samples) assertEquals(await readControlMessage(reader), msg);
  assertEquals(await readControlMessage(reader), undefined);
});

Deno.test("a control stream that ends inside a frame is a parse error", async () => {
  const frame = encodeControlMessage(samples[0]);
  for (const cut of [1, 2, frame.length - 1]) {
    await assertRejects(() => readControlMessage(readerOf(frame.subarray(0, cut))), MoqParseError);
  }
});

Deno.test("CLIENT_SETUP encodes byte for byte as hand-computed from draft-14 §9.3", () => {
  const bytes = encodeControlMessage({
    type: "client_setup",
    versions: [DRAFT14_VERSION],
    parameters: new Map([[SetupParameter.MAX_REQUEST_ID, 100]]),
  });
  assertEquals(
    bytes,
    new Uint8Array([
      0x20,
      0x00,
      0x0d, // type, length 13
      0x01,
      0xc0,
      0x00,
      0x00,
      0x00,
      0xff,
      0x00,
      0x00,
      0x0e, // 1 version: 0xff00000e as 8-byte varint
      0x01,
      0x02,
      0x40,
      0x64, // 1 parameter: MAX_REQUEST_ID = 100
    ]),
  );
});

Deno.test("SUBSCRIBE encodes byte for byte as hand-computed from draft-14 §9.7", () => {
  const bytes = encodeControlMessage({
    type: "subscribe",
    requestId: 2,
    namespace: ["a", "bc"],
    name: "d",
    subscriberPriority: 0x80,
    groupOrder: 2,
    forward: true,
    filter: { type: "absolute_range", start: { group: 5, object: 64 }, endGroup: 9 },
    parameters: new Map([[0x02, 1000]]),
  });
  assertEquals(
    bytes,
    new Uint8Array([
      0x03,
      0x00,
      0x15, // SUBSCRIBE, length 21
      0x02, // request id
      0x02,
      0x01,
      0x61,
      0x02,
      0x62,
      0x63, // namespace ("a", "bc")
      0x01,
      0x64, // name "d"
      0x80,
      0x02,
      0x01, // priority, group order, forward
      0x04,
      0x05,
      0x40,
      0x40,
      0x09, // AbsoluteRange {5, 64} end group 9
      0x01,
      0x02,
      0x43,
      0xe8, // DELIVERY_TIMEOUT = 1000
    ]),
  );
});

Deno.test("SUBSCRIBE_OK without content and PUBLISH_DONE encode byte for byte", () => {
  assertEquals(
    encodeControlMessage({
      type: "subscribe_ok",
      requestId: 0,
      trackAlias: 0,
      expires: 0,
      groupOrder: 2,
      parameters: new Map(),
    }),
    new Uint8Array([0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00]),
  );
  assertEquals(
    encodeControlMessage({
      type: "publish_done",
      requestId: 4,
      statusCode: 2,
      streamCount: STREAM_COUNT_UNKNOWN,
      reason: "ok",
    }),
    new Uint8Array([
      0x0b,
      0x00,
      0x0d,
      0x04,
      0x02,
      ...new Array(8).fill(0xff),
      0x02,
      0x6f,
      0x6b,
    ]),
  );
});

Deno.test("SUBSCRIBE_UPDATE carries End Group plus one, zero meaning open-ended", () => {
  const base = {
    type: "subscribe_update",
    requestId: 8,
    subscriptionRequestId: 2,
    start: { group: 5, object: 1 },
    subscriberPriority: 7,
    forward: true,
    parameters: new Map(),
  } as const;
  assertEquals(encodeControlPayload(base), new Uint8Array([8, 2, 5, 1, 0, 7, 1, 0]));
  assertEquals(
    encodeControlPayload({ ...base, endGroup: 5 }),
    new Uint8Array([8, 2, 5, 1, 6, 7, 1, 0]),
  );
});

Deno.test("UNSUBSCRIBE_NAMESPACE decodes both the draft-14 prefix and @moq/net's request ID", () => {
  assertEquals(decodeControlMessage(0x14, new Uint8Array([0x04])), {
    type: "unsubscribe_namespace",
    requestId: 4,
  });
  assertEquals(decodeControlMessage(0x14, new Uint8Array([0x01, 0x01, 0x61])), {
    type: "unsubscribe_namespace",
    namespacePrefix: ["a"],
  });
  assertThrows(() => encodeControlMessage({ type: "unsubscribe_namespace" }), TypeError);
  assertThrows(
    () =>
      encodeControlMessage({ type: "unsubscribe_namespace", requestId: 1, namespacePrefix: ["a"] }),
    TypeError,
  );
  assertThrows(
    () => encodeControlMessage({ type: "unsubscribe_namespace", namespacePrefix: [] }),
    RangeError,
  );
  assertThrows(() => decodeControlMessage(0x14, new Uint8Array()), MoqParseError);
});

// ---- Hostile input ------------------------------------------------------------------------

function expectParseError(
  type: number,
  payload: Uint8Array | number[],
  includes?: string,
  code = 3,
) {
  const err = assertThrows(
    () =>
      decodeControlMessage(type, payload instanceof Uint8Array ? payload : new Uint8Array(payload)),
    MoqParseError,
    includes,
  );
  assertEquals(sessionErrorCode(err), code, err.message);
  return err;
}

Deno.test("an unknown control message type is a protocol violation naming the type", () => {
  for (const type of [0x00, 0x01, 0x40, 0x41, 0x50, 0x2f00]) {
    const err = expectParseError(type, [], `unknown message type 0x${type.toString(16)}`);
    assertEquals(
      err.message,
      `Cannot decode control message: unknown message type 0x${type.toString(16)}`,
    );
  }
});

Deno.test("trailing bytes after any control message are a protocol violation", () => {
  for (const msg of samples) {
    const { type, payload } = unframe(encodeControlMessage(msg));
    if (msg.type === "unsubscribe_namespace") continue; // covered below: its length picks the form
    expectParseError(type, concat(payload, new Uint8Array([0])), "trailing bytes");
  }
  expectParseError(0x14, [0x01, 0x01, 0x61, 0x00], "trailing bytes");
});

Deno.test("every truncation of every control message is a parse error", () => {
  for (const msg of samples) {
    const { type, payload } = unframe(encodeControlMessage(msg));
    for (let cut = 0; cut < payload.length; cut++) {
      try {
        const decoded = decodeControlMessage(type, payload.subarray(0, cut));
        // Only UNSUBSCRIBE_NAMESPACE can legitimately read a prefix of itself as the other form.
        assertEquals(decoded.type, "unsubscribe_namespace", `${msg.type} cut at ${cut}`);
      } catch (err) {
        if (!(err instanceof MoqParseError)) fail(`${msg.type} cut at ${cut}: ${err}`);
      }
    }
  }
});

Deno.test("a length past the end of the message names the message", () => {
  const err = expectParseError(MessageType.SUBSCRIBE, [0x00, 0x01, 0x05, 0x61]);
  assertEquals(err.message, "Cannot decode SUBSCRIBE: length past the end of the message");
});

Deno.test("an unknown filter type is a protocol violation", () => {
  const payload = new BufferWriter().varint(0).tuple(["a"]).string("b").u8(0).u8(1).u8(1)
    .varint(5).varint(0).finish();
  expectParseError(MessageType.SUBSCRIBE, payload, "unknown filter type 5");
  const ok = new BufferWriter().varint(1).u8(1).u8(0).u8(1).varint(0).varint(0).finish();
  expectParseError(MessageType.PUBLISH_OK, ok, "unknown filter type 0");
});

Deno.test("an AbsoluteRange ending before its start is a protocol violation", () => {
  const payload = new BufferWriter().varint(0).tuple(["a"]).string("b").u8(0).u8(1).u8(1)
    .varint(4).varint(9).varint(0).varint(8).varint(0).finish();
  expectParseError(MessageType.SUBSCRIBE, payload, "before start group");
});

Deno.test("out-of-range enum bytes are protocol violations", () => {
  const sub = (order: number, forward: number) =>
    new BufferWriter().varint(0).tuple(["a"]).string("b").u8(0).u8(order).u8(forward).varint(2)
      .varint(0).finish();
  expectParseError(MessageType.SUBSCRIBE, sub(3, 1), "invalid group order 3");
  expectParseError(MessageType.SUBSCRIBE, sub(1, 2), "Forward must be 0 or 1");
  // SUBSCRIBE_OK's group order must be 1 or 2, and Content Exists 0 or 1.
  expectParseError(MessageType.SUBSCRIBE_OK, [0, 0, 0, 0, 0, 0], "invalid group order 0");
  expectParseError(MessageType.SUBSCRIBE_OK, [0, 0, 0, 1, 2, 0], "Content Exists must be 0 or 1");
  expectParseError(MessageType.FETCH_OK, [0, 1, 2, 0, 0, 0], "End Of Track must be 0 or 1");
  expectParseError(MessageType.FETCH, [0, 0, 0, 4, 0], "unknown fetch type 4");
});

Deno.test("oversized and empty namespace tuples are protocol violations", () => {
  const tooMany = new BufferWriter().varint(0).varint(33);
  for (let i = 0; i < 33; i++) tooMany.string("x");
  tooMany.varint(0);
  expectParseError(MessageType.PUBLISH_NAMESPACE, tooMany.finish(), "33 fields");
  expectParseError(MessageType.PUBLISH_NAMESPACE, [0, 0, 0], "0 fields");
  expectParseError(MessageType.PUBLISH_NAMESPACE_DONE, [0], "0 fields");
  assertThrows(
    () =>
      encodeControlMessage({
        type: "publish_namespace",
        requestId: 0,
        namespace: [],
        parameters: new Map(),
      }),
    RangeError,
  );
});

Deno.test("a full track name over 4096 bytes is a protocol violation", () => {
  const payload = new BufferWriter().varint(0).tuple(["a".repeat(2048)]).string("b".repeat(2049))
    .u8(0).u8(1).u8(1).varint(2).varint(0).finish();
  expectParseError(MessageType.SUBSCRIBE, payload, "longer than 4096");
  assertThrows(
    () =>
      encodeControlMessage({
        ...(samples.find((m) => m.type === "subscribe") as Extract<
          ControlMessage,
          { type: "subscribe" }
        >),
        namespace: ["a".repeat(2048)],
        name: "b".repeat(2049),
      }),
    RangeError,
  );
});

Deno.test("invalid UTF-8 in a namespace, track name or reason is a protocol violation", () => {
  const bad = new Uint8Array([0xc3, 0x28]);
  const inNs = new BufferWriter().varint(0).varint(1).lengthPrefixedBytes(bad).varint(0).finish();
  expectParseError(MessageType.PUBLISH_NAMESPACE, inNs, "invalid UTF-8");
  const inName = new BufferWriter().varint(0).tuple(["a"]).lengthPrefixedBytes(bad).u8(0).u8(1)
    .u8(1).varint(2).varint(0).finish();
  expectParseError(MessageType.SUBSCRIBE, inName, "invalid UTF-8");
  const inReason = new BufferWriter().varint(0).varint(0).lengthPrefixedBytes(bad).finish();
  expectParseError(MessageType.SUBSCRIBE_ERROR, inReason, "invalid UTF-8");
});

Deno.test("reason phrases over 1024 bytes and GOAWAY URIs over 8192 bytes are rejected", () => {
  const reason = new BufferWriter().varint(0).varint(0).string("r".repeat(1025)).finish();
  expectParseError(MessageType.SUBSCRIBE_ERROR, reason, "exceeds the maximum of 1024");
  const uri = new BufferWriter().string("u".repeat(8193)).finish();
  expectParseError(MessageType.GOAWAY, uri, "exceeds the maximum of 8192");
  assertThrows(
    () =>
      encodeControlMessage({
        type: "fetch_error",
        requestId: 0,
        errorCode: 0,
        reason: "r".repeat(1025),
      }),
    RangeError,
  );
});

Deno.test("a bad parameter length in a message is a key-value formatting error", () => {
  const payload = new BufferWriter().varint(0).tuple(["a"]).varint(1).varint(0x03).varint(9)
    .bytes(new Uint8Array(2)).finish();
  expectParseError(
    MessageType.PUBLISH_NAMESPACE,
    payload,
    "past the end",
    SessionErrorCode.KEY_VALUE_FORMATTING_ERROR,
  );
});

Deno.test("CLIENT_SETUP with no versions or a hostile version count is rejected", () => {
  expectParseError(MessageType.CLIENT_SETUP, [0, 0], "supported versions 0");
  expectParseError(MessageType.CLIENT_SETUP, [0x80, 0xff, 0xff, 0xff], "supported versions");
});

Deno.test("encoding a payload over 65535 bytes is a RangeError", () => {
  const huge = new Map<number, number | Uint8Array>();
  for (let i = 0; i < 3; i++) huge.set(0x41 + 2 * i, new Uint8Array(30000));
  assertThrows(
    () =>
      encodeControlMessage({
        type: "subscribe_namespace",
        requestId: 0,
        namespacePrefix: ["a"],
        parameters: huge,
      }),
    RangeError,
    "exceeds 65535",
  );
});

Deno.test("random bytes decoded as any message type only ever throw MoqParseError", () => {
  const random = rng(0xc1c7);
  const types = [...Object.values(MessageType), 0x00, 0x3f, 0x2f00];
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    const type = types[i % types.length];
    const len = Math.floor(random() * 40);
    const payload = new Uint8Array(len);
    for (let j = 0; j < len; j++) payload[j] = Math.floor(random() * 256);
    try {
      decodeControlMessage(type, payload);
      decoded++;
    } catch (err) {
      if (!(err instanceof MoqParseError)) {
        fail(`type 0x${type.toString(16)} payload ${payload}: ${err}`);
      }
      assert(err instanceof MoqError);
    }
  }
  assert(decoded > 0, "some random payloads are valid messages");
});

Deno.test("mutated valid messages only ever decode or throw MoqParseError", () => {
  const random = rng(14);
  for (let i = 0; i < 20000; i++) {
    const msg = samples[i % samples.length];
    const { type, payload } = unframe(encodeControlMessage(msg));
    const mutated = payload.slice();
    const flips = 1 + Math.floor(random() * 3);
    for (let f = 0; f < flips && mutated.length > 0; f++) {
      mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    }
    try {
      const decoded = decodeControlMessage(type, mutated);
      // Whatever decodes must re-encode without throwing.
      encodeControlMessage(decoded);
    } catch (err) {
      if (!(err instanceof MoqParseError)) fail(`${msg.type} mutated ${mutated}: ${err}`);
    }
  }
});
