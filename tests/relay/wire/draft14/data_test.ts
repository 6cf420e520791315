import { assert, assertEquals, assertRejects, assertThrows, fail } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  decodeDatagram,
  decodeExtensions,
  encodeDatagram,
  encodeExtensions,
  encodeFetchHeader,
  encodeFetchObject,
  encodeSubgroupHeader,
  encodeSubgroupObject,
  encodeSubgroupObjectHeader,
  encodeTimestampExtension,
  ExtensionType,
  type ObjectDatagram,
  ObjectStatus,
  parseSubgroupHeaderType,
  readDataStreamHeader,
  readFetchObject,
  readSubgroupHeader,
  readSubgroupObject,
  readTimestampExtension,
  type SubgroupHeader,
  subgroupHeaderType,
  type SubgroupObject,
} from "../../../../src/relay/wire/draft14/data.ts";
import { StreamReader } from "../../../../src/relay/wire/draft14/stream_reader.ts";
import { byteByByte, concat, readerOf, rng } from "./_streams.ts";

const te = new TextEncoder();

Deno.test("subgroup header types follow draft-14 Table 7", () => {
  const valid = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d];
  for (let t = 0; t < 0x40; t++) {
    const flags = parseSubgroupHeaderType(t);
    assertEquals(flags !== undefined, valid.includes(t), `type 0x${t.toString(16)}`);
    if (flags) assertEquals(subgroupHeaderType(flags), t);
  }
  assertEquals(parseSubgroupHeaderType(0x19), {
    subgroupIdMode: "zero",
    extensions: true,
    endOfGroup: true,
  });
  assertEquals(parseSubgroupHeaderType(0x1b)?.subgroupIdMode, "first_object");
  assertEquals(parseSubgroupHeaderType(0x1c)?.subgroupIdMode, "explicit");
});

Deno.test("the draft-14 §10.5 example subgroup stream encodes byte for byte", () => {
  const header: SubgroupHeader = {
    headerType: 0x14,
    trackAlias: 2,
    groupId: 0,
    subgroupId: 0,
    publisherPriority: 0,
  };
  const objects: SubgroupObject[] = [
    { objectId: 0, status: ObjectStatus.NORMAL, payload: te.encode("abcd") },
    { objectId: 1, status: ObjectStatus.NORMAL, payload: te.encode("efgh") },
  ];
  const bytes = concat(
    encodeSubgroupHeader(header),
    encodeSubgroupObject(0x14, undefined, objects[0]),
    encodeSubgroupObject(0x14, 0, objects[1]),
  );
  assertEquals(
    bytes,
    new Uint8Array([
      0x14,
      0x02,
      0x00,
      0x00,
      0x00, // header
      0x00,
      0x04,
      ...te.encode("abcd"), // object 0: delta 0
      0x00,
      0x04,
      ...te.encode("efgh"), // object 1: delta 0
    ]),
  );
});

Deno.test("object IDs are delta coded: first absolute, then id minus previous minus one", () => {
  const obj = (objectId: number): SubgroupObject => ({
    objectId,
    status: ObjectStatus.NORMAL,
    payload: new Uint8Array([1]),
  });
  assertEquals(encodeSubgroupObjectHeader(0x10, undefined, obj(7))[0], 7);
  assertEquals(encodeSubgroupObjectHeader(0x10, 7, obj(8))[0], 0);
  assertEquals(encodeSubgroupObjectHeader(0x10, 7, obj(10))[0], 2);
  assertThrows(() => encodeSubgroupObjectHeader(0x10, 7, obj(7)), RangeError);
});

async function readAll(bytes: Uint8Array | ReadableStream<Uint8Array>) {
  const reader = bytes instanceof Uint8Array ? readerOf(bytes) : new StreamReader(bytes);
  const header = await readSubgroupHeader(reader);
  assert(header);
  const objects: SubgroupObject[] = [];
  let prev: number | undefined;
  for (;;) {
    const o = await readSubgroupObject(reader, header, prev);
    if (!o) break;
    objects.push(o);
    prev = o.objectId;
  }
  return { header, objects };
}

