import { assert, assertEquals } from "@std/assert";
import { KvCallStore } from "../../src/calls/kv_store.ts";
import { advanceCall, createCall } from "../../src/calls/call.ts";

function call(sid: string, ms: number) {
  return createCall({
    sid,
    direction: "outbound",
    from: "+14155550100",
    to: "client:a",
    capabilities: [],
    now: new Date(ms),
  });
}

Deno.test("the KV store writes a call, its index and its idempotency record atomically, or nothing", async () => {
  const dir = await Deno.makeTempDir();
  await using store = await KvCallStore.open(`${dir}/calls.kv`);
  const a = call("CAa", 1000);
  const record = { key: "-:k", fingerprint: "f", status: 201, body: a, createdAt: "" };
  assertEquals((await store.putCall(a, null, record)).ok, true);
  // Same idempotency key on another call: refused as a whole, the call is not written.
  const b = call("CAb", 2000);
  assertEquals(await store.putCall(b, null, { ...record, body: b }), {
    ok: false,
    conflict: "idempotency",
  });
  assertEquals(await store.getCall("CAb"), undefined);
  assertEquals((await store.listCalls({}, 10)).calls.map((c) => c.sid), ["CAa"]);
  // A stale version is refused.
  const found = (await store.getCall("CAa"))!;
  const ringing = advanceCall(found.call, "ringing");
  assert((await store.putCall(ringing, found.version)).ok);
  assertEquals(await store.putCall(ringing, found.version), { ok: false, conflict: "call" });
  assertEquals((await store.liveCalls()).map((c) => c.sid), ["CAa"]);
  const ended = advanceCall(ringing, "no_answer", "no_answer");
  assert((await store.putCall(ended, (await store.getCall("CAa"))!.version)).ok);
  assertEquals(await store.liveCalls(), []);
  assertEquals((await store.listCalls({ status: "no_answer" }, 10)).calls.length, 1);
  assertEquals((await store.listCalls({ status: "ringing" }, 10)).calls.length, 0);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("listing within some sids pages newest first and honours the filters", async () => {
  await using store = await KvCallStore.open();
  for (let i = 0; i < 6; i++) await store.putCall(call(`CA${i}`, 1000 + i * 10), null);
  const sids = ["CA1", "CA2", "CA4", "CA5", "CAmissing"];
  const first = await store.listCalls({ sids }, 2);
  assertEquals(first.calls.map((c) => c.sid), ["CA5", "CA4"]);
  const second = await store.listCalls({ sids }, 2, first.nextCursor);
  assertEquals(second.calls.map((c) => c.sid), ["CA2", "CA1"]);
  assertEquals(second.nextCursor, undefined);
  const window = await store.listCalls({ sids, createdAfter: 1020, createdBefore: 1050 }, 10);
  assertEquals(window.calls.map((c) => c.sid), ["CA4", "CA2"]);
  assertEquals((await store.listCalls({ sids: [] }, 10)).calls, []);
});
