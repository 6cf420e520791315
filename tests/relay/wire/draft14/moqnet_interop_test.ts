/**
 * Interop with @moq/net 0.3.4's own draft-14 encoders and decoders.
 *
 * Its IETF classes are not in the package's exports, so they are loaded by file path from
 * node_modules, which Deno fills because this module imports "@moq/net" statically.
 */
import "@moq/net";
import { assertEquals } from "@std/assert";
import {
  decodeControlMessage,
  DRAFT14_VERSION,
  encodeControlMessage,
  readControlMessage,
} from "../../../../src/relay/wire/draft14/messages.ts";
import { SetupParameter } from "../../../../src/relay/wire/draft14/parameters.ts";
import {
  encodeSubgroupHeader,
  encodeSubgroupObject,
  readSubgroupHeader,
  readSubgroupObject,
} from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { ObjectStatus } from "../../../../src/relay/wire/draft14/data_object.ts";
import { readTimestampExtension } from "../../../../src/relay/wire/draft14/extensions.ts";
import { readerOf } from "../_streams.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const root = new URL("../../../../node_modules/@moq/net/", import.meta.url);
const Ietf: Any = await import(new URL("ietf/index.js", root).href);
const { Reader, Writer }: Any = await import(new URL("stream.js", root).href);
const { Timestamp }: Any = await import(new URL("time.js", root).href);