Deno.test("subgroup streams round-trip for every header type, including byte-by-byte delivery", async () => {
  const ext = concat(
    encodeTimestampExtension(123456),
    encodeExtensions([{ type: 0x4d, value: te.encode("trace") }]),
  );
  for (
    const headerType of [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d]
  ) {
    const flags = parseSubgroupHeaderType(headerType)!;
    const header: SubgroupHeader = {
      headerType,
      trackAlias: 300,
      groupId: Number.MAX_SAFE_INTEGER,
      subgroupId: flags.subgroupIdMode === "explicit"
        ? 9
        : flags.subgroupIdMode === "zero"
        ? 0
        : undefined,
      publisherPriority: 255,
    };
    const objects: SubgroupObject[] = [
      { objectId: 5, status: ObjectStatus.NORMAL, payload: new Uint8Array(160).fill(5) },
      { objectId: 6, status: ObjectStatus.NORMAL, payload: new Uint8Array() },
      { objectId: 9, status: ObjectStatus.DOES_NOT_EXIST, payload: new Uint8Array() },
      { objectId: 10, status: ObjectStatus.END_OF_GROUP, payload: new Uint8Array() },
    ];
    if (flags.extensions) {
      objects[0].extensions = ext;
      objects[3].extensions = ext;
    }
    let prev: number | undefined;
    const parts = [encodeSubgroupHeader(header)];
    for (const o of objects) {
      parts.push(encodeSubgroupObject(headerType, prev, o));
      prev = o.objectId;
    }
    const bytes = concat(...parts);
    const expectedHeader = { ...header, subgroupId: header.subgroupId ?? 5 };
    for (const source of [bytes, byteByByte(bytes)]) {
      const got = await readAll(source);
      assertEquals(got.header, expectedHeader, `0x${headerType.toString(16)}`);
      assertEquals(got.objects, objects, `0x${headerType.toString(16)}`);
    }
  }
});

Deno.test("an object header can be encoded into a scratch buffer, payload written separately", () => {
  const scratch = new Uint8Array(32);
  const payload = new Uint8Array(160);
  const head = encodeSubgroupObjectHeader(0x19, 3, {
    objectId: 4,
    status: ObjectStatus.NORMAL,
    payload,
    extensions: encodeTimestampExtension(1000),
  }, scratch);
  assertEquals(head.buffer, scratch.buffer);
  assertEquals(head, new Uint8Array([0x00, 0x03, 0x10, 0x43, 0xe8, 0x40, 0xa0]));
});

Deno.test("encoding refuses extensions on a stream type without them and payloads with a status", () => {
  assertThrows(
    () =>
      encodeSubgroupObjectHeader(0x10, undefined, {
        objectId: 0,
        status: 0,
        payload: new Uint8Array(1),
        extensions: new Uint8Array([0x10, 0x01]),
      }),
    RangeError,
  );
  assertThrows(
    () =>
      encodeSubgroupObjectHeader(0x10, undefined, {
        objectId: 0,
        status: 3,
        payload: new Uint8Array(1),
      }),
    RangeError,
  );
  assertThrows(
    () =>
      encodeSubgroupHeader({
        headerType: 0x16,
        trackAlias: 0,
        groupId: 0,
        subgroupId: 0,
        publisherPriority: 0,
      }),
    RangeError,
  );
  assertThrows(
    () =>
      encodeSubgroupHeader({
        headerType: 0x14,
        trackAlias: 0,
        groupId: 0,
        subgroupId: undefined,
        publisherPriority: 0,
      }),
    RangeError,
  );
});

Deno.test("a subgroup stream that ends cleanly before its header reads as undefined", async () => {
  assertEquals(await readSubgroupHeader(readerOf()), undefined);
  assertEquals(await readDataStreamHeader(readerOf()), undefined);
});

