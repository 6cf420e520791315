/**
 * The JS end of an ffi/ring SPSC ring (layout and ordering: `ffi/ring/ring.h`), zero-copy:
 * one `ArrayBuffer` over the native block from `Deno.UnsafePointerView.getArrayBuffer`, typed
 * views on it, nothing copied or allocated per record.
 *
 * Memory ordering on the JS side: `Atomics.load` of a record's `seq` word before reading its
 * fields and payload (acquire: pairs with the producer's release store), `Atomics.store` of
 * `fseq` after a batch was read (release: the shard may reuse those slots only after it).
 * As a producer (TX): payload and fields first, `Atomics.store` of `seq` last (release;
 * the shard acquire-loads it). JS Atomics are sequentially consistent, which is at least that.
 *
 * @example
 * ```ts ignore
 * import { RingReader } from "./ring.ts";
 * const reader = new RingReader(pointer);
 * reader.poll(256, (rec, payload) => console.log(rec.call, payload.length));
 * ```
 *
 * @module
 */

/** Record layout (ffi/ring/ring.h `struct cc_rec`), byte offsets. */
export const REC = {
  size: 64,
  seq: 0,
  call: 4,
  chunk: 8,
  sz: 12,
  kind: 14,
  flags: 15,
  port: 16,
  family: 18,
  tsLo: 20,
  tsHi: 24,
  addr: 32,
} as const;

/** Header layout (ffi/ring/ring.h `struct cc_ring_hdr`), byte offsets. */
export const HDR = {
  size: 256,
  magic: 0,
  depth: 8,
  slotSize: 12,
  pub: 64,
  waiters: 68,
  drops: 72,
  fseq: 128,
} as const;

/** "CCRING01" little-endian, low and high 32-bit words. */
const MAGIC = [0x49524343, 0x3130474e] as const;

/** One record as the reader hands it over (a reused object: copy what you keep). */
export interface RingRecord {
  seq: number;
  call: number;
  kind: number;
  flags: number;
  port: number;
  family: number;
  /** IPv4 source address as a 32-bit number in network byte order read big-endian. */
  ipv4: number;
  /** Family 6: the IPv6 source address, 16 bytes (a reused buffer; stale for family 4). */
  readonly addr6: Uint8Array;
  /** Arrival, µs since the Unix epoch. */
  arrivalUs: number;
}

class RingView {
  readonly depth: number;
  readonly slotSize: number;
  protected readonly u32: Uint32Array;
  protected readonly u8: Uint8Array;
  protected readonly dv: DataView;
  protected readonly mask: number;
  protected readonly dcache: number;

  constructor(pointer: Deno.PointerObject) {
    const head = new Deno.UnsafePointerView(pointer);
    if (head.getUint32(HDR.magic) !== MAGIC[0] || head.getUint32(HDR.magic + 4) !== MAGIC[1]) {
      throw new TypeError("Cannot join ring: bad magic (not an ffi/ring block)");
    }
    this.depth = head.getUint32(HDR.depth);
    this.slotSize = head.getUint32(HDR.slotSize);
    const bytes = HDR.size + this.depth * (REC.size + this.slotSize);
    const buffer = Deno.UnsafePointerView.getArrayBuffer(pointer, bytes);
    this.u32 = new Uint32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.mask = this.depth - 1;
    this.dcache = HDR.size + this.depth * REC.size;
  }

  /** Records the producer dropped because the ring was full. */
  get drops(): number {
    return Atomics.load(this.u32, HDR.drops >> 2);
  }
}

