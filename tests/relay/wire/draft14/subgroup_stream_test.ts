import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  ObjectStatus,
  type SubgroupObject,
} from "../../../../src/relay/wire/draft14/data_object.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import {
  encodeExtensions,
  encodeTimestampExtension,
} from "../../../../src/relay/wire/draft14/extensions.ts";
import {
  decodeSubgroupObject,
  encodeSubgroupHeader,
  encodeSubgroupObject,
  encodeSubgroupObjectHeader,
  parseSubgroupHeaderType,
  readSubgroupHeader,
  readSubgroupObject,
  SHORT,
  type SubgroupHeader,
  subgroupHeaderType,
} from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { byteByByte, byteStreamOf, concat, readerOf } from "../_streams.ts";

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

Deno.test("a buffered object decodes synchronously; a cut one is SHORT and consumes nothing", async () => {
  const headerType = 0x19;
  const header: SubgroupHeader = {
    headerType,
    trackAlias: 1,
    groupId: 2,
    subgroupId: 0,
    publisherPriority: 0,
  };
  const objects: SubgroupObject[] = [0, 1].map((objectId) => ({
    objectId,
    status: ObjectStatus.NORMAL,
    payload: new Uint8Array(160).fill(objectId + 1),
    extensions: encodeTimestampExtension(1000 + objectId),
  }));
  const bytes = concat(
    encodeSubgroupObject(headerType, undefined, objects[0]),
    encodeSubgroupObject(headerType, 0, objects[1]),
  );
  const first = encodeSubgroupObject(headerType, undefined, objects[0]).length;
  for (let cut = 0; cut < bytes.length; cut++) {
    const reader = new StreamReader(
      byteStreamOf(...[bytes.subarray(0, cut), bytes.subarray(cut)].filter((c) => c.length)),
    );
    await reader.fill();
    const decoded: SubgroupObject[] = [];
    let prev: number | undefined;
    for (;;) {
      const before = reader.position;
      const object = decodeSubgroupObject(reader, { ...header }, prev);
      if (object === SHORT) {
        assertEquals(reader.position, before, `cut ${cut}: a short object consumes nothing`);
        if (!(await reader.fill())) break;
        continue;
      }
      decoded.push(object);
      prev = object.objectId;
    }
    assertEquals(decoded, objects, `cut at byte ${cut}`);
    assertEquals(reader.buffered, 0);
    // Objects completely inside the first read decode without a second one.
    if (cut >= first) assertEquals(decoded[0], objects[0]);
  }
});

Deno.test("decoded payloads are copies, untouched when the reader's buffer is reused", async () => {
  const headerType = 0x10;
  const header: SubgroupHeader = {
    headerType,
    trackAlias: 1,
    groupId: 0,
    subgroupId: 0,
    publisherPriority: 0,
  };
  const chunks = Array.from(
    { length: 40 },
    (_, i) =>
      encodeSubgroupObject(headerType, i === 0 ? undefined : i - 1, {
        objectId: i,
        status: ObjectStatus.NORMAL,
        payload: new Uint8Array(160).fill(i),
      }),
  );
  const reader = new StreamReader(byteStreamOf(...chunks));
  const payloads: Uint8Array[] = [];
  let prev: number | undefined;
  for (let o; (o = await readSubgroupObject(reader, header, prev));) {
    payloads.push(o.payload);
    prev = o.objectId;
  }
  assertEquals(payloads.length, 40);
  payloads.forEach((p, i) => assertEquals(p, new Uint8Array(160).fill(i)));
});
