/**
 * A shard Worker's log records reach the server's own sink (a custom one here), in its format,
 * with the Worker's `shard` field: a real 2-shard server, a real QUIC connection refused on the
 * Worker shard's port.
 *
 * @module
 */
import { assertEquals, assertRejects } from "@std/assert";
import { startServer } from "../../calls/_server.ts";
import { MoqClient } from "../../../src/relay/client.ts";
import { waitFor } from "../../_lib/wait.ts";

Deno.test("shards=2: a connection refused on the Worker shard is logged through the server's sink, with shard 1 and the error", async () => {
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  const pool = fx.server.shards!;
  await assertRejects(() =>
    MoqClient.connect({
      hostname: "127.0.0.1",
      port: pool.port(1),
      caCerts: [fx.server.certificate.certPem],
      token: "not-a-token",
    })
  );
  const refused = () =>
    fx.logs.map((line) => JSON.parse(line)).find((record) =>
      record.msg === "MoQT connection refused" && record.shard === 1
    );
  await waitFor("the Worker shard's refusal in the server's sink", () => !!refused(), {
    timeoutMs: 10_000,
  });
  const record = refused();
  assertEquals(record.level, "warn");
  assertEquals(record.component, "relay");
  assertEquals(record.error.name, "MoqError", "the error keeps its class name");
  assertEquals(typeof record.error.message, "string");
  assertEquals(typeof record.error.stack, "string");
});
