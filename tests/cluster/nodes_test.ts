import { assert, assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis } from "../_lib/redis.ts";
import { isStatus, nextMatching, startNode, startSipPair } from "./_cluster.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the cluster tests skip");

Deno.test({
  name:
    "three nodes on one Redis: any node takes any request, control reaches the owner, a lost node's calls end node_lost, a Redis restart loses nothing",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // B is the node with the SIP gateway; its trunk is a real sipp UAS.
    await using pair = await startSipPair();
    const { redis, uas, a, b } = pair;
    await using c = await startNode(redis, "node-c");
    const stop = new AbortController();
    try {
      // A client registered on A can be rung from any node (one store).
      await a.voice.clients.add("gina");

      // gina listens for calls on C; a call rung from C itself says the stream is connected
      // (then A's ring below is delivered live).
      const incoming = c.voice.clients.incoming("gina", { signal: stop.signal });
      const probe = await c.voice.calls.originate({ from: "+14155550100", to: "client:gina" });
      await nextMatching(
        incoming,
        (event) => event.type === "ring" && event.call.sid === probe.sid,
      );
      await c.voice.calls.hangup(probe.sid);
      // Originate on A; the same idempotent request retried on B returns the same call.
      const params = { from: "+14155550100", to: "client:gina" };
      const first = await a.voice.calls.originate(params, { idempotencyKey: "cluster-k1" });
      // The ring A emits reaches gina's stream on C.
      const ring = await nextMatching(
        incoming,
        (event) => event.type === "ring" && event.call.sid === first.sid,
      );
      assertEquals(ring.call.status, "ringing");
      const retried = await b.voice.calls.originate(params, { idempotencyKey: "cluster-k1" });
      assertEquals(retried.sid, first.sid);

      // SSE on C streams A's call (events published by A, delivered by C).
      const onC = c.voice.calls.events(first.sid, { signal: stop.signal });
      await nextMatching(onC, isStatus("ringing"));
      // Answer and hang up through C: forwarded to A, which owns the call's legs.
      const answered = await c.voice.calls.answer(first.sid);
      assertEquals(answered.status, "in_progress");
      await nextMatching(onC, isStatus("in_progress"));
      const ended = await c.voice.calls.hangup(first.sid);
      assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
      const seen = await nextMatching(onC, isStatus("completed"));
      assertEquals(seen.type === "status" && seen.call.endReason, "hangup");

      // A SIP call whose leg is on B, hung up through C: B's gateway sends the BYE (sipp's
      // UAS scenario ends only on a BYE, so its clean exit proves the hangup reached B).
      const sipCall = await b.voice.calls.originate({ from: "+14155550100", to: "+14155550123" });
      const sipEvents = c.voice.calls.events(sipCall.sid, { signal: stop.signal });
      await nextMatching(sipEvents, isStatus("in_progress"));
      const sipEnded = await c.voice.calls.hangup(sipCall.sid);
      assertEquals([sipEnded.status, sipEnded.endReason], ["completed", "hangup"]);
      const uasResult = await uas.done;
      assertEquals(uasResult.code, 0, new TextDecoder().decode(uasResult.stderr));

      // Calls owned by each node; B's will be lost.
      const onA = await a.voice.calls.originate(params);
      const onB = await b.voice.calls.originate(params);
      const onCc = await c.voice.calls.originate(params);
      for (const call of [onA, onB, onCc]) {
        const events = a.voice.calls.events(call.sid, { signal: stop.signal });
        await nextMatching(events, isStatus("ringing"));
      }
      await c.voice.calls.answer(onCc.sid);
      const bEvents = a.voice.calls.events(onB.sid, { signal: stop.signal });

      // kill -9 B: once its lease expires another node ends its calls; A's and C's go on.
      await b.kill();
      const lost = await nextMatching(bEvents, isStatus("failed"));
      assertEquals(lost.type === "status" && lost.call.endReason, "node_lost");
      assertEquals((await a.voice.calls.get(onA.sid)).status, "ringing");
      assertEquals((await c.voice.calls.get(onCc.sid)).status, "in_progress");

      // Redis restarted mid-run: what was accepted is still there; the nodes carry on.
      await redis.kill();
      await redis.start();
      const back = await eventuallyOk(() => a.voice.calls.get(onCc.sid));
      assertEquals(back.status, "in_progress");
      assertEquals((await eventuallyOk(() => c.voice.calls.get(first.sid))).status, "completed");
      // Control still reaches the owner, and a new call can be placed.
      const hung = await eventuallyOk(() => a.voice.calls.hangup(onCc.sid));
      assertEquals([hung.status, hung.endReason], ["completed", "hangup"]);
      const after = await eventuallyOk(() => c.voice.calls.originate(params));
      assertEquals(after.status, "dialing");
      // Both nodes come back to ready once their leases are renewed.
      for (const node of [a, c]) {
        await eventuallyOk(async () => {
          const response = await fetch(`${node.http}/readyz`);
          await response.body?.cancel();
          assert(response.ok, `${node.nodeId} not ready`);
        });
      }
      // A's ringing call was never touched by the node loss nor the restart.
      assertEquals((await c.voice.calls.get(onA.sid)).status, "ringing");
    } finally {
      stop.abort();
    }
  },
});

/** Retries `op` until it succeeds (a request refused while Redis restarts): bounded. */
async function eventuallyOk<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt > 400) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
