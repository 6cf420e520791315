/**
 * `deno task build:native`: builds the native libraries in `ffi/` — today the Opus CTL shim
 * (`ffi/opus/opus_shim.c` → `ffi/build/libopus_shim.so`). Run by the test setup
 * (`scripts/setup_test_env.ts`) and before deploying; never at run time: the library code
 * only looks the built file up (`src/codecs/opus_native.ts`) and falls back to WASM, logged,
 * when it is absent.
 *
 * Each library is compiled into a temporary file and renamed into place, so a process that
 * has the previous build mapped keeps its (unlinked) copy intact: overwriting a loaded
 * shared object in place is what crashes the processes using it.
 *
 * `--out=<dir>` builds into another directory (tests use a temporary one).
 *
 * @module
 */

/** One native library: its C source(s) and the gcc arguments around them. */
interface NativeLibrary {
  readonly name: string;
  readonly sources: readonly string[];
  readonly libs: readonly string[];
}

const LIBRARIES: readonly NativeLibrary[] = [
  { name: "libopus_shim.so", sources: ["ffi/opus/opus_shim.c"], libs: ["-ldl"] },
];

const ROOT = new URL("../", import.meta.url);

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
    const result = new Deno.Command("gcc", {
      args: [
        "-std=gnu11",
        "-O2",
        "-g",
        "-fPIC",
        "-shared",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-o",
        temporary,
        ...sources,
        ...lib.libs,
      ],
      stdin: "null",
    }).outputSync();
    if (!result.success) {
      const stderr = new TextDecoder().decode(result.stderr).trim().split("\n").slice(0, 5);
      throw new Error(`Cannot build ${lib.name}: gcc failed: ${stderr.join(" | ")}`);
    }
    Deno.renameSync(temporary, output);
    built.push(output);
  }
  return built;
}

if (import.meta.main) {
  const out = Deno.args.find((a) => a.startsWith("--out="))?.slice("--out=".length);
  for (const path of buildNative(out)) console.log(`build:native: built ${path}`);
}
