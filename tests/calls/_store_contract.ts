/**
 * The {@linkcode CallStore} contract, run against every implementation (Deno KV in
 * `kv_store_test.ts`, Redis in `redis_store_test.ts`): the same cases, the same answers.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import type { CallStore } from "../../src/calls/store.ts";
import { advanceCall, type Call, createCall } from "../../src/calls/call.ts";
import { InvalidCursorError } from "../../src/calls/store.ts";

/** Opens an empty store for one test; disposing it frees what it holds. */
export type OpenStore = () => Promise<CallStore & AsyncDisposable>;

/** A call created at `ms`. */
export function callAt(sid: string, ms: number, direction: Call["direction"] = "outbound"): Call {
  return createCall({
    sid,
    direction,
    from: "+14155550100",
    to: "client:a",
    capabilities: [],
    now: new Date(ms),
  });
}

/** Registers the contract's tests for the store `open` makes, named after `name`. */
export function storeContract(name: string, open: OpenStore, ignore = false): void {
  const test = (title: string, fn: (store: CallStore) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore,
      fn: async () => {
        await using store = await open();
        await fn(store);
      },
    });

  test("writes a call, its index and its idempotency record atomically, or nothing", async (store) => {
    const a = callAt("CAa", 1000);
    const record = { key: "-:k", fingerprint: "f", status: 201, body: a, createdAt: "" };
    assertEquals((await store.putCall(a, null, record)).ok, true);
    // Same idempotency key on another call: refused as a whole, the call is not written.
    const b = callAt("CAb", 2000);
    assertEquals(await store.putCall(b, null, { ...record, body: b }), {
      ok: false,
      conflict: "idempotency",
    });
    assertEquals(await store.getCall("CAb"), undefined);
    assertEquals((await store.listCalls({}, 10)).calls.map((c) => c.sid), ["CAa"]);
    assertEquals((await store.getIdempotency("-:k"))?.body, a);
    // Creating an existing call is a conflict.
    assertEquals(await store.putCall(a, null), { ok: false, conflict: "call" });
  });

  test("refuses a stale version: status moves forward once", async (store) => {
    await store.putCall(callAt("CAa", 1000), null);
    const found = (await store.getCall("CAa"))!;
    const ringing = advanceCall(found.call, "ringing");
    assert((await store.putCall(ringing, found.version)).ok);
    assertEquals(await store.putCall(ringing, found.version), { ok: false, conflict: "call" });
    assertEquals((await store.liveCalls()).map((c) => c.sid), ["CAa"]);
    const ended = advanceCall(ringing, "no_answer", "no_answer");
    assert((await store.putCall(ended, (await store.getCall("CAa"))!.version)).ok);
    assertEquals(await store.liveCalls(), []);
    assertEquals((await store.getCall("CAa"))?.call.status, "no_answer");
    assertEquals((await store.listCalls({ status: "no_answer" }, 10)).calls.length, 1);
    assertEquals((await store.listCalls({ status: "ringing" }, 10)).calls.length, 0);
  });

  test("of writers racing from one version exactly one wins", async (store) => {
    await store.putCall(callAt("CAr", 1000), null);
    const base = (await store.getCall("CAr"))!;
    const results = await Promise.all(
      (["in_progress", "completed", "failed", "no_answer", "ringing"] as const).map((status) =>
        store.putCall(
          advanceCall(
            base.call,
            status,
            status === "in_progress" || status === "ringing" ? undefined : "hangup",
          ),
          base.version,
        )
      ),
    );
    assertEquals(results.filter((r) => r.ok).length, 1);
    assertEquals(results.filter((r) => !r.ok && r.conflict === "call").length, 4);
  });

  test("lists newest first, filtered, in pages whose cursors chain", async (store) => {
    for (let i = 0; i < 7; i++) {
      await store.putCall(callAt(`CA${i}`, 1000 + i * 10, i % 2 ? "inbound" : "outbound"), null);
    }
    // Two calls created in the same millisecond are ordered by sid, as everywhere.
    await store.putCall(callAt("CA3b", 1030), null);
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listCalls({}, 3, cursor);
      all.push(...page.calls.map((c) => c.sid));
      cursor = page.nextCursor;
    } while (cursor);
    assertEquals(all, ["CA6", "CA5", "CA4", "CA3b", "CA3", "CA2", "CA1", "CA0"]);
    const inbound = await store.listCalls({ direction: "inbound" }, 2);
    assertEquals(inbound.calls.map((c) => c.sid), ["CA5", "CA3"]);
    const next = await store.listCalls({ direction: "inbound" }, 2, inbound.nextCursor);
    assertEquals(next.calls.map((c) => c.sid), ["CA1"]);
    assertEquals(next.nextCursor, undefined);
    const window = await store.listCalls({ createdAfter: 1020, createdBefore: 1050 }, 10);
    assertEquals(window.calls.map((c) => c.sid), ["CA4", "CA3b", "CA3", "CA2"]);
    assertEquals((await store.listCalls({ status: "dialing" }, 100)).calls.length, 8);
    await assertRejects(() => store.listCalls({}, 3, "not-a-cursor"), InvalidCursorError);
  });

  test("lists within some sids newest first and honours the filters", async (store) => {
    for (let i = 0; i < 6; i++) await store.putCall(callAt(`CA${i}`, 1000 + i * 10), null);
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

  test("keeps bare idempotency records and client registrations", async (store) => {
    const record = { key: "id:k1", fingerprint: "f", status: 200, body: { x: 1 }, createdAt: "t" };
    assert((await store.putIdempotency(record)).ok);
    assertEquals(await store.putIdempotency(record), { ok: false, conflict: "idempotency" });
    assertEquals(await store.getIdempotency("id:k1"), record);
    assertEquals(await store.getIdempotency("id:other"), undefined);
    const alice = { identity: "alice", registeredAt: "2026-12-03T00:00:00.000Z" };
    assert((await store.putClient(alice, { ...record, key: "id:k2" })).ok);
    assertEquals(await store.getClient("alice"), alice);
    // A taken idempotency key refuses the registration as a whole.
    const bob = { identity: "bob", registeredAt: "2026-12-03T00:00:00.000Z" };
    assertEquals(await store.putClient(bob, record), { ok: false, conflict: "idempotency" });
    assertEquals(await store.getClient("bob"), undefined);
    // Refreshing is allowed; deleting forgets.
    assert((await store.putClient({ ...alice, registeredAt: "2026-12-04T00:00:00.000Z" })).ok);
    assertEquals((await store.getClient("alice"))?.registeredAt, "2026-12-04T00:00:00.000Z");
    await store.deleteClient("alice");
    assertEquals(await store.getClient("alice"), undefined);
    await store.probeWrite?.();
  });
}
