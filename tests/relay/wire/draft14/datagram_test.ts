import { assertEquals, assertThrows, fail } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import { ObjectStatus } from "../../../../src/relay/wire/draft14/data_object.ts";
import {
  decodeDatagram,
  encodeDatagram,
  type ObjectDatagram,
} from "../../../../src/relay/wire/draft14/datagram.ts";
import { encodeTimestampExtension } from "../../../../src/relay/wire/draft14/extensions.ts";
import { rng } from "../_streams.ts";

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
