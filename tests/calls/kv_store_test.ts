import { assertEquals } from "@std/assert";
import { KvCallStore } from "../../src/calls/kv_store.ts";
import { callAt, storeContract } from "./_store_contract.ts";

storeContract("KV store", () => KvCallStore.open());

Deno.test("KV store: a reopened file has every call it took", async () => {
  const dir = await Deno.makeTempDir();
  {
    await using store = await KvCallStore.open(`${dir}/calls.kv`);
    await store.putCall(callAt("CAa", 1000), null);
  }
  {
    await using store = await KvCallStore.open(`${dir}/calls.kv`);
    assertEquals((await store.liveCalls()).map((c) => c.sid), ["CAa"]);
  }
  await Deno.remove(dir, { recursive: true });
});
