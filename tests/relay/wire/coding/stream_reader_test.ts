import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { encodeVarint } from "../../../../src/relay/wire/coding/varint.ts";
import { byteByByte, byteStreamOf, concat, readerOf, streamOf } from "../_streams.ts";

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

Deno.test("stream reader reads values that straddle one-byte chunks of a byte stream", async () => {
  await readSample(
    new StreamReader(byteStreamOf(...Array.from(sample, (b) => new Uint8Array([b])))),
  );
});

Deno.test("stream reader reads values across uneven chunks and skips empty ones", async () => {
  await readSample(
    readerOf(sample.subarray(0, 3), new Uint8Array(), sample.subarray(3, 14), sample.subarray(14)),
  );
});

Deno.test("stream reader returns copies that stay valid when the reused buffer is refilled", async () => {
  const reader = new StreamReader(
    byteStreamOf(new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6, 7, 8])),
  );
  const first = await reader.bytes(4);
  const second = await reader.bytes(4);
  assertEquals(first, new Uint8Array([1, 2, 3, 4]));
  assertEquals(second, new Uint8Array([5, 6, 7, 8]));
  assert(first.buffer !== second.buffer);
  assert(first.buffer !== reader.buffer.buffer);
});

Deno.test("stream reader reads a byte stream with a BYOB reader into one reused buffer", async () => {
  const chunks = Array.from({ length: 50 }, (_, i) => new Uint8Array(160).fill(i));
  const stream = byteStreamOf(...chunks);
  const reader = new StreamReader(stream);
  const size = reader.buffer.length;
  for (let i = 0; i < chunks.length; i++) assertEquals(await reader.bytes(160), chunks[i]);
  assert(await reader.done());
  // 50 chunks of 160 bytes went through the same buffer: it never grew, and no read was
  // needed beyond one per chunk plus the end.
  assertEquals(reader.buffer.length, size);
  assertEquals(stream.reads, chunks.length + 1);
});

Deno.test("stream reader grows its BYOB buffer for a value larger than it", async () => {
  const payload = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < payload.length; i += 1200) chunks.push(payload.subarray(i, i + 1200));
  const reader = new StreamReader(byteStreamOf(new Uint8Array([9]), ...chunks));
  assertEquals(await reader.u8(), 9);
  assertEquals(await reader.bytes(payload.length), payload);
  assert(await reader.done());
});

Deno.test("stream reader exposes buffered bytes for synchronous decoding", async () => {
  const reader = new StreamReader(byteStreamOf(new Uint8Array([1, 2, 3]), new Uint8Array([4])));
  assert(await reader.fill());
  assertEquals(reader.buffer.subarray(reader.position, reader.end), new Uint8Array([1, 2, 3]));
  reader.consume(2);
  assertEquals(reader.buffered, 1);
  assert(await reader.fill());
  assertEquals(reader.buffer.subarray(reader.position, reader.end), new Uint8Array([3, 4]));
  assertThrows(() => reader.consume(3), RangeError);
  reader.consume(2);
  assertEquals(await reader.fill(), false);
});

Deno.test("stream reader cancel ends a pending BYOB read cleanly", async () => {
  const stream = new ReadableStream({ type: "bytes" });
  const reader = new StreamReader(stream);
  const pending = reader.fill();
  await reader.cancel();
  assertEquals(await pending, false);
  assertEquals(reader.buffered, 0);
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
