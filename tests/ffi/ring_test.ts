/**
 * The SPSC ring across the FFI boundary: a native producer thread writing while the JS
 * reader polls batches (waiting on the futex between them), and JS writing records a C
 * consumer checks byte for byte.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { nativeLibrary, unwrap } from "../../ffi/mod.ts";
import { RingReader, RingWriter } from "../../ffi/ring/ring.ts";

Deno.test("a native producer thread's records reach the JS reader in order, intact", async () => {
  const lib = nativeLibrary();
  const mem = lib.symbols.cc_ring_alloc(64, 2048);
  assert(mem, "ring allocated");
  try {
    const reader = new RingReader(mem);
    const count = 20_000;
    const size = 172;
    unwrap(lib.symbols.cc_ring_test_producer_start(mem, count, size, 7), "start producer");
    let seen = 0;
    let bad = 0;
    let batches = 0;
    while (seen < count) {
      const n = reader.poll(1024, (rec, payload) => {
        // The producer writes byte i = (seq + i) & 0xff, call 7, port = record number.
        if (rec.call !== 7 || payload.length !== size || rec.port !== (seen & 0xffff)) bad++;
        else if (
          payload[0] !== (rec.seq & 0xff) || payload[size - 1] !== ((rec.seq + size - 1) & 0xff)
        ) {
          bad++;
        }
        seen++;
      });
      if (n > 0) batches++;
      else await lib.symbols.cc_ring_wait(mem, reader.next, 1000); // sleeps until pub moves
    }
    await lib.symbols.cc_ring_test_producer_join();
    assertEquals(bad, 0);
    assertEquals(seen, count);
    // The producer never overwrote an unread record (it waits when the ring is full).
    assertEquals(reader.drops, 0);
    assert(batches < count, "records were read in batches");
  } finally {
    lib.symbols.cc_ring_free(mem);
  }
});

Deno.test("records the JS writer publishes reach a C consumer intact, and a full ring refuses", () => {
  const lib = nativeLibrary();
  const mem = lib.symbols.cc_ring_alloc(16, 2048);
  assert(mem);
  try {
    const writer = new RingWriter(mem);
    const sum = new Uint32Array(1);
    let written = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 10; i++) {
        const seq = written;
        // The C consumer checks byte i = (seq * 7 + i) & 0xff.
        const payload = new Uint8Array(12 + (seq % 150)).map((_, j) => (seq * 7 + j) & 0xff);
        assert(
          writer.write({ call: 1, kind: 0, port: 5004, family: 4, ipv4: 0x7f000001 }, payload),
        );
        written++;
      }
      writer.flush();
      assertEquals(lib.symbols.cc_ring_test_consume(mem, sum), 10);
    }
    // 16 records fill it; the 17th is refused until the consumer frees some.
    const one = new Uint8Array(20);
    let accepted = 0;
    while (writer.write({ call: 1, kind: 0, port: 1, family: 4, ipv4: 0 }, one)) accepted++;
    assertEquals(accepted, 16);
  } finally {
    lib.symbols.cc_ring_free(mem);
  }
});

Deno.test("a block that is not a ring is refused on join", () => {
  const bytes = new Uint8Array(4096);
  const pointer = Deno.UnsafePointer.of(bytes)!;
  let error: unknown;
  try {
    new RingReader(pointer);
  } catch (e) {
    error = e;
  }
  assert(error instanceof TypeError && /bad magic/.test(error.message));
});