/** Runs @moq/net encoding against a Writer and returns the bytes it wrote. */
async function moqnetBytes(f: (w: Any) => Promise<void>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new Writer(
    new WritableStream<Uint8Array>({ write: (c) => void chunks.push(new Uint8Array(c)) }),
    DRAFT14_VERSION,
  );
  await f(w);
  w.close();
  await w.closed;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** A full control frame as @moq/net writes it: its type, then its length and payload. */
function frame(msg: Any): Promise<Uint8Array> {
  return moqnetBytes(async (w) => {
    await w.u53(msg.constructor.id);
    await msg.encode(w, DRAFT14_VERSION);
  });
}

async function decodeOurs(msg: Any) {
  return await readControlMessage(readerOf(await frame(msg)));
}

Deno.test("@moq/net's draft-14 CLIENT_SETUP decodes with its versions and parameters", async () => {
  const params = new Ietf.SetupOptions();
  params.setVarint(Ietf.SetupOption.MaxRequestId, 42069n);
  params.setBytes(Ietf.SetupOption.Implementation, new TextEncoder().encode("moq-lite-js"));
  params.setVarint(Ietf.SetupOption.Solicit, 1n);
  const msg = new Ietf.ClientSetup({
    versions: [0xff0dad02, 0xff0dad01, DRAFT14_VERSION],
    parameters: params,
  });
  assertEquals(await decodeOurs(msg), {
    type: "client_setup",
    versions: [0xff0dad02, 0xff0dad01, DRAFT14_VERSION],
    parameters: new Map<number, number | Uint8Array>([
      [SetupParameter.MAX_REQUEST_ID, 42069],
      [0x40b5a, 1],
      [SetupParameter.MOQT_IMPLEMENTATION, new TextEncoder().encode("moq-lite-js")],
    ]),
  });
});

Deno.test("@moq/net decodes our SERVER_SETUP and reads MAX_REQUEST_ID", async () => {
  const bytes = encodeControlMessage({
    type: "server_setup",
    version: DRAFT14_VERSION,
    parameters: new Map([[SetupParameter.MAX_REQUEST_ID, 1000]]),
  });
  const reader = new Reader(undefined, bytes.subarray(1), DRAFT14_VERSION);
  const server = await Ietf.ServerSetup.decode(reader, DRAFT14_VERSION);
  assertEquals(server.version, DRAFT14_VERSION);
  assertEquals(server.parameters.getVarint(Ietf.SetupOption.MaxRequestId), 1000n);
});

Deno.test("@moq/net's SUBSCRIBE, PUBLISH_NAMESPACE and namespace messages decode", async () => {
  assertEquals(
    await decodeOurs(
      new Ietf.Subscribe({
        requestId: 4n,
        trackNamespace: "room/alice",
        trackName: "audio",
        subscriberPriority: 3,
        filter: { kind: "nextObject" },
      }),
    ),
    {
      type: "subscribe",
      requestId: 4,
      namespace: ["room", "alice"],
      name: "audio",
      subscriberPriority: 3,
      groupOrder: 2,
      forward: true,
      filter: { type: "largest_object" },
      parameters: new Map(),
    },
  );
  assertEquals(
    await decodeOurs(new Ietf.PublishNamespace({ requestId: 2n, trackNamespace: "room/alice" })),
    {
      type: "publish_namespace",
      requestId: 2,
      namespace: ["room", "alice"],
      parameters: new Map(),
    },
  );
  assertEquals(
    await decodeOurs(new Ietf.SubscribeNamespaceLegacy({ namespace: "", requestId: 6n })),
    { type: "subscribe_namespace", requestId: 6, namespacePrefix: [], parameters: new Map() },
  );
  assertEquals(await decodeOurs(new Ietf.UnsubscribeNamespace({ requestId: 6n })), {
    type: "unsubscribe_namespace",
    requestId: 6,
  });
  assertEquals(await decodeOurs(new Ietf.PublishNamespaceDone({ trackNamespace: "room/alice" })), {
    type: "publish_namespace_done",
    namespace: ["room", "alice"],
  });
  assertEquals(await decodeOurs(new Ietf.Unsubscribe({ requestId: 4n })), {
    type: "unsubscribe",
    requestId: 4,
  });
});

Deno.test("@moq/net's SUBSCRIBE_OK, PUBLISH_DONE, GOAWAY and errors decode", async () => {
  assertEquals(await decodeOurs(new Ietf.SubscribeOk({ requestId: 4n, trackAlias: 4n })), {
    type: "subscribe_ok",
    requestId: 4,
    trackAlias: 4,
    expires: 0,
    groupOrder: 2,
    parameters: new Map(),
  });
  assertEquals(
    await decodeOurs(new Ietf.PublishDone({ requestId: 4n, statusCode: 2, reasonPhrase: "ended" })),
    { type: "publish_done", requestId: 4, statusCode: 2, streamCount: 0, reason: "ended" },
  );
  assertEquals(await decodeOurs(new Ietf.GoAway({ newSessionUri: "https://x/y" })), {
    type: "goaway",
    newSessionUri: "https://x/y",
  });
  assertEquals(
    await decodeOurs(
      new Ietf.SubscribeError({ requestId: 4n, errorCode: 4, reasonPhrase: "gone" }),
    ),
    { type: "subscribe_error", requestId: 4, errorCode: 4, reason: "gone" },
  );
  assertEquals(await decodeOurs(new Ietf.MaxRequestId({ requestId: 100n })), {
    type: "max_request_id",
    requestId: 100,
  });
});

Deno.test("@moq/net decodes our SUBSCRIBE_OK, SUBSCRIBE and PUBLISH_NAMESPACE_OK", async () => {
  const decodeTheirs = (cls: Any, bytes: Uint8Array) =>
    cls.decode(new Reader(undefined, bytes.subarray(1), DRAFT14_VERSION), DRAFT14_VERSION);
  const ok = await decodeTheirs(
    Ietf.SubscribeOk,
    encodeControlMessage({
      type: "subscribe_ok",
      requestId: 0,
      trackAlias: 7,
      expires: 0,
      groupOrder: 2,
      largest: { group: 3, object: 1 },
      parameters: new Map(),
    }),
  );
  assertEquals([ok.requestId, ok.trackAlias, ok.largest], [0n, 7n, { groupId: 3n, objectId: 1n }]);
  const sub = await decodeTheirs(
    Ietf.Subscribe,
    encodeControlMessage({
      type: "subscribe",
      requestId: 1,
      namespace: ["room", "alice"],
      name: "audio",
      subscriberPriority: 0,
      groupOrder: 2,
      forward: true,
      filter: { type: "largest_object" },
      parameters: new Map(),
    }),
  );
  assertEquals([sub.trackNamespace, sub.trackName, sub.filter], ["room/alice", "audio", {
    kind: "nextObject",
  }]);
  const pnOk = await decodeTheirs(
    Ietf.PublishNamespaceOk,
    encodeControlMessage({ type: "publish_namespace_ok", requestId: 2 }),
  );
  assertEquals(pnOk.requestId, 2n);
});

Deno.test("@moq/net's subgroup stream (type 0x19, timestamp extension) decodes object by object", async () => {
  const flags = {
    hasExtensions: true,
    hasSubgroup: false,
    hasSubgroupObject: false,
    hasEnd: true,
    hasPriority: true,
    firstObject: true,
  };
  const bytes = await moqnetBytes(async (w) => {
    await new Ietf.Group({
      trackAlias: 4n,
      groupId: 12,
      subGroupId: 0,
      publisherPriority: 0,
      flags,
    })
      .encode(w, DRAFT14_VERSION);
    for (let i = 0; i < 3; i++) {
      const frame = new Ietf.Frame({
        payload: new Uint8Array(160).fill(i),
        timestamp: new Timestamp(1000 + 20 * i, 1000),
      });
      await frame.encode(w, flags, 1000, DRAFT14_VERSION, 0);
    }
  });
  const reader = readerOf(bytes);
  const header = await readSubgroupHeader(reader);
  assertEquals(header, {
    headerType: 0x19,
    trackAlias: 4,
    groupId: 12,
    subgroupId: 0,
    publisherPriority: 0,
  });
  let prev: number | undefined;
  for (let i = 0; i < 3; i++) {
    const obj = await readSubgroupObject(reader, header!, prev);
    assertEquals(obj?.objectId, i);
    assertEquals(obj?.status, ObjectStatus.NORMAL);
    assertEquals(obj?.payload, new Uint8Array(160).fill(i));
    assertEquals(readTimestampExtension(obj?.extensions), 1000 + 20 * i);
    prev = obj!.objectId;
  }
  assertEquals(await readSubgroupObject(reader, header!, prev), undefined);
});

Deno.test("@moq/net decodes a subgroup stream we forward unchanged", async () => {
  const header = {
    headerType: 0x19,
    trackAlias: 4,
    groupId: 12,
    subgroupId: 0,
    publisherPriority: 0,
  };
  const ext = new Uint8Array([0x10, 0x43, 0xe8]); // timestamp 1000, passed through as raw bytes
  const bytes = new Uint8Array([
    ...encodeSubgroupHeader(header),
    ...encodeSubgroupObject(0x19, undefined, {
      objectId: 0,
      status: 0,
      payload: new Uint8Array([1, 2]),
      extensions: ext,
    }),
  ]);
  const r = new Reader(undefined, bytes, DRAFT14_VERSION);
  const group = await Ietf.Group.decode(r, DRAFT14_VERSION);
  assertEquals([group.trackAlias, group.groupId, group.flags.hasExtensions, group.flags.hasEnd], [
    4n,
    12,
    true,
    true,
  ]);
  const frame = await Ietf.Frame.decode(r, group.flags, 1000, DRAFT14_VERSION);
  assertEquals(frame.payload, new Uint8Array([1, 2]));
  assertEquals(frame.timestamp.value, 1000);
});

Deno.test("@moq/net's TRACK_STATUS request decodes as draft-14 TRACK_STATUS", async () => {
  const msg = await decodeOurs(
    new Ietf.TrackStatusRequest({ requestId: 8n, trackNamespace: "room", trackName: "audio" }),
  );
  assertEquals(msg?.type, "track_status");
  assertEquals(decodeControlMessage(0x0d, encodeControlMessage(msg!).subarray(3)), msg);
});
