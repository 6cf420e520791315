/**
 * The BPF half of `deno task build:native`: compiles every `bpf/*.bpf.c` with clang
 * (`-O2 -g -target bpf`, BTF included for libbpf) into `<out>/bpf/*.bpf.o`, where the native
 * library finds them at run time (next to `libclutch_native.so`, or `$CLUTCH_BPF_DIR`).
 * Like the C libraries, each object is written to a temporary file and renamed into place.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/**
 * Builds the BPF objects into `<outDir>/bpf/` and returns their paths.
 *
 * @example
 * ```ts ignore
 * import { buildBpf } from "./build_bpf.ts";
 * console.log(buildBpf("/tmp/out")); // ["/tmp/out/bpf/steer.bpf.o", "/tmp/out/bpf/xdp_rtp.bpf.o"]
 * ```
 * @throws {Error} when clang is missing or fails (with its first lines of output).
 */
export function buildBpf(outDir = new URL("ffi/build/", ROOT).pathname): string[] {
  const bpfDir = new URL("bpf/", ROOT).pathname;
  const target = `${outDir.replace(/\/$/, "")}/bpf`;
  Deno.mkdirSync(target, { recursive: true });
  const sources = [...Deno.readDirSync(bpfDir)]
    .filter((e) => e.isFile && e.name.endsWith(".bpf.c"))
    .map((e) => e.name)
    .sort();
  const built: string[] = [];
  for (const source of sources) {
    const output = `${target}/${source.replace(/\.c$/, ".o")}`;
    const temporary = `${output}.${Deno.pid}.tmp`;
    const result = new Deno.Command("clang", {
      args: [
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-Wall",
        "-Werror",
        "-I/usr/include/x86_64-linux-gnu",
        "-c",
        `${bpfDir}${source}`,
        "-o",
        temporary,
      ],
      stdin: "null",
    }).outputSync();
    if (!result.success) {
      const stderr = new TextDecoder().decode(result.stderr).trim().split("\n").slice(0, 5);
      throw new Error(`Cannot build ${source}: clang failed: ${stderr.join(" | ")}`);
    }
    Deno.renameSync(temporary, output);
    built.push(output);
  }
  return built;
}

if (import.meta.main) {
  const out = Deno.args.find((a) => a.startsWith("--out="))?.slice("--out=".length);
  for (const path of buildBpf(out)) console.log(`build:native: built ${path}`);
}
