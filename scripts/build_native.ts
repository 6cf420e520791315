/**
 * `deno task build:native`: builds the native libraries in `ffi/` — the Opus CTL shim
 * (`ffi/opus/opus_shim.c` → `ffi/build/libopus_shim.so`) and the RTP fast path
 * (`ffi/{ring,engine,uring,pkt,xdp}/*.c` → `ffi/build/libclutch_native.so`, with liburing;
 * `test_*.c` and `fuzz_*.c` files are not part of it). Run by the test setup
 * (`scripts/setup_test_env.ts`) and before deploying; never at run time: the library code
 * only looks the built file up (`src/codecs/opus_native.ts`) and falls back to WASM, logged,
 * when it is absent.
 *
 * Each library is compiled into a temporary file and renamed into place, so a process that
 * has the previous build mapped keeps its (unlinked) copy intact: overwriting a loaded
 * shared object in place is what crashes the processes using it.
 *
 * `--out=<dir>` builds into another directory (tests use a temporary one). `--tests` also
 * builds the C unit tests (`ffi/<folder>/test_*.c`, each linked with its folder's sources and
 * the ones it needs) into `<out>/test/`; `tests/ffi/c_unit_test.ts` runs them.
 *
 * @module
 */
import { buildBpf } from "./build_bpf.ts";

/** One native library: its C source(s) and the gcc arguments around them. */
interface NativeLibrary {
  readonly name: string;
  readonly sources: readonly string[];
  readonly libs: readonly string[];
}

const ROOT = new URL("../", import.meta.url);

/** The C files of `folders` (relative to the repository), minus tests and fuzzers, sorted. */
function sourcesIn(folders: readonly string[]): string[] {
  const found: string[] = [];
  for (const folder of folders) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(new URL(`${folder}/`, ROOT))];
    } catch (error) {
      // A folder another helper has not landed yet (ffi/xdp): nothing to build there.
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const e of entries) {
      if (e.isFile && e.name.endsWith(".c") && !/^(test|fuzz)_/.test(e.name)) {
        found.push(`${folder}/${e.name}`);
      }
    }
  }
  return found.sort();
}

/** The folders of libclutch_native.so (see ffi/abi.h and /ffi/engine/engine.h). */
const NATIVE_FOLDERS = ["ffi/ring", "ffi/engine", "ffi/uring", "ffi/pkt", "ffi/xdp"] as const;

/** What libclutch_native.so links: liburing (ffi/uring), libxdp + libbpf (ffi/xdp, bpf/). */
const NATIVE_LIBS = ["-luring", "-lxdp", "-lbpf", "-lelf", "-lz", "-ldl", "-lpthread"] as const;

const LIBRARIES: readonly NativeLibrary[] = [
  { name: "libopus_shim.so", sources: ["ffi/opus/opus_shim.c"], libs: ["-ldl"] },
  {
    name: "libclutch_native.so",
    sources: sourcesIn(NATIVE_FOLDERS),
    libs: NATIVE_LIBS,
  },
];

function gcc(args: string[], what: string): void {
  const result = new Deno.Command("gcc", {
    args: ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", ...args],
    stdin: "null",
  }).outputSync();
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr).trim().split("\n").slice(0, 5);
    throw new Error(`Cannot build ${what}: gcc failed: ${stderr.join(" | ")}`);
  }
}

/**
 * Builds the C unit tests (`ffi/<folder>/test_*.c`) into `<outDir>/test/`, each linked with
 * the library's sources; returns the binaries.
 */
export function buildNativeTests(outDir = new URL("ffi/build/", ROOT).pathname): string[] {
  const dir = `${outDir.replace(/\/$/, "")}/test`;
  Deno.mkdirSync(dir, { recursive: true });
  const lib = sourcesIn(NATIVE_FOLDERS).map((s) => new URL(s, ROOT).pathname);
  const built: string[] = [];
  // The BPF objects the tests load (found at <test dir>/../bpf, see ffi/xdp/bpf_obj.h).
  buildBpf(outDir);
  for (const folder of NATIVE_FOLDERS) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(new URL(`${folder}/`, ROOT))];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const tests = entries.filter((e) => /^test_.*\.c$/.test(e.name));
    // By name: DirEntry objects have no order of their own (sorting them throws).
    for (const e of tests.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
      const output = `${dir}/${e.name.slice(0, -2)}`;
      const temporary = `${output}.${Deno.pid}.tmp`;
      gcc(
        [
          "-o",
          temporary,
          new URL(`${folder}/${e.name}`, ROOT).pathname,
          // Sanitized: a C test reading past a hostile buffer's end must fail, not pass.
          "-fsanitize=address,undefined",
          "-fno-sanitize-recover=all",
          ...lib,
          ...NATIVE_LIBS,
        ],
        e.name,
      );
      Deno.renameSync(temporary, output);
      built.push(output);
    }
  }
  return built;
}

/**
 * Builds every library into `outDir` (default `ffi/build/`); returns the paths built.
 *
 * @throws {Error} when gcc is missing or fails (with its first lines of output).
 */
export function buildNative(outDir = new URL("ffi/build/", ROOT).pathname): string[] {
  Deno.mkdirSync(outDir, { recursive: true });
  const built: string[] = [];
  for (const lib of LIBRARIES) {
    const output = `${outDir.replace(/\/$/, "")}/${lib.name}`;
    const temporary = `${output}.${Deno.pid}.tmp`;
    const sources = lib.sources.map((s) => new URL(s, ROOT).pathname);
    gcc(["-fPIC", "-shared", "-o", temporary, ...sources, ...lib.libs], lib.name);
    Deno.renameSync(temporary, output);
    built.push(output);
  }
  return built;
}

if (import.meta.main) {
  const out = Deno.args.find((a) => a.startsWith("--out="))?.slice("--out=".length);
  for (const path of buildNative(out)) console.log(`build:native: built ${path}`);
  if (Deno.args.includes("--tests")) {
    for (const path of buildNativeTests(out)) console.log(`build:native: built ${path}`);
  }
  for (const path of buildBpf(out)) console.log(`build:native: built ${path}`);
}
