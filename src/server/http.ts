/**
 * The HTTP side of the server (Hono): health and the relay's certificate for browsers'
 * `serverCertificateHashes`. The Calls control plane mounts here too.
 *
 * @module
 */
import { Hono } from "hono";
import type { TlsCertificate } from "./certificate.ts";
import { bearerAuth, requireScope, requireSid, type TokenVerifier } from "../auth/mod.ts";
import type { Logger } from "../log/mod.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import type { VoiceMetrics } from "../metrics/mod.ts";
import { accessLog } from "./observability.ts";
import type { ReadinessReport } from "./readiness.ts";
import { VERSION } from "./version.ts";

/** What the HTTP app reads from the running server. */
export interface HttpContext {
  /** The current relay certificate (it is renewed while the server runs). */
  certificate(): TlsCertificate;
  /** The public MoQT URL, e.g. `https://127.0.0.1:4443/moq`. */
  readonly moqUrl: string;
  /** Live counters for `/v1/relay/stats`. */
  stats(): Record<string, number> | Promise<Record<string, number>>;
  /**
   * Where a call's MoQT clients connect (`/v1/relay/placement/{sid}`): its relay shard and
   * that shard's URL, placing the call when it is new. Absent: one relay, at `moqUrl`.
   */
  placement?(sid: string): { shard: number; url: string };
  /** Each relay shard's figures for `/v1/relay/shards`; absent: one relay, no shards. */
  shards?(): Promise<readonly object[]>;
  /** Verifies bearer tokens: every `/v1` route but the certificate needs one. */
  readonly verifier: TokenVerifier;
  /** Recording metadata for `/v1/recordings` (the recorder plugin's sidecars). */
  readonly recordings?: RecordingSource;
  /** Where the access log goes (one line per request); none means no access log. */
  readonly log?: Logger;
  /** The metrics served at `/metrics` (and fed with HTTP latency). */
  readonly metrics?: VoiceMetrics;
  /** Called before `/metrics` is serialized, to set gauges read from live state. */
  onScrape?(): void | Promise<void>;
  /** The whole server's OpenAPI document for `/openapi.json` (else the mounted routes' own),
   * given the routes the app serves (so the document can say which it leaves out). */
  openapi?(routes: readonly { method: string; path: string }[]): Promise<Record<string, unknown>>;
  /** Readiness for `/readyz`; absent means always ready. */
  readiness?(): ReadinessReport;
  /** More routes (the Calls API), mounted at `/` behind the bearer-token check on `/v1`. */
  readonly routes?: readonly Hono[];
}

/**
 * Where the HTTP API reads recording metadata from.
 *
 * @example
 * ```ts
 * import type { RecordingSource } from "./http.ts";
 * const none: RecordingSource = { list: () => Promise.resolve([]), get: () => Promise.resolve(undefined) };
 * ```
 */
export interface RecordingSource {
  /** Every recording. */
  list(): Promise<readonly { readonly sid: string }[]>;
  /** The recording of a call, or undefined when there is none. */
  get(sid: string): Promise<object | undefined>;
  /**
   * The audio of a call's recording as the answer to `request` (in a cluster, fetched from
   * the node that holds the file), or undefined when there is none.
   */
  audio?(sid: string, request: Request): Promise<Response | undefined>;
}

/**
 * Builds the HTTP app.
 *
 * @example
 * ```ts ignore
 * import { createHttpApp } from "./http.ts";
 * const app = createHttpApp({ certificate: () => tls, moqUrl: "https://127.0.0.1:4443/moq", stats: () => ({}) });
 * Deno.serve({ port: 8080 }, app.fetch);
 * ```
 */
