/**
 * The coverage-guided fuzzer on ffi/pkt's parsers (libFuzzer: `clang -fsanitize=fuzzer,
 * address,undefined`, target `ffi/pkt/fuzz_pkt.c`), run for a bounded, seeded number of inputs:
 * the same inputs every run (`-seed=1 -runs=N`), so the verdict is deterministic and fails only
 * on a finding (a crash, an out-of-bounds read, a broken invariant), never on time. A wall-clock
 * cap (`-max_total_time`) only stops a very slow machine early; it is not a failure.
 *
 * @module
 */
import { assert } from "@std/assert";
import { pathExists, requireOrSkip } from "../_lib/env.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RUNS = Number(Deno.env.get("CLUTCH_FUZZ_RUNS") ?? "400000");

function fuzzerRuntime(): boolean {
  if (!pathExists("/usr/bin/clang")) return false;
  const probe = new Deno.Command("clang", {
    args: ["-print-file-name=libclang_rt.fuzzer-x86_64.a", "-print-resource-dir"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const dir = new TextDecoder().decode(probe.stdout).trim().split("\n").at(-1) ?? "";
  return pathExists(`${dir}/lib/linux/libclang_rt.fuzzer-x86_64.a`);
}

/** Seeds: a G.711 RTP packet in UDP/IPv4/Ethernet, the same behind a VLAN tag, a bare RTP
 * packet with CSRCs, an extension and padding. Checksums are left 0: the target also parses
 * without verification, so mutations reach the deeper code from the first run. */
function seeds(): Uint8Array[] {
  const rtp = new Uint8Array(12 + 160);
  rtp.set([0x80, 0x08, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78]);
  const frame = new Uint8Array(14 + 20 + 8 + rtp.length);
  const v = new DataView(frame.buffer);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  frame.set([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2], 14);
  v.setUint16(16, 20 + 8 + rtp.length);
  v.setUint16(34, 40000);
  v.setUint16(36, 5004);
  v.setUint16(38, 8 + rtp.length);
  frame.set(rtp, 42);
  const tagged = new Uint8Array(frame.length + 4);
  tagged.set(frame.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 0x07], 12);
  tagged.set(frame.subarray(12), 16);
  const rich = new Uint8Array([
    0xb2,
    0x65,
    0,
    1,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    3,
    0,
    0,
    0,
    4,
    0,
    0,
    0,
    5,
    0xbe,
    0xde,
    0,
    1,
    0x10,
    0xaa,
    0,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    0,
    0,
    3,
  ]);
  return [frame, tagged, rich];
}

Deno.test({
  name: "ffi/pkt parsers survive a seeded libFuzzer run without a finding",
  sanitizeResources: false,
  async fn() {
    if (!requireOrSkip(fuzzerRuntime(), "clang with libFuzzer (libclang-rt-14-dev) is missing")) {
      return;
    }
    const work = await Deno.makeTempDir({ prefix: "clutch-fuzz-" });
    try {
      const bin = `${work}/fuzz_pkt`;
      const pkt = `${ROOT}ffi/pkt`;
      const build = await new Deno.Command("clang", {
        args: [
          "-std=gnu11",
          "-g",
          "-O1",
          "-fsanitize=fuzzer,address,undefined",
          "-fno-sanitize-recover=all",
          `-I${pkt}`,
          "-o",
          bin,
          `${pkt}/fuzz_pkt.c`,
          `${pkt}/pkt.c`,
          `${pkt}/rtp.c`,
          `${pkt}/src_filter.c`,
          `${pkt}/udp4.c`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(build.success, `clang failed: ${new TextDecoder().decode(build.stderr)}`);
      const corpus = `${work}/corpus`;
      await Deno.mkdir(corpus);
      for (const [i, seed] of seeds().entries()) await Deno.writeFile(`${corpus}/seed${i}`, seed);
      const run = await new Deno.Command("nice", {
        args: [
          "-n",
          "10",
          bin,
          "-seed=1",
          `-runs=${RUNS}`,
          "-max_total_time=300",
          "-max_len=2048",
          `-artifact_prefix=${work}/`,
          corpus,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(run.stderr);
      const tail = log.trim().split("\n").slice(-25).join("\n");
      assert(run.success, `fuzzer found a failing input (exit ${run.code}):\n${tail}`);
      // The run must really have executed inputs (guards against a target that returns early).
      const done = /Done (\d+) runs/.exec(log) ?? /#(\d+)\s+DONE/.exec(log);
      assert(done && Number(done[1]) > 0, `fuzzer did not report its runs:\n${tail}`);
      const cov = /DONE\s+cov: (\d+)/.exec(log);
      console.log(`fuzz_pkt: ${done[0]}, ${cov ? `cov ${cov[1]}` : "cov n/a"}`);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
