import { assertEquals, assertMatch } from "@std/assert";
import { spawnServer } from "../_lib/server_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `examples/<name>` as its header says (`deno run -A --unstable-net`), from the repo root. */
async function runExample(name: string, env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", `examples/${name}`],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("examples/originate_client.ts: an SDK client answers a client: call and both sides hear each other", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-" });
  try {
    await using server = await spawnServer({ dataDir });
    const run = await runExample("originate_client.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    assertEquals(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assertMatch(lines[0], /^originated CA\S+ to client:alice$/);
    const sid = lines[0].split(" ")[1];
    assertEquals(lines.slice(1).sort(), [
      `alice heard the app on ${sid}`,
      `call ${sid} completed (hangup)`,
      `the app heard alice on ${sid}`,
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("examples/track_logger.ts (the README's plugin): the server loads it from examples/track_logger.json and it logs a call's tracks", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-plugin-" });
  try {
    await using server = await spawnServer({
      dataDir,
      configPath: `${ROOT}examples/track_logger.json`,
      args: ["--http-port", "0", "--moq-port", "0"],
    });
    assertEquals(server.listening.plugins, ["track-logger:running"]);
    const run = await runExample("originate_client.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    assertEquals(run.code, 0, run.stderr);
    const logged = server.lines.map((line) => JSON.parse(line))
      .filter((record) => record.msg === "new track" && record.plugin === "track-logger")
      .map((record) => record.track)
      .sort();
    assertEquals(logged, ["downlink", "uplink"]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