Deno.test("data stream headers distinguish subgroup and fetch streams and reject unknown types", async () => {
  assertEquals(await readDataStreamHeader(readerOf(encodeFetchHeader(300))), {
    type: "fetch",
    requestId: 300,
  });
  const sub = await readDataStreamHeader(readerOf(new Uint8Array([0x1c, 1, 2, 3, 4])));
  assertEquals(sub, {
    type: "subgroup",
    header: { headerType: 0x1c, trackAlias: 1, groupId: 2, subgroupId: 3, publisherPriority: 4 },
  });
  for (const t of [0x00, 0x04, 0x16, 0x17, 0x1e, 0x1f, 0x20]) {
    await assertRejects(
      () => readDataStreamHeader(readerOf(new Uint8Array([t, 1, 2, 3]))),
      MoqParseError,
    );
  }
  await assertRejects(() => readSubgroupHeader(readerOf(encodeFetchHeader(1))), MoqParseError);
});

Deno.test("a subgroup stream that ends mid-object or mid-header is a parse error", async () => {
  const bytes = concat(
    encodeSubgroupHeader({
      headerType: 0x11,
      trackAlias: 1,
      groupId: 2,
      subgroupId: 0,
      publisherPriority: 3,
    }),
    encodeSubgroupObject(0x11, undefined, {
      objectId: 0,
      status: 0,
      payload: new Uint8Array(10),
      extensions: encodeTimestampExtension(99),
    }),
  );
  for (let cut = 1; cut < bytes.length; cut++) {
    if (cut === 4) continue; // the 4-byte header alone is a valid (empty) subgroup
    await assertRejects(() => readAll(bytes.subarray(0, cut)), MoqParseError);
  }
});

Deno.test("unknown object status and extensions on a non-existent object are protocol violations", async () => {
  const header = new Uint8Array([0x11, 1, 2, 3]);
  await assertRejects(
    () => readAll(concat(header, new Uint8Array([0, 0, 0, 2]))),
    MoqParseError,
    "unknown object status 2",
  );
  await assertRejects(
    () => readAll(concat(header, new Uint8Array([0, 2, 0x10, 1, 0, ObjectStatus.DOES_NOT_EXIST]))),
    MoqParseError,
    "Does-Not-Exist",
  );
});

Deno.test("hostile object lengths are rejected before buffering", async () => {
  const header = new Uint8Array([0x11, 1, 2, 3]);
  await assertRejects(
    () => readAll(concat(header, new Uint8Array([0, 0x80, 0x10, 0x00, 0x00]))),
    MoqParseError,
    "exceed the limit",
  );
  await assertRejects(
    () => readAll(concat(header, new Uint8Array([0, 0, 0xc0, 0, 0, 0, 0x40, 0, 0, 0]))),
    MoqParseError,
    "exceeds the limit",
  );
});

Deno.test("datagrams round-trip in every form and pick the most compact type", () => {
  const base: ObjectDatagram = {
    trackAlias: 7,
    groupId: 100,
    objectId: 0,
    publisherPriority: 128,
    endOfGroup: false,
    status: ObjectStatus.NORMAL,
    payload: new Uint8Array(160).fill(1),
  };
  const ext = encodeTimestampExtension(5);
  const cases: [ObjectDatagram, number][] = [
    [{ ...base, objectId: 3 }, 0x00],
    [{ ...base, objectId: 3, extensions: ext }, 0x01],
    [{ ...base, objectId: 3, endOfGroup: true }, 0x02],
    [{ ...base, objectId: 3, endOfGroup: true, extensions: ext }, 0x03],
    [base, 0x04],
    [{ ...base, extensions: ext }, 0x05],
    [{ ...base, endOfGroup: true }, 0x06],
    [{ ...base, endOfGroup: true, extensions: ext }, 0x07],
    [{ ...base, status: ObjectStatus.END_OF_GROUP, payload: new Uint8Array() }, 0x20],
    [{
      ...base,
      objectId: 9,
      status: ObjectStatus.END_OF_TRACK,
      payload: new Uint8Array(),
      extensions: ext,
    }, 0x21],
    [{ ...base, payload: new Uint8Array() }, 0x04],
  ];
  for (const [d, type] of cases) {
    const bytes = encodeDatagram(d);
    assertEquals(bytes[0], type);
    assertEquals(decodeDatagram(bytes), d);
  }
  assertEquals(
    encodeDatagram({ ...base, payload: new Uint8Array([0xaa]) }),
    new Uint8Array([0x04, 0x07, 0x40, 0x64, 0x80, 0xaa]),
  );
});

