import { assert, assertEquals, assertRejects } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { encodeVarint } from "../../../../src/relay/wire/coding/varint.ts";
import { byteByByte, concat, readerOf, streamOf } from "../_streams.ts";

const sample = concat(
  encodeVarint(37),
  encodeVarint(15293),
  encodeVarint(494878333),
  encodeVarint(Number.MAX_SAFE_INTEGER),
  new Uint8Array([0xab, 0x01, 0x02, 1, 2, 3, 4, 5]),
);

async function readSample(reader: StreamReader): Promise<void> {
  assertEquals(await reader.varint(), 37);
  assertEquals(await reader.varint(), 15293);
  assertEquals(await reader.varint(), 494878333);
  assertEquals(await reader.varint(), Number.MAX_SAFE_INTEGER);
  assertEquals(await reader.u8(), 0xab);
  assertEquals(await reader.u16(), 0x0102);
  assertEquals(await reader.bytes(5), new Uint8Array([1, 2, 3, 4, 5]));
  assertEquals(await reader.done(), true);
  assertEquals(await reader.varintOrEnd(), undefined);
}

Deno.test("stream reader reads values from a single chunk", async () => {
  await readSample(readerOf(sample));
});

Deno.test("stream reader reads values that straddle one-byte chunks", async () => {
  await readSample(new StreamReader(byteByByte(sample)));
});

Deno.test("stream reader reads values across uneven chunks and skips empty ones", async () => {
  await readSample(
    readerOf(sample.subarray(0, 3), new Uint8Array(), sample.subarray(3, 14), sample.subarray(14)),
  );
});

Deno.test("stream reader returns a view of the chunk when a read fits in it", async () => {
  const chunk = new Uint8Array([1, 2, 3, 4]);
  const reader = readerOf(chunk);
  await reader.u8();
  const bytes = await reader.bytes(2);
  assertEquals(bytes.buffer, chunk.buffer);
});

Deno.test("stream reader reports a clean end only at a value boundary", async () => {
  assertEquals(await readerOf().done(), true);
  assertEquals(await readerOf().varintOrEnd(), undefined);
  const r = readerOf(new Uint8Array([5]));
  assertEquals(await r.done(), false);
  assertEquals(await r.varintOrEnd(), 5);
  assertEquals(await r.done(), true);
});

Deno.test("stream reader throws a parse error when the stream ends mid-value", async () => {
  await assertRejects(() => readerOf(new Uint8Array([0x40])).varint(), MoqParseError);
  await assertRejects(() => readerOf(new Uint8Array([0x80, 1, 2])).varintOrEnd(), MoqParseError);
  await assertRejects(() => readerOf(new Uint8Array([1])).u16(), MoqParseError);
  await assertRejects(() => readerOf(new Uint8Array([1, 2])).bytes(3), MoqParseError);
  await assertRejects(() => readerOf().u8(), MoqParseError);
  await assertRejects(() => readerOf().varint(), MoqParseError);
});

Deno.test("stream reader reads a large payload spread over many chunks with one copy", async () => {
  const payload = new Uint8Array(100_000).map((_, i) => i & 0xff);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < payload.length; i += 1200) chunks.push(payload.subarray(i, i + 1200));
  const reader = readerOf(...chunks);
  assertEquals(await reader.bytes(payload.length), payload);
  assert(await reader.done());
});

Deno.test("stream reader rethrows a stream error unchanged", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.error(new Error("Stream reset"));
    },
  });
  await assertRejects(() => new StreamReader(stream).varint(), Error, "Stream reset");
});

Deno.test("stream reader release unlocks the stream and is idempotent", () => {
  const stream = streamOf(new Uint8Array([1]));
  const reader = new StreamReader(stream);
  assert(stream.locked);
  reader.release();
  reader.release();
  assert(!stream.locked);
});

Deno.test("stream reader disposal releases the lock", () => {
  const stream = streamOf();
  {
    using _reader = new StreamReader(stream);
    assert(stream.locked);
  }
  assert(!stream.locked);
});

Deno.test("stream reader cancel cancels the underlying stream with the reason", async () => {
  let reason: unknown;
  const stream = new ReadableStream<Uint8Array>({
    cancel(r) {
      reason = r;
    },
  });
  const reader = new StreamReader(stream);
  await reader.cancel("Not interested");
  await reader.cancel("again");
  assertEquals(reason, "Not interested");
  assert(!stream.locked);
});