export function createHttpApp(ctx: HttpContext): Hono {
  const app = new Hono();
  if (ctx.log && ctx.metrics) app.use("*", accessLog(ctx.log, ctx.metrics));
  app.get("/healthz", (c) => c.json({ status: "ok", version: VERSION }));
  // Readiness apart from liveness: 503 until every check passes (a load balancer's signal).
  app.get("/readyz", (c) => {
    const report = ctx.readiness?.() ?? { ready: true, checks: [] };
    return c.json(
      { status: report.ready ? "ready" : "not_ready", checks: report.checks },
      report.ready ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    if (!ctx.metrics) return c.text("", 404);
    await ctx.onScrape?.();
    return c.body(await ctx.metrics.exposition(), 200, {
      "content-type": ctx.metrics.contentType,
    });
  });
  app.get("/v1/relay/certificate", (c) => {
    const cert = ctx.certificate();
    return c.json({
      url: ctx.moqUrl,
      sha256Hex: cert.sha256Hex,
      sha256Base64: cert.sha256Base64,
      notAfter: cert.notAfter.toISOString(),
    });
  });
  // Public above (health; the certificate hash browsers need before connecting), bearer
  // token for every /v1 route below: `c.get("auth")` is the request's Grant.
  app.use("/v1/*", bearerAuth({ verifier: ctx.verifier }));
  app.get("/v1/relay/stats", requireScope("relay:read"), async (c) => c.json(await ctx.stats()));
  app.get(
    "/v1/relay/shards",
    requireScope("relay:read"),
    async (c) => c.json({ shards: await ctx.shards?.() ?? [] }),
  );
  // A leg asks where to connect before it subscribes or publishes: media:subscribe, its sid.
  app.get("/v1/relay/placement/:sid", requireScope("media:subscribe"), requireSid(), (c) => {
    const sid = c.req.param("sid");
    const { shard, url } = ctx.placement?.(sid) ?? { shard: 0, url: ctx.moqUrl };
    return c.json({ sid, shard, url });
  });
  app.use("/v1/recordings", requireScope("calls:read"));
  app.use("/v1/recordings/*", requireScope("calls:read"));
  app.use("/v1/recordings/:sid", requireSid());
  app.use("/v1/recordings/:sid/audio", requireSid());
  app.get(
    "/v1/recordings",
    async (c) => {
      // A token limited to some calls sees only their recordings.
      const grant = c.get("auth");
      const all = await ctx.recordings?.list() ?? [];
      return c.json({ recordings: all.filter((r) => grant.allowsSid(r.sid)) });
    },
  );
  app.get("/v1/recordings/:sid", async (c) => {
    const sid = c.req.param("sid");
    const recording = await ctx.recordings?.get(sid);
    if (recording) return c.json(recording);
    return problemResponse(
      new ProblemError(404, "not-found", `No recording of call "${sid}"`),
      c.req.path,
    );
  });
  app.get("/v1/recordings/:sid/audio", async (c) => {
    const sid = c.req.param("sid");
    const audio = await ctx.recordings?.audio?.(sid, c.req.raw);
    if (audio) return audio;
    return problemResponse(
      new ProblemError(404, "not-found", `No recording audio of call "${sid}"`),
      c.req.path,
    );
  });
  // Registered before the mounted routes, so it answers instead of the Calls API's own.
  if (ctx.openapi) app.get("/openapi.json", async (c) => c.json(await ctx.openapi!(app.routes)));
  for (const routes of ctx.routes ?? []) app.route("/", routes);
  // A path some route serves with other methods is 405 with `Allow` (RFC 9110 §15.5.6);
  // any other is 404.
  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    // A route for this very method that found nothing (an unknown file, say) is a 404.
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      const response = problemResponse(
        new ProblemError(
          405,
          "method-not-allowed",
          `${c.req.method} is not allowed on ${c.req.path}`,
        ),
        c.req.path,
      );
      response.headers.set("allow", allow.join(", "));
      return response;
    }
    return problemResponse(
      new ProblemError(404, "not-found", `No route for ${c.req.path}`),
      c.req.path,
    );
  });
  app.onError((error, c) => {
    // The message may name internals (paths, drivers): logged, never sent.
    console.error("HTTP: unexpected error", c.req.method, c.req.path, error);
    return problemResponse(
      new ProblemError(500, "internal-error", "The server failed to handle the request"),
      c.req.path,
    );
  });
  return app;
}

/**
 * The methods each registered route serves, matched against a path: Hono's own route list
 * (`app.routes`), middleware (`ALL`) left out, `:param` and `*` as path patterns. HEAD goes
 * with GET (Hono answers it from the GET handler).
 */
function allowedMethods(app: Hono): (path: string) => string[] {
  let table: { method: string; pattern: RegExp }[] | undefined;
  return (path) => {
    table ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(
          `^${
            r.path.split("/").map((part) =>
              part === "*"
                ? ".*"
                : part.startsWith(":")
                ? `(?:${/\{(.+)\}$/.exec(part)?.[1] ?? "[^/]+"})`
                : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
            ).join("/")
          }/?$`,
        ),
      }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
