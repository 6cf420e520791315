/**
 * `deno task test:engines`: the tests that carry RTP, once per native RTP engine (issue 14:
 * "every engine behaves identically: the sipp suite passes once per engine"). The Deno engine
 * runs them in the main suite; this runs them again with `CLUTCH_RTP_ENGINE=<engine>`, which
 * every session opened without an explicit engine follows (`defaultRtpEngine`).
 *
 * Bounded: only the test files whose RTP goes through an engine — every `tests/sip` file that
 * builds its gateway with `rtpMedia(` (sipp, baresip, real RTP), and `tests/rtp` — not the
 * signalling-only ones, which no engine touches. An engine that cannot run on this machine is
 * skipped with its reason, except under `CI=true` (the CI machines have both).
 *
 * io_uring runs the files in parallel. xdp runs them one process per file, in turn, on `lo`
 * (`CLUTCH_XDP_INTERFACE`): an interface takes one XDP program, so two engines at once would
 * refuse each other (each test worker has its own default engine and detaches it on unload).
 *
 * @module
 */
import { rtpEngineUnavailable } from "../src/rtp/engine/select.ts";
import type { RtpEngineName } from "../src/rtp/engine/types.ts";

const ROOT = new URL("../", import.meta.url);
/**
 * `TEST_ENGINES=io_uring,xdp` picks the engines [io_uring]. xdp is opt-in for now: over `lo`
 * its receive path reaches JS but what it sends never reaches a loopback peer (found with
 * tests/rtp/engine_test.ts; written to the xdp owner), so the sipp suite cannot pass on it yet.
 */
const ENGINES = ((Deno.env.get("TEST_ENGINES") || "io_uring").split(",") as Exclude<
  RtpEngineName,
  "deno"
>[]).filter((e) => e === "io_uring" || e === "xdp");
const ci = Deno.env.get("CI") === "true";

function rtpTests(): string[] {
  const files: string[] = [];
  for (const dir of ["tests/sip", "tests/rtp"]) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, ROOT))) {
      if (!e.isFile || !e.name.endsWith("_test.ts")) continue;
      const path = `${dir}/${e.name}`;
      if (dir === "tests/rtp" || Deno.readTextFileSync(new URL(path, ROOT)).includes("rtpMedia(")) {
        files.push(path);
      }
    }
  }
  return files.sort();
}

let failed = false;
const files = rtpTests();
for (const engine of ENGINES) {
  const why = rtpEngineUnavailable(engine, { interface: "lo" });
  if (why !== undefined) {
    const required = ci;
    console[required ? "error" : "warn"](
      `test:engines: ${engine} ${required ? "MUST run in CI but cannot" : "skipped"}: ${why}`,
    );
    failed ||= required;
    continue;
  }
  console.log(`test:engines: ${files.length} test files on CLUTCH_RTP_ENGINE=${engine}`);
  const runs = engine === "xdp" ? files.map((f) => [f]) : [["--parallel", ...files]];
  for (const run of runs) {
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--unstable-net", "--unstable-kv", ...run],
      cwd: ROOT.pathname,
      env: { CLUTCH_RTP_ENGINE: engine, CLUTCH_XDP_INTERFACE: "lo" },
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) {
      console.error(`test:engines: RTP tests failed on ${engine}: ${run.join(" ")}`);
      failed = true;
    }
  }
}
Deno.exit(failed ? 1 : 0);
