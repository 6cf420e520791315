/**
 * `deno task test:engines`: the tests that carry RTP, once per native RTP engine (issue 14:
 * "every engine behaves identically: the sipp suite passes once per engine"). The Deno engine
 * runs them in the main suite; this runs them again with `CLUTCH_RTP_ENGINE=<engine>`, which
 * every session opened without an explicit engine follows (`defaultRtpEngine`).
 *
 * Bounded: only the test files whose RTP goes through an engine — every `tests/sip` file that
 * builds its gateway with `rtpMedia(` (sipp, baresip, real RTP), and `tests/rtp` — not the
 * signalling-only ones, which no engine touches. An engine that cannot run on this machine is
 * skipped with its reason, except under `CI=true` for io_uring (the CI machines have it).
 *
 * @module
 */
import { rtpEngineUnavailable } from "../src/rtp/engine/select.ts";
import type { RtpEngineName } from "../src/rtp/engine/types.ts";

const ROOT = new URL("../", import.meta.url);
const ENGINES: readonly Exclude<RtpEngineName, "deno">[] = ["io_uring", "xdp"];
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
  const why = rtpEngineUnavailable(engine);
  if (why !== undefined) {
    const required = ci && engine === "io_uring";
    console[required ? "error" : "warn"](
      `test:engines: ${engine} ${required ? "MUST run in CI but cannot" : "skipped"}: ${why}`,
    );
    failed ||= required;
    continue;
  }
  console.log(`test:engines: ${files.length} test files on CLUTCH_RTP_ENGINE=${engine}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--unstable-net", "--unstable-kv", "--parallel", ...files],
    cwd: ROOT.pathname,
    env: { CLUTCH_RTP_ENGINE: engine },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    console.error(`test:engines: the RTP tests failed on ${engine}`);
    failed = true;
  }
}
Deno.exit(failed ? 1 : 0);
