import { assertEquals, assertThrows } from "@std/assert";
import { parseClusterConfig } from "../../src/cluster/config.ts";
import { ConfigError, loadConfig } from "../../src/server/config.ts";

Deno.test("no cluster section and no CLUTCHCALL_REDIS_URL: one node on Deno KV", () => {
  assertEquals(parseClusterConfig(undefined, {}), undefined);
});

Deno.test("the cluster section is read with its defaults, the environment overriding it", () => {
  const config = parseClusterConfig(
    { redisUrl: "redis://10.0.0.5:6379", advertise: { moq: "10.0.0.11:4443" } },
    { CLUTCHCALL_NODE_ID: "voice-a" },
  );
  assertEquals(config, {
    redisUrl: "redis://10.0.0.5:6379",
    nodeId: "voice-a",
    advertise: { moq: "10.0.0.11:4443" },
    leaseMs: 10_000,
    keyPrefix: "clutchcall:",
  });
  const fromEnv = parseClusterConfig(undefined, { CLUTCHCALL_REDIS_URL: "redis://h:1" });
  assertEquals(fromEnv?.redisUrl, "redis://h:1");
  assertEquals(fromEnv?.nodeId.endsWith(`-${Deno.pid}`), true);
});

Deno.test("a bad cluster section names every bad key", () => {
  const error = assertThrows(
    () =>
      parseClusterConfig({
        redisUrl: "http://x",
        nodeId: "has space",
        advertise: { moq: "nohost" },
        leaseMs: 5,
        extra: 1,
      }, {}),
    TypeError,
  );
  for (const key of ["redisUrl", "nodeId", "advertise.moq", "leaseMs"]) {
    assertEquals(error.message.includes(`"cluster.${key}"`), true, error.message);
  }
  assertThrows(() => parseClusterConfig("redis://x", {}), TypeError, "must be an object");
});

Deno.test("the server config carries the cluster section and reports it as a file error", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.json`;
  await Deno.writeTextFile(path, JSON.stringify({ cluster: { redisUrl: "redis://h:7" } }));
  const config = await loadConfig(["--config", path], {});
  assertEquals(config.cluster?.redisUrl, "redis://h:7");
  assertEquals((await loadConfig([], {})).cluster, undefined);
  await Deno.writeTextFile(path, JSON.stringify({ cluster: { redisUrl: 7 } }));
  const error = await loadConfig(["--config", path], {}).catch((e) => e);
  assertEquals(error instanceof ConfigError && error.source, "file");
  await Deno.remove(dir, { recursive: true });
});
