/**
 * The whole server's OpenAPI document (`GET /openapi.json`): the Calls API's document (made
 * from its zod schemas) plus the server's own routes (health, readiness, metrics, the relay's
 * certificate and stats, recordings), `servers`, `license`, an `operationId` on every
 * operation, and the problem responses every operation can give.
 *
 * @module
 */
import { PROBLEM_BASE } from "../api/problem.ts";
import { VERSION } from "./version.ts";
import { BROWSER_BUNDLES } from "./pages.ts";

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: unknown[];
  responses: Record<string, unknown>;
  requestBody?: unknown;
};

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const STANDARD_RESPONSES: Record<string, Json> = {
  "401": problemResponse("No bearer token, or one that does not verify"),
  "403": problemResponse("The token lacks the scope, or is limited to other calls"),
  "404": problemResponse("No such resource"),
  "409": problemResponse("Conflicts with the resource's state or an idempotency key in use"),
  "422": problemResponse("The request is well-formed but not acceptable"),
  "429": problemResponse("Too many requests; retry later"),
  "503": problemResponse("Temporarily unavailable (e.g. storage refusing writes); see Retry-After"),
};

const plain = (description: string, schema: Json = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});

const html = (description: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" } } },
});

const queryParameter = (name: string, description: string) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: { type: "string" },
});

/** The `{sid}` of a path that names one call. */
const callSidParameter = {
  name: "sid",
  in: "path",
  required: true,
  description: "The call's sid",
  schema: { type: "string" },
};