Deno.test("hostile datagrams are protocol violations", () => {
  for (
    const bad of [
      [0x08, 1, 1, 1],
      [0x1f, 1, 1, 1],
      [0x22, 1, 1, 1, 0],
      [0x05, 1, 1, 0x80, 0x00], // extensions flagged but empty
      [0x05, 1, 1, 0x80, 0x05, 1], // extensions past the end
      [0x20, 1, 1, 1, 0x80, 0x02], // unknown status
      [0x20, 1, 1, 1, 0x80, 0x03, 0xff], // trailing bytes after a status
      [0x21, 1, 1, 1, 0x80, 0x02, 0x10, 0x01, 0x01], // extensions on Does-Not-Exist
      [0x04, 1],
      [],
    ]
  ) {
    assertThrows(() => decodeDatagram(new Uint8Array(bad)), MoqParseError);
  }
  assertThrows(
    () =>
      encodeDatagram({
        trackAlias: 1,
        groupId: 1,
        objectId: 1,
        publisherPriority: 1,
        endOfGroup: true,
        status: ObjectStatus.END_OF_GROUP,
        payload: new Uint8Array(),
      }),
    RangeError,
  );
});

Deno.test("random datagrams only ever decode or throw MoqParseError", () => {
  const random = rng(99);
  for (let i = 0; i < 20000; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 24));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
    if (bytes.length > 0) bytes[0] = [0, 1, 2, 3, 4, 5, 6, 7, 0x20, 0x21, 0x30][i % 11];
    try {
      decodeDatagram(bytes);
    } catch (err) {
      if (!(err instanceof MoqParseError)) fail(`${bytes}: ${err}`);
    }
  }
});

Deno.test("fetch streams round-trip objects of every status with and without extensions", async () => {
  const objects = [
    {
      groupId: 1,
      subgroupId: 0,
      objectId: 0,
      publisherPriority: 0,
      status: 0,
      payload: te.encode("abcd"),
    },
    {
      groupId: 1,
      subgroupId: 3,
      objectId: 3,
      publisherPriority: 9,
      status: 0,
      payload: new Uint8Array(),
      extensions: encodeTimestampExtension(7),
    },
    {
      groupId: 1,
      subgroupId: 0,
      objectId: 4,
      publisherPriority: 0,
      status: ObjectStatus.END_OF_GROUP,
      payload: new Uint8Array(),
    },
    {
      groupId: 2,
      subgroupId: 0,
      objectId: 0,
      publisherPriority: 0,
      status: ObjectStatus.END_OF_TRACK,
      payload: new Uint8Array(),
    },
  ];
  const bytes = concat(encodeFetchHeader(12), ...objects.map(encodeFetchObject));
  const reader = new StreamReader(byteByByte(bytes));
  assertEquals(await readDataStreamHeader(reader), { type: "fetch", requestId: 12 });
  for (const o of objects) assertEquals(await readFetchObject(reader), o);
  assertEquals(await readFetchObject(reader), undefined);
  assertEquals(
    encodeFetchObject(objects[0]),
    new Uint8Array([1, 0, 0, 0, 0, 4, ...te.encode("abcd")]),
  );
});

Deno.test("extension headers parse into key-value pairs and pass through as raw bytes", () => {
  // The draft-14 §10.5 example: Type 4 = 2186796243, Type 77 (odd) = "traceID:123456".
  const block = encodeExtensions([
    { type: 4, value: 2186796243 },
    { type: 77, value: te.encode("traceID:123456") },
  ]);
  assertEquals(decodeExtensions(block), [
    { type: 4, value: 2186796243 },
    { type: 77, value: te.encode("traceID:123456") },
  ]);
  assertEquals(readTimestampExtension(block), undefined);
  assertEquals(readTimestampExtension(undefined), undefined);
  const withTs = concat(block, encodeTimestampExtension(1_700_000_000_000));
  assertEquals(readTimestampExtension(withTs), 1_700_000_000_000);
  assertEquals(
    encodeTimestampExtension(1000),
    new Uint8Array([ExtensionType.TIMESTAMP, 0x43, 0xe8]),
  );
  assertThrows(() => decodeExtensions(new Uint8Array([0x05, 0x09, 0x00])), MoqParseError);
});
