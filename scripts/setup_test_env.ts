/**
 * Prepares a fresh Debian machine for `deno task test`: installs, with apt, the system
 * packages the tests use (only those missing, only when running as root) and says what it
 * installs. Without root it lists what is missing; the tests that need it then skip loudly
 * (outside CI) or fail (in CI).
 *
 * @module
 */
import { buildNative, buildNativeTests } from "./build_native.ts";
import { buildBpf } from "./build_bpf.ts";

/** A Debian package and how to tell it is already there. */
interface SystemPackage {
  readonly name: string;
  /** Why the tests need it. */
  readonly usedBy: string;
  /** A file whose presence means the package is installed. */
  readonly probe: string;
}

const PACKAGES: readonly SystemPackage[] = [
  { name: "sox", usedBy: "G.711 reference checks and audio fixtures", probe: "/usr/bin/sox" },
  {
    name: "libopus-dev",
    usedBy: "the native Opus backend (FFI)",
    probe: "/usr/include/opus/opus.h",
  },
  { name: "gcc", usedBy: "building the native shims in ffi/", probe: "/usr/bin/gcc" },
  {
    name: "liburing-dev",
    usedBy: "the io_uring RTP engine in ffi/uring (libclutch_native.so)",
    probe: "/usr/include/liburing.h",
  },
  {
    name: "openssl",
    usedBy: "checking the development certificate with an independent parser",
    probe: "/usr/bin/openssl",
  },
  {
    name: "sip-tester",
    usedBy: "sipp, the real SIP/RTP peer of the RTP and SIP tests",
    probe: "/usr/bin/sipp",
  },
  {
    name: "baresip",
    usedBy: "a real third-party SIP user agent calling the gateway and called by it",
    probe: "/usr/bin/baresip",
  },
  {
    name: "pocketsphinx",
    usedBy: "a real offline recognizer hearing what the ASR tap sends (with pocketsphinx-en-us)",
    probe: "/usr/bin/pocketsphinx_continuous",
  },
  {
    name: "pocketsphinx-en-us",
    usedBy: "the pocketsphinx acoustic model and dictionary",
    probe: "/usr/share/pocketsphinx/model/en-us/en-us",
  },
  {
    name: "chromium",
    usedBy: "the browser softphone tests (headless, driven by playwright-core)",
    probe: "/usr/bin/chromium",
  },
  {
    name: "redis-server",
    usedBy: "the Redis call store and the cluster tests (several nodes on one Redis)",
    probe: "/usr/bin/redis-server",
  },
  {
    name: "prometheus",
    usedBy: "promtool check metrics, validating GET /metrics",
    probe: "/usr/bin/promtool",
  },
  // The kernel-bypass engine (ffi/xdp, bpf/): BPF programs, AF_XDP, the packet fuzzer.
  {
    name: "clang",
    usedBy: "compiling bpf/*.bpf.c and the libFuzzer target",
    probe: "/usr/bin/clang",
  },
  {
    name: "libclang-rt-14-dev",
    usedBy: "libFuzzer and the sanitizers for the packet-parser fuzzer",
    probe: "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a",
  },
  {
    name: "libbpf-dev",
    usedBy: "loading the XDP and sk_reuseport programs",
    probe: "/usr/include/bpf/libbpf.h",
  },
  {
    name: "libxdp-dev",
    usedBy: "AF_XDP sockets and UMEM (xsk.h)",
    probe: "/usr/include/xdp/xsk.h",
  },
  { name: "libelf-dev", usedBy: "libbpf's ELF loader", probe: "/usr/include/libelf.h" },
  { name: "zlib1g-dev", usedBy: "libbpf's link dependency", probe: "/usr/include/zlib.h" },
  {
    name: "iproute2",
    usedBy: "network namespaces and veth pairs for the XDP tests",
    probe: "/usr/sbin/ip",
  },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).spawn();
  return (await child.status).success;
}

const missing = PACKAGES.filter((p) => !exists(p.probe));
if (missing.length === 0) {
  console.log("setup: all system packages for the tests are present");
} else if (Deno.uid() === 0) {
  console.log(
    `setup: installing with apt-get: ${missing.map((p) => `${p.name} (${p.usedBy})`).join(", ")}`,
  );
  const names = missing.map((p) => p.name);
  const ok = await run("apt-get", ["install", "-y", "--no-install-recommends", ...names]) ||
    (await run("apt-get", ["update"]) &&
      await run("apt-get", ["install", "-y", "--no-install-recommends", ...names]));
  if (!ok) {
    console.error("setup: apt-get failed; the tests that need these packages will fail");
    Deno.exit(1);
  }
} else {
  console.warn(
    `setup: NOT ROOT, cannot install: ${
      missing.map((p) => `${p.name} (${p.usedBy})`).join(", ")
    }. Tests that need them will skip with a reason (and fail under CI=true).`,
  );
}

// The native libraries (ffi/): built here, never at run time by the code that loads them.
try {
  for (const path of buildNative()) console.log(`setup: built ${path} (deno task build:native)`);
  for (const path of buildNativeTests()) console.log(`setup: built ${path} (C unit test)`);
} catch (error) {
  console.warn(
    `setup: cannot build the native libraries (the Opus tests will use WASM, the native RTP engines are unavailable): ${
      (error as Error).message
    }`,
  );
}

try {
  for (const path of buildBpf()) console.log(`setup: built ${path} (deno task build:native)`);
} catch (error) {
  console.warn(
    `setup: cannot build the BPF programs, the xdp engine will be unavailable: ${
      (error as Error).message
    }`,
  );
}