/** The server's own operations, apart from the Calls API. */
function serverPaths(): Record<string, Record<string, Operation>> {
  const bearer = [{ bearer: [] }];
  return {
    "/healthz": {
      get: {
        operationId: "getHealth",
        summary: "Liveness: the process is up, with its version",
        tags: ["Operations"],
        security: [],
        responses: {
          "200": plain("Alive", {
            type: "object",
            properties: { status: { const: "ok" }, version: { type: "string" } },
            required: ["status", "version"],
          }),
        },
      },
    },
    "/readyz": {
      get: {
        operationId: "getReadiness",
        summary: "Readiness: reconciliation done, storage writes, plugins and SIP gateway up",
        tags: ["Operations"],
        security: [],
        responses: {
          "200": plain("Ready", { $ref: "#/components/schemas/Readiness" }),
          "503": plain("Not ready: the failing checks say why", {
            $ref: "#/components/schemas/Readiness",
          }),
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "getMetrics",
        summary: "Prometheus metrics (text exposition format 0.0.4)",
        tags: ["Operations"],
        security: [],
        responses: {
          "200": {
            description: "The metrics",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "getOpenApiDocument",
        summary: "This document (OpenAPI 3.1)",
        tags: ["Operations"],
        security: [],
        responses: { "200": plain("The OpenAPI document") },
      },
    },
    "/softphone": {
      get: {
        operationId: "getSoftphonePage",
        summary: "The browser softphone page (registers a client, dials, answers, mutes, DTMF)",
        description: "Runs `/sdk/softphone.js`. Without `token` the page asks for one; the " +
          "token is used by the page's own requests, the page itself holds no secret.",
        tags: ["Pages"],
        security: [],
        parameters: [
          queryParameter("identity", "The client identity to register (`client:<identity>`)"),
          queryParameter("token", "A bearer JWT for the page's requests and MoQT session"),
        ],
        responses: { "200": html("The page") },
      },
    },
    "/calls": {
      get: {
        operationId: "getCallsPage",
        summary: "The operators' live-calls page (levels, jitter/loss/latency plots, hang-up)",
        description: "Runs `/sdk/calls.js`. Without `token` the page asks for one.",
        tags: ["Pages"],
        security: [],
        parameters: [
          queryParameter("token", "A bearer JWT with calls:read (calls:write to hang up)"),
        ],
        responses: { "200": html("The page") },
      },
    },
    ...Object.fromEntries(
      Object.entries(BROWSER_BUNDLES).map(([file, entry]) => [`/sdk/${file}`, {
        get: {
          operationId: `getSdk${file.replace(/\.js$/, "").replace(/^./, (c) => c.toUpperCase())}`,
          summary: file === "browser.js"
            ? "The browser SDK as one ES module (Softphone, attachCaller, the Calls client)"
            : `The script of the ${file.replace(/\.js$/, "")} page, as one ES module`,
          description: `Bundled from \`src/browser/${entry}\` for the browser platform.`,
          tags: ["Pages"],
          security: [],
          responses: {
            "200": {
              description: "The module",
              content: { "text/javascript": { schema: { type: "string" } } },
            },
          },
        },
      }]),
    ),
    "/v1/relay/certificate": {
      get: {
        operationId: "getRelayCertificate",
        summary: "The relay's MoQT URL and certificate hashes (for serverCertificateHashes)",
        tags: ["Relay"],
        security: [],
        responses: {
          "200": plain("The certificate", {
            type: "object",
            properties: {
              url: { type: "string", format: "uri" },
              sha256Hex: { type: "string" },
              sha256Base64: { type: "string" },
              notAfter: { type: "string", format: "date-time" },
            },
            required: ["url", "sha256Hex", "sha256Base64", "notAfter"],
          }),
        },
      },
    },
    "/v1/relay/placement/{sid}": {
      get: {
        operationId: "getRelayPlacement",
        summary: "Where a call's MoQT clients connect: its relay shard and that shard's URL",
        tags: ["Relay"],
        security: bearer,
        parameters: [{ name: "sid", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": plain("The call's shard", {
            type: "object",
            properties: {
              sid: { type: "string" },
              shard: { type: "integer", minimum: 0 },
              url: { type: "string", format: "uri" },
            },
            required: ["sid", "shard", "url"],
          }),
        },
      },
    },
    "/v1/relay/shards": {
      get: {
        operationId: "getRelayShards",
        summary: "Each relay shard's figures (empty with one relay)",
        tags: ["Relay"],
        security: bearer,
        responses: {
          "200": plain("The shards", {
            type: "object",
            properties: { shards: { type: "array", items: { type: "object" } } },
            required: ["shards"],
          }),
        },
      },
    },
    "/v1/relay/stats": {
      get: {
        operationId: "getRelayStats",
        summary: "Live relay counters (sessions, tracks)",
        tags: ["Relay"],
        security: bearer,
        responses: {
          "200": plain("Counters", {
            type: "object",
            additionalProperties: { type: "number" },
          }),
        },
      },
    },
    "/v1/recordings": {
      get: {
        operationId: "listRecordings",
        summary: "Recordings the token may see",
        tags: ["Recordings"],
        security: bearer,
        responses: {
          "200": plain("Recordings", {
            type: "object",
            properties: { recordings: { type: "array", items: { type: "object" } } },
            required: ["recordings"],
          }),
        },
      },
    },
    "/v1/recordings/{sid}/audio": {
      get: {
        operationId: "getRecordingAudio",
        summary: "One call's recording audio (stereo WAV; in a cluster, from the node holding it)",
        tags: ["Recordings"],
        security: bearer,
        parameters: [callSidParameter],
        responses: {
          "200": {
            description: "The WAV file",
            content: { "audio/wav": { schema: { type: "string", format: "binary" } } },
          },
        },
      },
    },
    "/v1/recordings/{sid}": {
      get: {
        operationId: "getRecording",
        summary: "One call's recording metadata",
        tags: ["Recordings"],
        security: bearer,
        parameters: [callSidParameter],
        responses: { "200": plain("The recording") },
      },
    },
  };
}

/** The app's routes (Hono patterns, middleware left out) that no documented path matches. */
function undocumentedRoutes(
  paths: Record<string, Record<string, Operation>>,
  routes: readonly { method: string; path: string }[],
): { method: string; path: string }[] {
  const documented = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({
      method: m.toUpperCase(),
      sample: path.replace(/\{[^}]+\}/g, "x"),
    }))
  );
  const seen = new Set<string>();
  return routes.filter((route) => {
    if (route.method === "ALL" || route.path === "/*" || route.path.endsWith("/*")) return false;
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const pattern = new RegExp(
      `^${
        route.path.split("/").map((part) =>
          part.startsWith(":")
            ? `(?:${/\{(.+)\}$/.exec(part)?.[1] ?? "[^/]+"})`
            : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
        ).join("/")
      }/?$`,
    );
    return !documented.some((d) => d.method === route.method && pattern.test(d.sample));
  });
}

