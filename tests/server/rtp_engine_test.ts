/**
 * The real server's choice of RTP engine (`sip.rtpEngine`, issue 14): its first log lines say
 * which engine runs and why the better ones did not; a bad value stops it at startup.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { listeningSipPort, spawnServer } from "../_lib/server_process.ts";
import { rtpEngineUnavailable } from "../../src/rtp/engine/select.ts";

async function withConfig(rtpEngine: unknown): Promise<{ dataDir: string; configPath: string }> {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-rtp-engine-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      sip: {
        // Port 0: the server binds one itself (a port probed free here could be taken by a
        // test beside this one before the server binds it) and reports it.
        listen: { host: "127.0.0.1", port: 0 },
        publicAddress: "127.0.0.1",
        rtpEngine,
        trunks: [],
        inbound: [],
      },
    }),
  );
  return { dataDir, configPath };
}

const messages = (lines: string[]) =>
  lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as { msg: string; why?: string; engine?: string }];
    } catch {
      return [];
    }
  });

Deno.test("with rtpEngine auto the server logs the engine it runs and why xdp was passed over, before it listens", async () => {
  const { dataDir, configPath } = await withConfig("auto");
  try {
    await using server = await spawnServer({
      dataDir,
      configPath,
      args: ["--http-port", "0", "--moq-port", "0"],
      env: { CLUTCH_RTP_ENGINE: "" },
    });
    const records = messages(server.lines);
    const expected = rtpEngineUnavailable("io_uring") === undefined ? "io_uring" : "deno";
    const chosen = records.findIndex((r) => r.msg.startsWith("RTP engine: "));
    const listening = records.findIndex((r) => r.msg === "ClutchCall Voice listening");
    assert(chosen >= 0 && chosen < listening, server.lines.join("\n"));
    assert(listeningSipPort(server.listening) > 0);
    assertEquals(records[chosen].msg, `RTP engine: ${expected}`);
    const xdp = records.find((r) => r.msg === "RTP engine xdp not used");
    assert(xdp?.why && /loopback/.test(xdp.why), `xdp's reason: ${JSON.stringify(xdp)}`);
    if (expected === "io_uring" && navigator.hardwareConcurrency > 1) {
      // Its shards share the configured RTP range through sk_reuseport, said before it listens.
      const steering = records.findIndex((r) => r.msg === "RTP steering: sk_reuseport");
      assert(steering >= 0 && steering < listening, server.lines.join("\n"));
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("with rtpEngine deno the server runs the Deno engine and says the config asked for it", async () => {
  const { dataDir, configPath } = await withConfig("deno");
  try {
    await using server = await spawnServer({
      dataDir,
      configPath,
      args: ["--http-port", "0", "--moq-port", "0"],
      env: { CLUTCH_RTP_ENGINE: "" },
    });
    const chosen = messages(server.lines).find((r) => r.msg.startsWith("RTP engine: "));
    assertEquals(chosen?.msg, "RTP engine: deno");
    assertEquals(chosen?.why, 'sip.rtpEngine is "deno"');
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an unknown rtpEngine stops the server at startup with the config error (exit 2)", async () => {
  const { dataDir, configPath } = await withConfig("fast");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--unstable-net",
        "--unstable-kv",
        new URL("../../src/server/main.ts", import.meta.url).pathname,
        "--data-dir",
        dataDir,
        "--config",
        configPath,
        "--http-port",
        "0",
        "--moq-port",
        "0",
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 2, stderr); // a config error, as for every other bad setting
    assert(/sip\.rtpEngine/.test(stderr), stderr);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
