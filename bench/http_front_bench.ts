/**
 * Cost of the HTTP front (src/server/http_front.ts: header and idle timeouts in front of
 * `Deno.serve`): one keep-alive `fetch` of a small JSON response, straight to `Deno.serve` on
 * TCP versus through the front to `Deno.serve` on a Unix socket, in the same run.
 *
 * Run: `deno bench -A bench/http_front_bench.ts`. Results: BENCHMARKS.md, section "HTTP front".
 *
 * @module
 */
import { HttpFront } from "../src/server/http_front.ts";

const handler = () => Response.json({ status: "ok" });
const dir = await Deno.makeTempDir({ prefix: "clutchcall-front-bench-" });
const backendPath = `${dir}/http.sock`;
const ready = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
const direct = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => ready[0].resolve() },
  handler,
);
const behind = Deno.serve({ path: backendPath, onListen: () => ready[1].resolve() }, handler);
await Promise.all(ready.map((r) => r.promise));
const front = HttpFront.listen({ hostname: "127.0.0.1", port: 0, backendPath });
const directUrl = `http://127.0.0.1:${direct.addr.port}/healthz`;
const frontUrl = `http://127.0.0.1:${front.addr.port}/healthz`;

Deno.bench("GET straight to Deno.serve (TCP)", { group: "http", baseline: true }, async () => {
  await (await fetch(directUrl)).json();
});
Deno.bench("GET through the HTTP front (TCP → Unix socket)", { group: "http" }, async () => {
  await (await fetch(frontUrl)).json();
});

globalThis.addEventListener("unload", () => {
  // Bench teardown: the process is ending; close what it opened.
  front.close();
  direct.shutdown();
  behind.shutdown();
});
