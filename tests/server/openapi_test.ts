import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { serverOpenApiDocument } from "../../src/server/openapi.ts";

const METHODS = ["get", "put", "post", "delete", "patch"];

Deno.test("/openapi.json covers the server's routes, has servers, license and an operationId per operation, and documents the problem responses", async () => {
  await using fx = await startServer();
  const doc = await (await fetch(`${fx.url}/openapi.json`)).json();
  assertEquals(doc.servers, [{ url: fx.url, description: "This server" }]);
  assertEquals(doc.info.license.identifier, "Apache-2.0");
  for (
    const path of [
      "/healthz",
      "/readyz",
      "/metrics",
      "/v1/relay/certificate",
      "/v1/relay/stats",
      "/v1/recordings",
      "/v1/recordings/{sid}",
      "/v1/calls",
      "/v1/calls/{sid}",
      "/openapi.json",
      "/softphone",
      "/calls",
      "/sdk/browser.js",
      "/sdk/softphone.js",
      "/sdk/calls.js",
    ]
  ) assert(doc.paths[path], `${path} is documented`);
  assertEquals(doc.paths["/softphone"].get.responses["200"].content["text/html"].schema, {
    type: "string",
  });
  const ids = new Set<string>();
  for (
    const [path, item] of Object.entries(
      doc.paths as Record<
        string,
        Record<string, { operationId?: string; responses: Record<string, unknown> }>
      >,
    )
  ) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      assert(operation.operationId, `${method} ${path} has an operationId`);
      // Every route the server's app serves is described: one it does not know is listed
      // with x-undocumented (src/server/openapi.ts), which fails here.
      assertEquals(
        (operation as Record<string, unknown>)["x-undocumented"],
        undefined,
        `${method} ${path} is described`,
      );
      assert(!ids.has(operation.operationId), `${operation.operationId} is unique`);
      ids.add(operation.operationId);
      if (path.startsWith("/v1/calls")) {
        for (const status of ["401", "403", "429", "503"]) {
          assert(operation.responses[status], `${method} ${path} documents ${status}`);
        }
      }
    }
  }
  const hangup = doc.paths["/v1/calls/{sid}/hangup"].post.responses;
  for (const status of ["404", "409", "422"]) assert(hangup[status], `hangup documents ${status}`);
});

Deno.test("npx @redocly/cli lint reports no errors and no warnings on /openapi.json", async () => {
  await using fx = await startServer();
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-openapi-" });
  try {
    const path = `${dir}/openapi.json`;
    await Deno.writeTextFile(path, await (await fetch(`${fx.url}/openapi.json`)).text());
    const lint = await new Deno.Command("npx", {
      args: ["--yes", "@redocly/cli@2.77.0", "lint", "--format", "json", path],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = JSON.parse(new TextDecoder().decode(lint.stdout));
    const problems = (report.problems as { ruleId: string; severity: string; message: string }[])
      .map((p) => `${p.severity} ${p.ruleId}: ${p.message}`);
    assertEquals(problems, []);
    assertEquals(lint.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a route the app serves but no path describes is listed as x-undocumented", () => {
  const doc = serverOpenApiDocument(
    { openapi: "3.1.0", info: { title: "t", version: "1" }, paths: {} },
    "http://127.0.0.1:1",
    [
      { method: "ALL", path: "/v1/*" },
      { method: "GET", path: "/healthz" },
      { method: "GET", path: "/sdk/:file{[a-z]+\\.js}" },
      { method: "POST", path: "/v1/things/:id" },
    ],
  ) as { paths: Record<string, Record<string, Record<string, unknown>>> };
  assertEquals(doc.paths["/v1/things/{id}"].post["x-undocumented"], true);
  assertEquals(doc.paths["/healthz"].get["x-undocumented"], undefined);
  assertEquals(Object.keys(doc.paths).filter((p) => p.includes(":")), []);
});