/** `getCall` style: the method and the path's fixed segments, camel-cased. */
function operationIdOf(method: string, path: string): string {
  const words = path.split("/").filter((p) => p && !p.startsWith("{")).flatMap((p) =>
    p.split(/[^a-zA-Z0-9]/)
  ).filter(Boolean);
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/**
 * Completes the Calls API's document into the server's: the server's own paths, `servers`,
 * `license`, an `operationId` on each operation (kept where one is set), and the problem
 * responses (401/403 on authenticated operations, 404 on paths with parameters, 409/422 on
 * writes, 429 and 503 on every authenticated one).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { serverOpenApiDocument } from "./openapi.ts";
 * const doc = serverOpenApiDocument({ openapi: "3.1.0", info: { title: "x", version: "1" }, paths: {} }, "http://127.0.0.1:8080");
 * assertEquals(Object.keys(doc.paths as object).includes("/readyz"), true);
 * ```
 */
export function serverOpenApiDocument(
  calls: Json,
  serverUrl: string,
  routes: readonly { method: string; path: string }[] = [],
): Json {
  const paths: Record<string, Record<string, Operation>> = {
    ...serverPaths(),
    ...(calls.paths as Record<string, Record<string, Operation>> ?? {}),
  };
  // A route the app serves that no path above describes is listed, marked, so it is never
  // silently missing (the test fails on any `x-undocumented` operation).
  for (const route of undocumentedRoutes(paths, routes)) {
    const path = route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");
    (paths[path] ??= {})[route.method.toLowerCase() as "get"] = {
      summary: `${route.method} ${path} (not described yet)`,
      "x-undocumented": true,
      parameters: [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      responses: { "200": { description: "Not described yet" } },
    } as Operation;
  }
  const components = { ...(calls.components as Json ?? {}) };
  const schemas = { ...(components.schemas as Json ?? {}) };
  schemas.Problem ??= {
    type: "object",
    description: `RFC 9457 problem details; \`type\` is ${PROBLEM_BASE}<name>`,
    properties: {
      type: { type: "string", format: "uri" },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      instance: { type: "string" },
    },
    required: ["type", "title", "status"],
  };
  schemas.Readiness = {
    type: "object",
    properties: {
      status: { enum: ["ready", "not_ready"] },
      checks: {
        type: "array",
        items: {
          type: "object",
          properties: {
            name: { type: "string" },
            ok: { type: "boolean" },
            reason: { type: "string" },
          },
          required: ["name", "ok"],
        },
      },
    },
    required: ["status", "checks"],
  };
  components.schemas = schemas;
  const seen = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      let id = operation.operationId ?? operationIdOf(method, path);
      while (seen.has(id)) id += "Again";
      seen.add(id);
      operation.operationId = id;
      operation.summary ??= `${method.toUpperCase()} ${path}`;
      const authenticated = path.startsWith("/v1/") && path !== "/v1/relay/certificate";
      const wanted = [
        ...(authenticated ? ["401", "403", "429", "503"] : []),
        ...(path.includes("{") ? ["404"] : []),
        ...(authenticated && method !== "get" ? ["409", "422"] : []),
      ];
      for (const status of wanted) operation.responses[status] ??= STANDARD_RESPONSES[status];
      // True of every operation: the HTTP front refuses bad request heads before any route.
      operation.responses["4XX"] ??= {
        description: "The request head was malformed (400), too slow (408) or too large (431)",
      };
    }
  }
  const info = (calls.info as Json) ?? {};
  return {
    ...calls,
    info: {
      ...info,
      title: "ClutchCall Voice API",
      version: VERSION,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: serverUrl, description: "This server" }],
    paths,
    components,
  };
}
