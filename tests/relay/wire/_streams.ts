/**
 * Test helpers: readable streams that deliver given bytes in given chunks.
 *
 * @module
 */
import { StreamReader } from "../../../src/relay/wire/coding/stream_reader.ts";

/** A stream that enqueues each chunk in turn, then closes. */
export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

/**
 * A byte stream (as a QUIC stream is) delivering each chunk in turn on demand, then closing;
 * `reads` counts the pulls, so a test sees how many reads a reader made.
 */
export function byteStreamOf(
  ...chunks: Uint8Array[]
): ReadableStream<Uint8Array> & { reads: number } {
  let next = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      result.reads++;
      if (next < chunks.length) controller.enqueue(chunks[next++].slice());
      else {
        controller.close();
        controller.byobRequest?.respond(0);
      }
    },
  });
  const result = Object.assign(stream, { reads: 0 });
  return result;
}

/** A stream that delivers `bytes` one byte per chunk: every value straddles chunks. */
export function byteByByte(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return streamOf(...Array.from(bytes, (b) => new Uint8Array([b])));
}

/** A StreamReader over the concatenation of `chunks`, delivered as given. */
export function readerOf(...chunks: Uint8Array[]): StreamReader {
  return new StreamReader(streamOf(...chunks));
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A deterministic pseudo-random generator (mulberry32) for fuzz loops. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
