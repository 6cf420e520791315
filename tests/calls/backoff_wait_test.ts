import { assertEquals } from "@std/assert";
import { backoffWait } from "../../src/calls/backoff_wait.ts";

Deno.test("backoffWait resolves after its delay when nothing aborts", async () => {
  const signal = new AbortController().signal;
  assertEquals(await backoffWait(20, signal), undefined);
});

Deno.test("backoffWait resolves at once when its signal aborts, leaving no timer behind", async () => {
  const closing = new AbortController();
  const waited = backoffWait(3_600_000, closing.signal);
  closing.abort();
  await waited; // the test's timer sanitizer fails on a pending hour-long timer
});

Deno.test("backoffWait on an already aborted signal waits the delay (the retry loop checks the signal first)", async () => {
  const closing = new AbortController();
  closing.abort();
  await backoffWait(1, closing.signal);
});
