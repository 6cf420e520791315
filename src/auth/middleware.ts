/**
 * Hono middleware for bearer tokens: {@linkcode bearerAuth} verifies the token and puts the
 * {@linkcode Grant} at `c.get("auth")`; {@linkcode requireScope} and {@linkcode requireSid}
 * guard single routes. Refusals are RFC 9457 `application/problem+json` with an RFC 6750
 * `WWW-Authenticate: Bearer` challenge:
 *
 * | Failure                                  | Status | `WWW-Authenticate` error |
 * | ---------------------------------------- | ------ | ------------------------ |
 * | no token                                 | 401    | (none)                   |
 * | malformed, expired, forged, wrong alg/iss/aud | 401 | `invalid_token`        |
 * | scope missing                            | 403    | `insufficient_scope`     |
 * | sid outside the token's `voice` limits   | 403    | (none)                   |
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { AuthError } from "./error.ts";
import type { Grant } from "./grant.ts";
import type { Scope } from "./scope.ts";
import type { TokenVerifier } from "./verifier.ts";
import { PROBLEM_BASE } from "../api/problem.ts";

/** Hono variables set by {@linkcode bearerAuth}: `c.get("auth")` is the request's grant. */
export type AuthVariables = { auth: Grant };

/** A Hono env with the grant, for apps and routers: `new Hono<AuthEnv>()`. */
export type AuthEnv = { Variables: AuthVariables };

declare module "hono" {
  interface ContextVariableMap extends AuthVariables {}
}

/** Options for {@linkcode bearerAuth}. */
export interface BearerAuthOptions {
  readonly verifier: TokenVerifier;
  /** The challenge's realm [clutchcall-voice]. */
  readonly realm?: string;
  /**
   * A query parameter that may carry the token on GET requests, for clients that cannot set
   * headers (a browser's `EventSource`), as `?jwt=` does for MoQT; `false` turns it off
   * [jwt]. The `Authorization` header wins when both are present.
   */
  readonly queryParam?: string | false;
}

/** The RFC 9457 problem body for an auth failure (plus `code`: the {@linkcode AuthError} kind). */
export interface AuthProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance?: string;
}

/**
 * The `application/problem+json` response for `error`, with its `WWW-Authenticate`
 * challenge. Routes use it to refuse with the same shape as the middleware.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { AuthError, authErrorResponse } from "./mod.ts";
 * const response = authErrorResponse(new AuthError("missing_token", "No bearer token"));
 * assertEquals(response.status, 401);
 * assertEquals(response.headers.get("www-authenticate"), 'Bearer realm="clutchcall-voice"');
 * ```
 */
export function authErrorResponse(
  error: AuthError,
  { realm = "clutchcall-voice", instance }: { realm?: string; instance?: string } = {},
): Response {
  const body: AuthProblem = {
    // The API's one problem type convention (src/api/problem.ts): base URI + kebab-case name.
    type: `${PROBLEM_BASE}${error.kind.replaceAll("_", "-")}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.kind,
    ...(instance ? { instance } : {}),
  };
  const headers = new Headers({ "content-type": "application/problem+json" });
  const challenge = challengeOf(error, realm);
  if (challenge) headers.set("www-authenticate", challenge);
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

function challengeOf(error: AuthError, realm: string): string | undefined {
  const quote = (s: string) => `"${s.replace(/["\\]/g, "")}"`;
  const base = `Bearer realm=${quote(realm)}`;
  switch (error.kind) {
    case "missing_token":
      return base;
    case "insufficient_scope":
      return `${base}, error="insufficient_scope", scope=${quote(error.scope ?? "")}`;
    case "forbidden_resource":
      return undefined;
    default:
      return `${base}, error="invalid_token", error_description=${quote(error.message)}`;
  }
}

