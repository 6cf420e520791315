import { assertEquals } from "@std/assert";
import { loadConfig } from "../../src/server/config.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { testLogger } from "../_lib/relay_fixture.ts";
import { waitFor } from "../_lib/wait.ts";

Deno.test("plugins listed in the config file start with the server and stop with it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-plugins-" });
  const pluginPath = new URL("../plugins/fixtures/counting_plugin.ts", import.meta.url).pathname;
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      plugins: [
        { module: pluginPath, options: { key: "__server_counted" } },
        { module: pluginPath, options: { key: "__never" }, enabled: false },
      ],
    }),
  );
  const config = await loadConfig(
    ["--config", `${dir}/config.json`, "--http-port", "0", "--moq-port", "0", "--data-dir", dir],
    {},
  );
  const server = await VoiceServer.start(config, testLogger().log);
  try {
    assertEquals(server.plugins.status().map((p) => p.state), ["running"]);
    const track = server.relay.origin.publishTrack({
      namespace: ["voice", "CA9"],
      name: "uplink",
      capability: "voice/g711_ulaw",
    });
    const group = track.appendGroup();
    for (let i = 0; i < 7; i++) group.write({ id: i, payload: new Uint8Array(160) });
    group.close();
    track.close();
    const counted = () =>
      ((globalThis as Record<string, unknown>).__server_counted as Record<string, number>)[
        "voice/CA9/uplink"
      ];
    await waitFor("the plugin to count the track's objects", () => (counted() ?? 0) >= 7);
    assertEquals(counted(), 7);
    assertEquals((globalThis as Record<string, unknown>).__never, undefined);
  } finally {
    await server.close(10);
  }
  const counts = (globalThis as Record<string, unknown>).__server_counted as Record<string, number>;
  assertEquals(counts.__stopped, 1, "the plugin's teardown ran at shutdown");
  await Deno.remove(dir, { recursive: true });
});
