import { assert, assertEquals, assertMatch } from "@std/assert";
import { startServer } from "../calls/_server.ts";

const TEST_IDS = [
  "to",
  "call",
  "answer",
  "hangup",
  "mute",
  "status",
  ..."0123456789".split("").map((d) => `dtmf-${d}`),
  "dtmf-star",
  "dtmf-hash",
];

Deno.test("GET /sdk/browser.js serves the browser SDK as an ES module with no Deno API in it", async () => {
  await using fx = await startServer();
  const response = await fetch(`${fx.url}/sdk/browser.js`);
  assertEquals(response.status, 200);
  assertMatch(response.headers.get("content-type") ?? "", /^text\/javascript/);
  const code = await response.text();
  assertEquals(code.match(/\bDeno\./g), null, "the browser bundle references no Deno API");
  // It is a module whose exports are the SDK's: import it (its browser APIs are only
  // touched when called).
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-browser-sdk-" });
  try {
    await Deno.writeTextFile(`${dir}/browser.js`, code);
    const sdk = await import(`file://${dir}/browser.js`);
    for (const name of ["captureMicrophone", "OpusPlayer", "attachCaller", "Softphone"]) {
      assertEquals(typeof sdk[name], "function", `exports ${name}`);
    }
    // Pure parts run anywhere: receive statistics from capture times.
    const stats = new sdk.FrameStats({ frameMs: 20, maxDelayMs: 200 });
    stats.accept(0, 10_000);
    stats.accept(60_000, 70_000);
    assertEquals(stats.snapshot().lost, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  for (const script of ["softphone.js", "calls.js"]) {
    const page = await fetch(`${fx.url}/sdk/${script}`);
    assertEquals(page.status, 200, script);
    assertEquals((await page.text()).match(/\bDeno\./g), null, `${script} has no Deno API`);
  }
  const missing = await fetch(`${fx.url}/sdk/nothing.js`);
  assertEquals(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("GET /softphone carries every pinned data-testid; GET /calls is the live-calls page", async () => {
  await using fx = await startServer();
  const softphone = await (await fetch(`${fx.url}/softphone`)).text();
  for (const id of TEST_IDS) {
    assert(softphone.includes(`data-testid="${id}"`), `softphone has data-testid="${id}"`);
  }
  assert(softphone.includes(`src="/sdk/softphone.js"`));
  const calls = await fetch(`${fx.url}/calls`);
  assertEquals(calls.status, 200);
  assertMatch(calls.headers.get("content-type") ?? "", /^text\/html/);
  assert((await calls.text()).includes(`src="/sdk/calls.js"`));
});
