/**
 * A `client:` call rung by one node, answered by the client attaching on another: the
 * client's uplink, published on C, is announced to A (which rings the call), so A answers it;
 * the client leaving ends it `caller_hangup`.
 */
import { assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import { isStatus, nextMatching, sharedCertificate, startNode } from "./_cluster.ts";
import { attachCaller } from "../../src/bridge/mod.ts";

const available = hasRedis();
if (!available) requireOrSkip(false, "redis-server is not installed: the test skips");

Deno.test({
  name:
    "a client: call rung on node A is answered by its client attaching on node C, and ends caller_hangup when it leaves",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using tls = await sharedCertificate();
    const { file } = tls;
    await using a = await startNode(redis, "node-a", { file });
    await using c = await startNode(redis, "node-c", { file });
    await using moqC = await tls.connect(c);
    const stop = new AbortController();
    try {
      await a.voice.clients.add("gina");
      const call = await a.voice.calls.originate({ from: "+14155550100", to: "client:gina" });
      const events = c.voice.calls.events(call.sid, { signal: stop.signal });
      await nextMatching(events, isStatus("ringing"));
      // gina answers by attaching on C: her uplink is published there, not on A.
      const phone = await attachCaller(moqC, { sid: call.sid, codec: "pcm16", sampleRate: 8000 });
      await nextMatching(events, isStatus("in_progress"));
      assertEquals((await a.voice.calls.get(call.sid)).status, "in_progress");
      // She hangs up: her uplink ends cleanly.
      phone.close();
      const ended = await nextMatching(events, isStatus("completed"));
      assertEquals(ended.type === "status" && ended.call.endReason, "caller_hangup");
    } finally {
      stop.abort();
    }
  },
});

Deno.test({
  name:
    "an incoming stream opened on node C starts with the call ringing its client on node A (the cluster's rings)",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using redis = await startRedis();
    await using a = await startNode(redis, "node-a");
    await using c = await startNode(redis, "node-c");
    const stop = new AbortController();
    try {
      await a.voice.clients.add("hana");
      const call = await a.voice.calls.originate({ from: "+14155550100", to: "client:hana" });
      const events = a.voice.calls.events(call.sid, { signal: stop.signal });
      await nextMatching(events, isStatus("ringing"));
      // The ring happened before this stream opened, on another node: it is listed first.
      const incoming = c.voice.clients.incoming("hana", { signal: stop.signal });
      const first = await nextMatching(incoming, () => true);
      assertEquals([first.type, first.call.sid, first.call.status], ["ring", call.sid, "ringing"]);
      // And it is told when that call stops ringing there.
      await a.voice.calls.hangup(call.sid);
      const cancel = await nextMatching(incoming, (event) => event.type === "cancel");
      assertEquals(cancel.call.sid, call.sid);
    } finally {
      stop.abort();
    }
  },
});
