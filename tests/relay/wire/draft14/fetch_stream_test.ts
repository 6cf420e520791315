import { assertEquals } from "@std/assert";
import { ObjectStatus } from "../../../../src/relay/wire/draft14/data_object.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import { encodeTimestampExtension } from "../../../../src/relay/wire/draft14/extensions.ts";
import {
  encodeFetchHeader,
  encodeFetchObject,
  readFetchObject,
} from "../../../../src/relay/wire/draft14/fetch_stream.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { byteByByte, concat } from "../_streams.ts";

const te = new TextEncoder();

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
