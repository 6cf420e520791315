import { assertEquals } from "@std/assert";
import { MAX_FINAL_CHARS, TranscriptLog } from "../../src/calls/transcripts.ts";
import { CallService, createCallsApi, KvCallStore } from "../../src/calls/mod.ts";
import { Origin } from "../../src/relay/model/origin.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { TranscriptEvent } from "../../src/voice/transcript.ts";

const final = (sid: string, text: string, kind: TranscriptEvent["kind"] = "final") => ({
  type: "transcript" as const,
  sid,
  at: "2026-01-01T00:00:00.000Z",
  track: "uplink" as const,
  kind,
  text,
  start: 10,
  end: 20,
});

Deno.test("the transcript log keeps finals in order, ignores other kinds and empty text", async () => {
  for (const store of [undefined, await KvCallStore.open()]) {
    const log = new TranscriptLog({ store });
    await log.add(final("CA1", "hello"));
    await log.add(final("CA1", "partial words", "partial"));
    await log.add(final("CA1", ""));
    await log.add(final("CA1", "world"));
    assertEquals((await log.get("CA1")).finals.map((f) => f.text), ["hello", "world"]);
    assertEquals(await log.get("CA2"), { sid: "CA2", finals: [], truncated: false });
    assertEquals(log.persistent, store !== undefined);
    store?.close();
  }
});

Deno.test("the transcript log is bounded: entries and text per call, and calls (the oldest goes)", async () => {
  for (const store of [undefined, await KvCallStore.open()]) {
    const log = new TranscriptLog({ maxCalls: 2, maxEntries: 3, maxChars: 12, store });
    // Not awaited one by one: appends to one call still land in order.
    await Promise.all([0, 1, 2, 3, 4].map((i) => log.add(final("CA1", `w${i}`))));
    assertEquals((await log.get("CA1")).finals.map((f) => f.text), ["w2", "w3", "w4"]);
    assertEquals((await log.get("CA1")).truncated, true);
    await log.add(final("CA2", "0123456789"));
    await log.add(final("CA2", "abcdef"));
    assertEquals((await log.get("CA2")).finals.map((f) => f.text), ["abcdef"]);
    await log.add(final("CA3", "x"));
    if (store) {
      // The store keeps every call's transcript (the disk is the bound); no write in flight.
      assertEquals(log.size, 0);
      assertEquals((await log.get("CA1")).finals.length, 3);
    } else {
      assertEquals(log.size, 2);
      assertEquals((await log.get("CA1")).finals, []);
    }
    store?.close();
  }
  // One final's text is clipped, so one store value stays small.
  const log = new TranscriptLog();
  await log.add(final("CA4", "y".repeat(MAX_FINAL_CHARS + 10)));
  assertEquals((await log.get("CA4")).finals[0].text.length, MAX_FINAL_CHARS);
});

Deno.test("transcripts are kept in the KV call store: GET /v1/calls/{sid}/transcript serves them after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-transcripts-" });
  const log = createLogger({ level: "error", json: true, sink: () => {} });
  const path = `${dir}/calls.kv`;
  let sid: string;
  {
    await using store = await KvCallStore.open(path);
    const calls = new CallService({ store, origin: new Origin(), log });
    await calls.start();
    await calls.registerClient("tess");
    sid = (await calls.originate({ from: "+14155550100", to: "client:tess" })).sid;
    calls.publish(final(sid, "hello there"));
    calls.publish(final(sid, "hello th", "partial"));
    calls.publish({ ...final(sid, "how can I help"), start: 900, end: 1800, confidence: 0.9 });
    assertEquals((await calls.transcripts.get(sid)).finals.length, 2);
    await calls.close();
  }
  // A new process's service over the same file, serving the API on a real socket.
  await using store = await KvCallStore.open(path);
  const calls = new CallService({ store, origin: new Origin(), log, reconcileGraceMs: 0 });
  await calls.start();
  const app = createCallsApi({ calls });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/v1/calls/${sid}/transcript`);
  assertEquals(response.status, 200);
  const body = await response.json();
  assertEquals(body.sid, sid);
  assertEquals(body.truncated, false);
  assertEquals(
    body.finals.map((f: { text: string; start: number; end: number; confidence?: number }) => [
      f.text,
      f.start,
      f.end,
      f.confidence,
    ]),
    [["hello there", 10, 20, undefined], ["how can I help", 900, 1800, 0.9]],
  );
  await calls.close();
  await Deno.remove(dir, { recursive: true });
});
