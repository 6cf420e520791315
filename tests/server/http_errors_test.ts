import { assertEquals, assertStringIncludes } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { PROBLEM_BASE } from "../../src/api/problem.ts";

Deno.test("a wrong method is 405 with Allow; an unknown path is 404; both are problem+json", async () => {
  await using fx = await startServer();
  const health = await fetch(`${fx.url}/healthz`, { method: "DELETE" });
  assertEquals(health.status, 405);
  assertEquals(health.headers.get("allow"), "GET, HEAD");
  assertEquals(health.headers.get("content-type"), "application/problem+json");
  assertEquals((await health.json()).type, `${PROBLEM_BASE}method-not-allowed`);

  const calls = await fx.fetch("/v1/calls", { method: "PUT" });
  assertEquals(calls.status, 405);
  assertEquals(calls.headers.get("allow"), "GET, HEAD, POST");
  await calls.body?.cancel();

  const hangup = await fx.fetch("/v1/calls/CA1/hangup", { method: "GET" });
  assertEquals([hangup.status, hangup.headers.get("allow")], [405, "POST"]);
  await hangup.body?.cancel();

  // A route for the method that finds nothing is still a 404, with no Allow.
  const script = await fetch(`${fx.url}/sdk/nothing.js`);
  assertEquals([script.status, script.headers.get("allow")], [404, null]);
  await script.body?.cancel();
  const scriptPost = await fetch(`${fx.url}/sdk/browser.js`, { method: "POST" });
  assertEquals([scriptPost.status, scriptPost.headers.get("allow")], [405, "GET, HEAD"]);
  await scriptPost.body?.cancel();

  const missing = await fetch(`${fx.url}/nope`);
  assertEquals(missing.status, 404);
  assertEquals(missing.headers.get("allow"), null);
  assertEquals((await missing.json()).type, `${PROBLEM_BASE}not-found`);
});

Deno.test("every problem response uses one type convention: the API's base URI and a kebab-case name", async () => {
  await using fx = await startServer();
  const responses = [
    await fetch(`${fx.url}/v1/calls`), // 401: no token
    await fx.fetch("/v1/calls/CA0000/hangup", { method: "POST" }), // 404: no such call
    await fx.fetch("/v1/calls", { method: "DELETE" }), // 405
    await fx.fetch("/v1/calls", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "+14155550100" }),
    }), // 4xx: validation
    await fx.fetch("/v1/recordings/CA0000"), // 404 from the server's own routes
  ];
  const types: string[] = [];
  for (const response of responses) {
    assertEquals(response.headers.get("content-type"), "application/problem+json");
    const problem = await response.json();
    assertEquals(problem.status, response.status);
    assertStringIncludes(problem.type, PROBLEM_BASE);
    types.push(problem.type.slice(PROBLEM_BASE.length));
  }
  for (const name of types) assertEquals(/^[a-z]+(-[a-z]+)*$/.test(name), true, name);
  assertEquals(types.slice(0, 3), ["missing-token", "not-found", "method-not-allowed"]);
});