/**
 * Verifies the bearer token of every request it guards and sets `c.get("auth")`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Hono } from "hono";
 * import { bearerAuth, createTokenVerifier, requireScope } from "./mod.ts";
 * const verifier = await createTokenVerifier({
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 * });
 * const app = new Hono();
 * app.use("/v1/*", bearerAuth({ verifier }));
 * app.get("/v1/calls/:sid", requireScope("calls:read"), (c) => {
 *   if (!c.get("auth").allowsSid(c.req.param("sid"))) return c.notFound();
 *   return c.json({ sid: c.req.param("sid") });
 * });
 * const response = await app.request("/v1/calls/CA1");
 * assertEquals(response.status, 401);
 * ```
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<AuthEnv> {
  const { verifier, realm = "clutchcall-voice", queryParam = "jwt" } = options;
  return async function bearerAuth(c, next) {
    let grant: Grant;
    try {
      grant = await verifier.verify(tokenOf(c, queryParam));
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return authErrorResponse(error, { realm, instance: c.req.path });
    }
    c.set("auth", grant);
    await next();
  };
}

function tokenOf(c: Context, queryParam: string | false): string {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!match) {
      throw new AuthError(
        /^Bearer\b/i.test(header) ? "malformed_token" : "missing_token",
        /^Bearer\b/i.test(header)
          ? "Authorization header holds no valid bearer token"
          : `Authorization header uses the "${header.split(" ")[0]}" scheme; expected Bearer`,
      );
    }
    return match[1];
  }
  if (queryParam && (c.req.method === "GET" || c.req.method === "HEAD")) {
    const fromQuery = c.req.query(queryParam);
    if (fromQuery) return fromQuery;
  }
  throw new AuthError("missing_token", "No bearer token: send an Authorization: Bearer header");
}

function grantOf(c: Context, who: string): Grant {
  const grant = c.get("auth");
  if (!grant) throw new Error(`${who} runs only after bearerAuth`);
  return grant;
}

/**
 * Refuses with 403 `insufficient_scope` unless the token carries every one of `scopes`.
 * Mount after {@linkcode bearerAuth}.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/calls", requireScope("calls:write"), originate);
 * ```
 */
export function requireScope(...scopes: Scope[]): MiddlewareHandler<AuthEnv> {
  return async function requireScope(c, next) {
    const grant = grantOf(c, "requireScope");
    try {
      for (const scope of scopes) grant.require(scope);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return authErrorResponse(error, { instance: c.req.path });
    }
    await next();
  };
}

/**
 * Refuses with 403 `forbidden_resource` unless the token's `voice` limits allow the call
 * named by route parameter `param` [sid]. Mount after {@linkcode bearerAuth}.
 *
 * @example
 * ```ts ignore
 * app.get("/v1/calls/:sid", requireScope("calls:read"), requireSid(), getCall);
 * ```
 */
export function requireSid(param = "sid"): MiddlewareHandler<AuthEnv> {
  return async function requireSid(c, next) {
    const grant = grantOf(c, "requireSid");
    const sid = c.req.param(param);
    if (sid === undefined) throw new Error(`requireSid: the route has no :${param} parameter`);
    try {
      grant.requireSid(sid);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return authErrorResponse(error, { instance: c.req.path });
    }
    await next();
  };
}

/**
 * Refuses with 403 `forbidden_resource` unless the token may act for the client named by
 * route parameter `param` [identity]: an unrestricted token, or a `voice.clients` claim naming
 * it. Mount after {@linkcode bearerAuth}.
 *
 * @example
 * ```ts ignore
 * app.get("/v1/clients/:identity/incoming", requireScope("calls:read"), requireClient(), incoming);
 * ```
 */
export function requireClient(param = "identity"): MiddlewareHandler<AuthEnv> {
  return async function requireClient(c, next) {
    const grant = grantOf(c, "requireClient");
    const identity = c.req.param(param);
    if (identity === undefined) {
      throw new Error(`requireClient: the route has no :${param} parameter`);
    }
    try {
      grant.requireClient(identity);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return authErrorResponse(error, { instance: c.req.path });
    }
    await next();
  };
}

/**
 * Refuses with 403 `forbidden_resource` unless the token may create calls (see
 * {@linkcode Grant.allowsOriginate}). Mount after {@linkcode bearerAuth}.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/calls", requireScope("calls:write"), requireOriginate(), originate);
 * ```
 */
export function requireOriginate(): MiddlewareHandler<AuthEnv> {
  return async function requireOriginate(c, next) {
    const grant = grantOf(c, "requireOriginate");
    try {
      grant.requireOriginate();
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return authErrorResponse(error, { instance: c.req.path });
    }
    await next();
  };
}
