/**
 * NodeLease on a real Redis with nodes whose clocks disagree by two hours: a lease's deadline
 * is kept by Redis (`PX`), each node's clock only measures its own elapsed times, so a live
 * node is never reaped by a node whose clock runs ahead, and a stopped one is reaped.
 */
import { assert, assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import { quietPeriod, waitFor } from "../_lib/wait.ts";
import { testLogger } from "../_lib/relay_fixture.ts";
import { connectOrThrow, redisClient } from "../../src/calls/redis_store.ts";
import { NodeLease, type NodeLeaseOptions } from "../../src/cluster/node_lease.ts";
import { type Call, createCall } from "../../src/calls/call.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the test skips");

const HOUR = 3_600_000;
const LEASE_MS = 600;

Deno.test({
  name:
    "leases expire by Redis's clock: a node an hour ahead does not reap a live node an hour behind, and reaps it once it stops",
  ignore: !available,
  fn: async () => {
    await using redis = await startRedis();
    const { log } = testLogger();
    const clients = [redisClient(redis.url), redisClient(redis.url)];
    try {
      for (const client of clients) await connectOrThrow(client, 5000);
      const call: Call = createCall({
        sid: "CAskewed",
        direction: "outbound",
        from: "+14155550100",
        to: "client:alice",
        capabilities: [],
      });
      const lost: string[] = [];
      const options = (nodeId: string, offsetMs: number): NodeLeaseOptions => ({
        redis: clients[nodeId === "ahead" ? 0 : 1],
        prefix: "skew:",
        info: { nodeId, moq: "127.0.0.1:1", http: "http://127.0.0.1:1", startedAt: "" },
        leaseMs: LEASE_MS,
        log,
        clock: () => performance.now() + offsetMs,
        callsOwnedBy: (id) => Promise.resolve(id === "behind" && lost.length === 0 ? [call] : []),
        onNodeLost: (lostCall, id) => {
          lost.push(`${id}/${lostCall.sid}`);
          return Promise.resolve();
        },
      });
      await using ahead = await NodeLease.join(options("ahead", HOUR));
      const behind = await NodeLease.join(options("behind", -HOUR));
      try {
        // Several leases of renewals: nobody is reaped, both hold their leases.
        await quietPeriod(5 * LEASE_MS);
        assertEquals(lost, []);
        assert(ahead.held && behind.held, "a skewed node lost its own lease");
        assertEquals((await ahead.peer("behind"))?.nodeId, "behind");
      } finally {
        behind.close();
      }
      // Stopped: its key expires in Redis and the node ahead reaps its call.
      await waitFor("the stopped node's call to be reaped", () => lost.length > 0, {
        timeoutMs: 30_000,
      });
      assertEquals(lost, ["behind/CAskewed"]);
      assertEquals(ahead.reaped, 1);
      assert(ahead.held);
    } finally {
      for (const client of clients) client.disconnect();
    }
  },
});
