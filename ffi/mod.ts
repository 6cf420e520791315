/**
 * The native library `libclutch_native.so` (ffi/: rings, engines, packet code) through Deno
 * FFI: one symbol table, one loader, one `unwrap()` for return codes.
 *
 * Library path: `CLUTCH_NATIVE_LIB` when set, else the local build
 * `ffi/build/libclutch_native.so` made by `deno task build:native` (the test setup runs it;
 * nothing is compiled at run time). Needs `--allow-ffi` (and `--allow-env` for the override,
 * `--allow-read` for the lookup).
 *
 * Never close the library while a shard thread runs or a `nonblocking` call is pending: stop
 * the engines first (`NativeEngine.close()` does it in that order). The library is opened
 * once per process and never closed; engines come and go on top of it.
 *
 * @example
 * ```ts ignore
 * import { nativeLibrary, unwrap } from "./mod.ts";
 * const lib = nativeLibrary();
 * unwrap(lib.symbols.cc_engine_probe(1, new Uint8Array(32)), "Cannot run io_uring");
 * ```
 *
 * @module
 */

/** The ABI version this file was written for (ffi/abi.h `CC_ABI_VERSION`). */
export const NATIVE_ABI_VERSION = 4;

/** ffi/abi.h, ffi/ring/ring.h and ffi/engine/engine.h (C parameter names in the comments). */
export const NATIVE_SYMBOLS = {
  /** uint32_t cc_abi_version(void) */
  cc_abi_version: { parameters: [], result: "u32" },
  // ---- ffi/ring/ring.h ----
  /** size_t cc_ring_footprint(uint32_t depth, uint32_t slot_sz) */
  cc_ring_footprint: { parameters: ["u32", "u32"], result: "usize" },
  /** void *cc_ring_alloc(uint32_t depth, uint32_t slot_sz) */
  cc_ring_alloc: { parameters: ["u32", "u32"], result: "pointer" },
  /** void cc_ring_free(void *mem) */
  cc_ring_free: { parameters: ["pointer"], result: "void" },
  /** int cc_ring_wait(void *mem, uint32_t seen, int32_t timeout_ms) — blocks */
  cc_ring_wait: { parameters: ["pointer", "u32", "i32"], result: "i32", nonblocking: true },
  /** int cc_ring_test_producer_start(void *mem, uint32_t count, uint32_t sz, uint32_t call) */
  cc_ring_test_producer_start: { parameters: ["pointer", "u32", "u32", "u32"], result: "i32" },
  /** int cc_ring_test_producer_join(void) — blocks until the producer thread ends */
  cc_ring_test_producer_join: { parameters: [], result: "i32", nonblocking: true },
  /** int cc_ring_test_consume(void *mem, uint32_t *checksum_out) */
  cc_ring_test_consume: { parameters: ["pointer", "buffer"], result: "i32" },
  // ---- ffi/engine/engine.h ----
  /** int cc_engine_probe(int kind, const cc_engine_cfg_t *cfg) */
  cc_engine_probe: { parameters: ["i32", "buffer"], result: "i32" },
  /** int cc_engine_create(int kind, const cc_engine_cfg_t *cfg, cc_engine_t **out) */
  cc_engine_create: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int cc_engine_start(cc_engine_t *e) */
  cc_engine_start: { parameters: ["pointer"], result: "i32" },
  /** int cc_engine_stop(cc_engine_t *e) — joins the shard threads */
  cc_engine_stop: { parameters: ["pointer"], result: "i32", nonblocking: true },
  /** The same cc_engine_stop, synchronous: for a process or worker that is exiting. */
  cc_engine_stop_now: { name: "cc_engine_stop", parameters: ["pointer"], result: "i32" },
  /** void cc_engine_destroy(cc_engine_t *e) */
  cc_engine_destroy: { parameters: ["pointer"], result: "void" },
  /** const char *cc_engine_last_error(void) */
  cc_engine_last_error: { parameters: [], result: "pointer" },
  /** uint32_t cc_engine_shards(cc_engine_t *e) */
  cc_engine_shards: { parameters: ["pointer"], result: "u32" },
  /** void *cc_engine_rx_ring(cc_engine_t *e, uint32_t shard) */
  cc_engine_rx_ring: { parameters: ["pointer", "u32"], result: "pointer" },
  /** void *cc_engine_tx_ring(cc_engine_t *e, uint32_t shard) */
  cc_engine_tx_ring: { parameters: ["pointer", "u32"], result: "pointer" },
  /** int64_t cc_engine_wait(cc_engine_t *e, uint32_t seen, int32_t timeout_ms) — blocks */
  cc_engine_wait: { parameters: ["pointer", "u32", "i32"], result: "i64", nonblocking: true },
  /** uint32_t cc_engine_doorbell(cc_engine_t *e) */
  cc_engine_doorbell: { parameters: ["pointer"], result: "u32" },
  /** int cc_engine_kick(cc_engine_t *e, uint32_t shard) */
  cc_engine_kick: { parameters: ["pointer", "u32"], result: "i32" },
  /** int cc_engine_wake(cc_engine_t *e) */
  cc_engine_wake: { parameters: ["pointer"], result: "i32" },
  /** int cc_engine_stats(cc_engine_t *e, uint32_t shard, uint64_t *out16) */
  cc_engine_stats: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  /** int cc_call_open(cc_engine_t *e, const cc_call_cfg_t *cfg, uint32_t *out3) */
  cc_call_open: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** int cc_call_remote(cc_engine_t *e, uint32_t call, uint32_t ipv4, uint16_t rtp_port, uint16_t rtcp_port) */
  cc_call_remote: { parameters: ["pointer", "u32", "u32", "u16", "u16"], result: "i32" },
  /** int cc_call_close(cc_engine_t *e, uint32_t call) — waits (bounded) for the shard */
  cc_call_close: { parameters: ["pointer", "u32"], result: "i32" },
  /** int cc_engine_steer(cc_engine_t *e, uint16_t port_min, uint16_t port_max) */
  cc_engine_steer: { parameters: ["pointer", "u16", "u16"], result: "i32" },
  /** int cc_engine_steer_stats(cc_engine_t *e, uint64_t *out4) */
  cc_engine_steer_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  /** int cc_call_filter(cc_engine_t *e, uint32_t call, const cc_src_filter_cfg_t *cfg) */
  cc_call_filter: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  /** int cc_call_filter_remote(cc_engine_t *e, uint32_t call, const uint8_t *addr16, uint16_t port, uint32_t rtcp_port) */
  cc_call_filter_remote: { parameters: ["pointer", "u32", "buffer", "u16", "u32"], result: "i32" },
  /** int cc_call_filter_drops(cc_engine_t *e, uint32_t call, uint32_t *out3) */
  cc_call_filter_drops: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  /** size_t cc_src_filter_footprint(void) */
  cc_src_filter_footprint: { parameters: [], result: "usize" },
  /** int cc_src_filter_init(void *mem, const cc_src_filter_cfg_t *cfg) */
  cc_src_filter_init: { parameters: ["buffer", "buffer"], result: "i32" },
  /** void cc_src_filter_remote(void *mem, const uint8_t addr16[16], uint16_t port, uint32_t rtcp_port) */
  cc_src_filter_remote: { parameters: ["buffer", "buffer", "u16", "u32"], result: "void" },
  /** uint32_t cc_src_filter_rtp(void *mem, const uint8_t addr16[16], uint16_t port, uint8_t pt, uint16_t seq, uint32_t ssrc, uint64_t now_us) */
  cc_src_filter_rtp: {
    parameters: ["buffer", "buffer", "u16", "u8", "u16", "u32", "u64"],
    result: "u32",
  },
  // ---- ffi/xdp (helper "xdp" adds its symbols below this line) ----
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library. */
export type NativeLibrary = Deno.DynamicLibrary<typeof NATIVE_SYMBOLS>;

/** Return codes of ffi/abi.h. */
export const NativeCode = {
  ok: 0,
  invalid: -1001,
  noMemory: -1002,
  full: -1003,
  state: -1004,
  unsupported: -1005,
} as const;

/**
 * A native call failed: `code` is the return code (negative errno, or a `NativeCode`),
 * `reason` what the library said (`cc_engine_last_error`).
 *
 * @example
 * ```ts
 * import { NativeError } from "./mod.ts";
 * const e = new NativeError("Cannot open call", -98, "bind: Address in use");
 * console.log(e.errno); // 98
 * ```
 */
export class NativeError extends Error {
  override readonly name = "NativeError";
  constructor(what: string, readonly code: number, readonly reason: string) {
    super(`${what}: ${reason || describe(code)}`);
  }

  /** The errno when the code is a kernel error, else undefined. */
  get errno(): number | undefined {
    return this.code < 0 && this.code > -1000 ? -this.code : undefined;
  }
}

function describe(code: number): string {
  for (const [name, value] of Object.entries(NativeCode)) if (value === code) return name;
  return code < 0 && code > -1000 ? `errno ${-code}` : `code ${code}`;
}

let opened: NativeLibrary | undefined;
let openError: Error | undefined;

/** Where the library is looked up (`CLUTCH_NATIVE_LIB`, else the local build). */
export function nativeLibraryPath(): string {
  let override: string | undefined;
  try {
    override = Deno.env.get("CLUTCH_NATIVE_LIB");
  } catch (error) {
    // No --allow-env: only the local build can be used.
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
  return override ?? new URL("./build/libclutch_native.so", import.meta.url).pathname;
}

/**
 * Opens the library once per process (it is never closed: see the module doc).
 *
 * @throws {Error} when it is not built, cannot be loaded (no `--allow-ffi`), or has another
 * ABI version; the same error again on every later call.
 */
export function nativeLibrary(): NativeLibrary {
  if (opened) return opened;
  if (openError) throw openError;
  const path = nativeLibraryPath();
  try {
    Deno.statSync(path);
  } catch (error) {
    openError = new Error(
      `Cannot load the native library: ${path} is missing (run \`deno task build:native\`)`,
      { cause: error },
    );
    throw openError;
  }
  try {
    const lib = Deno.dlopen(path, NATIVE_SYMBOLS);
    const abi = lib.symbols.cc_abi_version();
    if (abi !== NATIVE_ABI_VERSION) {
      lib.close();
      throw new Error(`ABI version ${abi}, expected ${NATIVE_ABI_VERSION} (rebuild it)`);
    }
    opened = lib;
    return lib;
  } catch (error) {
    openError = new Error(`Cannot load the native library ${path}: ${(error as Error).message}`, {
      cause: error,
    });
    throw openError;
  }
}

/** The library's reason for the last failure on this thread. */
export function lastNativeError(lib: NativeLibrary = nativeLibrary()): string {
  const p = lib.symbols.cc_engine_last_error();
  return p ? Deno.UnsafePointerView.getCString(p) : "";
}

/**
 * Checks a native return code: returns it when ≥ 0, else throws a {@linkcode NativeError}
 * with the library's reason.
 *
 * @example
 * ```ts
 * import { unwrap } from "./mod.ts";
 * console.log(unwrap(3, "Cannot count")); // 3
 * ```
 */
export function unwrap(rc: number | bigint, what: string): number {
  const n = Number(rc);
  if (n >= 0) return n;
  throw new NativeError(what, n, opened ? lastNativeError(opened) : "");
}