/** Consumer end (RX: native → JS). */
export class RingReader extends RingView {
  #next: number;
  readonly #rec: RingRecord = {
    seq: 0,
    call: 0,
    kind: 0,
    flags: 0,
    port: 0,
    family: 0,
    ipv4: 0,
    addr6: new Uint8Array(16),
    arrivalUs: 0,
  };

  constructor(pointer: Deno.PointerObject) {
    super(pointer);
    this.#next = Atomics.load(this.u32, HDR.fseq >> 2);
  }

  /**
   * Hands up to `max` published records to `fn` in order, with their payload as a view into
   * the ring (valid only during the call: copy what you keep), then frees them for the
   * producer. Returns how many were read.
   */
  poll(max: number, fn: (rec: RingRecord, payload: Uint8Array) => void): number {
    const { u32, u8, dv, mask, dcache } = this;
    const rec = this.#rec;
    let seq = this.#next;
    let n = 0;
    try {
      for (; n < max; n++) {
        const at = HDR.size + (seq & mask) * REC.size;
        // Acquire: pairs with the producer's release store of seq (ring.h cc_ring_publish).
        if (Atomics.load(u32, at >> 2) !== seq) break;
        rec.seq = seq;
        rec.call = u32[(at + REC.call) >> 2];
        rec.kind = u8[at + REC.kind];
        rec.flags = u8[at + REC.flags];
        rec.port = dv.getUint16(at + REC.port, true);
        rec.family = u8[at + REC.family];
        rec.ipv4 = dv.getUint32(at + REC.addr, false);
        if (rec.family === 6) rec.addr6.set(u8.subarray(at + REC.addr, at + REC.addr + 16));
        rec.arrivalUs = u32[(at + REC.tsHi) >> 2] * 0x100000000 + u32[(at + REC.tsLo) >> 2];
        const start = dcache + u32[(at + REC.chunk) >> 2];
        const size = dv.getUint16(at + REC.sz, true);
        seq = (seq + 1) >>> 0;
        fn(rec, u8.subarray(start, start + size));
      }
    } finally {
      if (seq !== this.#next) {
        this.#next = seq;
        // Release: every read above happens before the producer may reuse the slots.
        Atomics.store(u32, HDR.fseq >> 2, seq);
      }
    }
    return n;
  }

  /** The sequence number of the next record this reader waits for. */
  get next(): number {
    return this.#next;
  }
}

/** What a TX record says besides its payload. */
export interface RingWrite {
  call: number;
  kind: number;
  /** Destination port; 0 with family 0 = the call's remote (`cc_call_remote`). */
  port: number;
  /** 4, 6, or 0 for the call's remote. */
  family: number;
  /** IPv4 destination, big-endian 32-bit number. */
  ipv4: number;
  /** Family 6: the IPv6 destination, 16 bytes in network order. */
  addr6?: Uint8Array;
}

/** Producer end (TX: JS → native). */
export class RingWriter extends RingView {
  #seq: number;

  constructor(pointer: Deno.PointerObject) {
    super(pointer);
    this.#seq = Atomics.load(this.u32, HDR.pub >> 2);
  }

  /**
   * Writes one record; false when the ring is full (the shard is behind) or the payload does
   * not fit a slot. Visible to the shard at once; kick it after a batch.
   */
  write(w: RingWrite, payload: Uint8Array): boolean {
    const { u32, u8, dv, mask, dcache } = this;
    const seq = this.#seq;
    // Acquire: the shard released these slots (ring.h cc_ring_release) before we reuse them.
    if (((seq - Atomics.load(u32, HDR.fseq >> 2)) | 0) >= this.depth) return false;
    if (payload.length > this.slotSize) return false;
    const at = HDR.size + (seq & mask) * REC.size;
    const chunk = (seq & mask) * this.slotSize;
    u8.set(payload, dcache + chunk);
    u32[(at + REC.call) >> 2] = w.call;
    u32[(at + REC.chunk) >> 2] = chunk;
    dv.setUint16(at + REC.sz, payload.length, true);
    u8[at + REC.kind] = w.kind;
    u8[at + REC.flags] = 0;
    dv.setUint16(at + REC.port, w.port, true);
    u8[at + REC.family] = w.family;
    if (w.family === 6 && w.addr6) u8.set(w.addr6.subarray(0, 16), at + REC.addr);
    else dv.setUint32(at + REC.addr, w.ipv4, false);
    // Release: payload and fields before seq (the shard's cc_ring_peek acquire-loads it).
    Atomics.store(u32, at >> 2, seq);
    this.#seq = (seq + 1) >>> 0;
    return true;
  }

  /** Publishes the batch counter (`pub`); the shard reads records by `seq`, so this is bookkeeping. */
  flush(): void {
    Atomics.store(this.u32, HDR.pub >> 2, this.#seq);
  }
}
