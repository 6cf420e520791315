/**
 * {@linkcode ByteSlab}: small byte runs (an object's payload, its encoded frame) carved out of
 * shared slabs instead of one `ArrayBuffer` each. Every `new Uint8Array(n)` above V8's on-heap
 * limit (64 bytes) is its own `ArrayBuffer` with a backing store from `malloc` that the
 * garbage collector tracks and sweeps one by one; a 160-byte voice frame copied out of a read
 * buffer and again into its encoded frame costs two of them per object on the relay's hot
 * path. A slab view costs a typed-array object and nothing else.
 *
 * A view keeps its whole slab alive, so only small runs come from slabs (larger ones get an
 * array of their own), and slabs are small: what they hold is the relay's recent objects,
 * which die together as their groups leave the cache. Views start on 8-byte boundaries, so
 * `new Int16Array(view.buffer, view.byteOffset, …)` over a payload works as for an array of
 * its own. Do not transfer a view's `buffer` (it is shared): copy it.
 *
 * @module
 */

/** Options for a {@linkcode ByteSlab}. */
export interface ByteSlabOptions {
  /** Bytes per slab [16384]. */
  readonly slabSize?: number;
  /** Runs longer than this get an array of their own [1024]. */
  readonly maxRun?: number;
}

const ALIGN = 8;

/**
 * Allocates byte runs from shared slabs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ByteSlab } from "./byte_slab.ts";
 * const slab = new ByteSlab();
 * const source = new Uint8Array([9, 1, 2, 3, 9]);
 * const a = slab.copy(source, 1, 4);
 * const b = slab.alloc(2);
 * assertEquals([...a], [1, 2, 3]);
 * assertEquals(a.buffer, b.buffer); // one slab
 * assertEquals(b.byteOffset % 8, 0);
 * source[1] = 7; // a copy: the source may be reused
 * assertEquals(a[0], 1);
 * ```
 */
export class ByteSlab {
  readonly #slabSize: number;
  readonly #maxRun: number;
  #slab: ArrayBuffer;
  #pos = 0;

  /** Creates an allocator; its first slab is allocated now. */
  constructor({ slabSize = 16384, maxRun = 1024 }: ByteSlabOptions = {}) {
    if (!(maxRun >= 0 && slabSize >= maxRun)) {
      throw new RangeError(
        `Cannot create byte slab: maxRun ${maxRun} exceeds slabSize ${slabSize}`,
      );
    }
    this.#slabSize = slabSize;
    this.#maxRun = maxRun;
    this.#slab = new ArrayBuffer(slabSize);
  }

  /** A view of `length` fresh bytes (zeroed), from the current slab when short enough. */
  alloc(length: number): Uint8Array {
    if (length > this.#maxRun) return new Uint8Array(length);
    let start = this.#pos;
    if (start + length > this.#slabSize) {
      this.#slab = new ArrayBuffer(this.#slabSize);
      start = 0;
    }
    this.#pos = (start + length + ALIGN - 1) & ~(ALIGN - 1);
    // A view made directly, not by subarray (which looks up a species constructor).
    return new Uint8Array(this.#slab, start, length);
  }

  /** A copy of `source[start, end)` (see {@linkcode ByteSlab.alloc}). */
  copy(source: Uint8Array, start = 0, end = source.length): Uint8Array {
    const length = end - start;
    const out = this.alloc(length);
    out.set(new Uint8Array(source.buffer, source.byteOffset + start, length));
    return out;
  }
}

/**
 * The slab the draft-14 data path copies object payloads and encoded frames into: one per
 * isolate (the main relay and each Worker shard have their own).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { objectBytes } from "./byte_slab.ts";
 * assertEquals(objectBytes.alloc(160).length, 160);
 * ```
 */
export const objectBytes: ByteSlab = new ByteSlab();
