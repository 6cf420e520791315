/**
 * Status callbacks and webhook URLs given through the API (SSRF): refused for loopback,
 * link-local, private and other non-public addresses unless the config allows them, judged on
 * the resolved addresses; redirects bounded and checked hop by hop. Real HTTP receivers.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { OutboundUrlPolicy, UrlRefusedError } from "../../src/calls/url_policy.ts";
import { WebhookSender } from "../../src/calls/webhook.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startServer } from "./_server.ts";

/** A loopback HTTP receiver counting the requests it got. */
function receiver(handler: (req: Request, hits: number) => Response = () => new Response(null)) {
  let hits = 0;
  const got: { method: string; path: string }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    got.push({ method: req.method, path: new URL(req.url).pathname });
    return handler(req, ++hits);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    got,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("the URL policy refuses non-public addresses, literal or resolved, unless allowed", async () => {
  const policy = new OutboundUrlPolicy({
    resolve: (host) =>
      Promise.resolve(
        host === "rebind.example" ? ["93.184.216.34", "10.1.2.3"] : ["93.184.216.34"],
      ),
  });
  for (
    const url of [
      "http://127.0.0.1/",
      "http://127.9.9.9:8080/x",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "http://172.16.5.4/",
      "http://192.168.1.1/",
      "http://100.64.0.1/",
      "http://0.0.0.0/",
      "http://[fe80::1]/",
      "http://[fd00::1]/",
      "http://224.0.0.1/",
      "http://rebind.example/",
    ]
  ) {
    const error = await assertRejects(() => policy.check(url), UrlRefusedError);
    assertEquals(error.reason, "address", url);
  }
  assertEquals((await policy.check("https://hooks.example/status")).hostname, "hooks.example");
  assertEquals(
    (await assertRejects(() => policy.check("ftp://x.example/"), UrlRefusedError)).reason,
    "scheme",
  );
  assertEquals(
    (await assertRejects(() => policy.check("http://u:p@hooks.example/"), UrlRefusedError)).reason,
    "credentials",
  );
  const allowed = new OutboundUrlPolicy({ allowNetworks: ["127.0.0.0/8", "::1/128"] });
  await allowed.check("http://127.0.0.1/");
  await allowed.check("http://[::1]/");
  await assertRejects(() => allowed.check("http://10.0.0.1/"), UrlRefusedError);
});

Deno.test("the system resolver's answer is what is judged: localhost is loopback", async () => {
  const error = await assertRejects(
    () => new OutboundUrlPolicy().check("http://localhost:9/"),
    UrlRefusedError,
  );
  assertEquals(error.reason, "address");
});

Deno.test("redirects are followed a bounded number of times, each hop checked", async () => {
  await using target = receiver();
  await using hopper = receiver((req) => {
    const n = Number(new URL(req.url).searchParams.get("n") ?? 0);
    return new Response(null, { status: 307, headers: { location: `/?n=${n + 1}` } });
  });
  await using toPrivate = receiver(() =>
    new Response(null, { status: 302, headers: { location: "http://10.0.0.1/" } })
  );
  await using once = receiver(() =>
    new Response(null, { status: 308, headers: { location: `${target.url}/final` } })
  );
  const policy = new OutboundUrlPolicy({ allowNetworks: ["127.0.0.0/8"], maxRedirects: 3 });
  const tooMany = await assertRejects(
    () => policy.fetch(hopper.url, { method: "POST" }),
    UrlRefusedError,
  );
  assertEquals([tooMany.reason, hopper.got.length], ["redirects", 4], "1 request + 3 redirects");
  const hop = await assertRejects(
    () => policy.fetch(toPrivate.url, { method: "POST" }),
    UrlRefusedError,
  );
  assertEquals(hop.reason, "address");
  const ok = await policy.fetch(once.url, { method: "POST", body: "{}" });
  await ok.body?.cancel();
  assertEquals(ok.status, 200);
  assertEquals([target.got.length, target.got[0].method, target.got[0].path], [
    1,
    "POST",
    "/final",
  ]);
});

Deno.test("a webhook sender delivers nothing to a refused address, even after a redirect", async () => {
  await using inside = receiver();
  await using redirector = receiver(() =>
    new Response(null, { status: 307, headers: { location: `${inside.url}/secret` } })
  );
  const logs: string[] = [];
  const log = createLogger({ level: "debug", json: true, sink: (line) => logs.push(line) });
  // The default policy allows no loopback address: nothing is delivered, and not retried.
  await using strict = new WebhookSender({ secret: "s", log, baseDelayMs: 1 });
  await strict.send(inside.url, "CA1", { type: "status" });
  assertEquals(inside.got.length, 0);
  assert(logs.some((l) => l.includes("refused by the URL policy")), logs.join("\n"));
  // A policy allowing loopback delivers, following the redirect.
  await using open = new WebhookSender({
    secret: "s",
    log,
    baseDelayMs: 1,
    policy: new OutboundUrlPolicy({ allowNetworks: ["127.0.0.0/8"] }),
  });
  await open.send(redirector.url, "CA1", { type: "status" });
  assertEquals(inside.got.map((r) => r.path), ["/secret"]);
});

Deno.test("originate refuses a statusCallback on a private address (422) and creates no call", async () => {
  await using fx = await startServer();
  const voice = await fx.voice();
  await voice.clients.add("ssrf");
  for (const url of ["http://127.0.0.1:9/x", "http://localhost:9/", "http://169.254.169.254/"]) {
    const response = await fx.fetch("/v1/calls", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "+14155550100", to: "client:ssrf", statusCallback: url }),
    });
    assertEquals(response.status, 422, url);
    const problem = await response.json();
    assertEquals(problem.type, "https://clutchcall.dev/problems/url-not-allowed");
  }
  assertEquals((await voice.calls.list()).calls, []);
});
