/**
 * The Hono middleware over real HTTP (Deno.serve on loopback, fetch): every way a request can
 * be refused, with its status, problem+json body and WWW-Authenticate challenge.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { Hono } from "hono";
import {
  type AuthEnv,
  bearerAuth,
  createTokenVerifier,
  requireScope,
  requireSid,
  signToken,
} from "../../src/auth/mod.ts";
import {
  AUDIENCE,
  claims,
  es256,
  hmac,
  hs256,
  ISSUER,
  OTHER_SECRET,
  SECRET,
  unsigned,
} from "./_tokens.ts";

const verifier = await createTokenVerifier({
  hs256Secret: SECRET,
  issuer: ISSUER,
  audience: AUDIENCE,
});

function app(): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use("/v1/*", bearerAuth({ verifier }));
  app.get(
    "/v1/calls",
    requireScope("calls:read"),
    (c) => c.json({ subject: c.get("auth").subject }),
  );
  app.post("/v1/calls", requireScope("calls:write"), (c) => c.json({ ok: true }, 201));
  app.get(
    "/v1/calls/:sid",
    requireScope("calls:read"),
    requireSid(),
    (c) => c.json({ sid: c.req.param("sid") }),
  );
  return app;
}

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app().fetch);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
}

async function call(
  url: string,
  { token, scheme = "Bearer", method = "GET" }: {
    token?: string;
    scheme?: string;
    method?: string;
  } = {},
): Promise<{ status: number; challenge: string | null; type: string | null; body: Problem }> {
  const headers: HeadersInit = token === undefined ? {} : { authorization: `${scheme} ${token}` };
  const response = await fetch(url, { method, headers });
  return {
    status: response.status,
    challenge: response.headers.get("www-authenticate"),
    type: response.headers.get("content-type"),
    body: await response.json(),
  };
}

Deno.test("HTTP: a valid token reaches the route with its grant", async () => {
  await withServer(async (base) => {
    const token = await hs256({ scopes: ["calls:read"], subject: "client:alice" });
    const ok = await call(`${base}/v1/calls`, { token });
    assertEquals([ok.status, ok.body], [200, { subject: "client:alice" } as unknown as Problem]);
    const lower = await call(`${base}/v1/calls`, { token, scheme: "bearer" });
    assertEquals(lower.status, 200, "the scheme is case-insensitive");
  });
});

Deno.test("HTTP: a missing token is 401 problem+json with a Bearer challenge", async () => {
  await withServer(async (base) => {
    const r = await call(`${base}/v1/calls`);
    assertEquals([r.status, r.type], [401, "application/problem+json"]);
    assertEquals(r.challenge, 'Bearer realm="clutchcall-voice"');
    assertEquals(r.body, {
      type: "https://clutchcall.dev/problems/missing-token",
      title: "Authentication required",
      status: 401,
      detail: "No bearer token: send an Authorization: Bearer header",
      code: "missing_token",
      instance: "/v1/calls",
    });
    const basic = await call(`${base}/v1/calls`, { token: "dXNlcjpwdw==", scheme: "Basic" });
    assertEquals([basic.status, basic.body.code], [401, "missing_token"]);
    assertStringIncludes(basic.body.detail, '"Basic" scheme; expected Bearer');
    const empty = await call(`${base}/v1/calls`, { token: "", scheme: "Bearer" });
    assertEquals([empty.status, empty.body.code], [401, "malformed_token"]);
  });
});

Deno.test("HTTP: expired, forged, wrong-alg, wrong-issuer and malformed tokens are 401 with a precise detail", async () => {
  await withServer(async (base) => {
    const cases: [string, string, RegExp][] = [
      [
        await hs256({ expiresInSec: -120, scopes: ["calls:read"] }),
        "expired_token",
        /^Token expired at \d{4}-/,
      ],
      [await hmac("HS256", OTHER_SECRET, claims()), "invalid_token", /signature does not verify/],
      [unsigned(), "invalid_token", /algorithm "none" is not accepted/],
      [await hmac("HS512", SECRET, claims()), "invalid_token", /algorithm "HS512" is not accepted/],
      [
        await signToken({
          es256PrivateKey: es256.privateKey,
          scopes: ["calls:read"],
          issuer: ISSUER,
          audience: AUDIENCE,
        }),
        "invalid_token",
        /algorithm "ES256" is not accepted \(accepted: HS256\)/,
      ],
      [
        await hs256({ issuer: "https://evil.test", scopes: ["calls:read"] }),
        "invalid_token",
        /issuer "https:\/\/evil.test" is not/,
      ],
      [
        await hs256({ audience: "other", scopes: ["calls:read"] }),
        "invalid_token",
        /audience "other"/,
      ],
      [
        await hs256({ notBeforeInSec: 300, scopes: ["calls:read"] }),
        "invalid_token",
        /not valid before/,
      ],
      ["not.a.jwt", "malformed_token", /base64url/],
      ["garbage", "malformed_token", /three dot-separated parts/],
    ];
    for (const [token, code, detail] of cases) {
      const r = await call(`${base}/v1/calls`, { token });
      assertEquals(
        [r.status, r.body.code, r.type],
        [401, code, "application/problem+json"],
        r.body.detail,
      );
      assertMatch(r.body.detail, detail);
      assertMatch(
        r.challenge ?? "",
        /^Bearer realm="clutchcall-voice", error="invalid_token", error_description="/,
      );
    }
  });
});

Deno.test("HTTP: a token without the route's scope is 403 insufficient_scope", async () => {
  await withServer(async (base) => {
    const token = await hs256({ scopes: ["calls:read", "media:publish"] });
    const r = await call(`${base}/v1/calls`, { token, method: "POST" });
    assertEquals([r.status, r.body.code], [403, "insufficient_scope"]);
    assertEquals(r.body.detail, 'Token lacks the "calls:write" scope');
    assertEquals(
      r.challenge,
      'Bearer realm="clutchcall-voice", error="insufficient_scope", scope="calls:write"',
    );
    const none = await call(`${base}/v1/calls`, { token: await hs256({ scopes: [] }) });
    assertEquals([none.status, none.body.code], [403, "insufficient_scope"]);
  });
});

Deno.test("HTTP: a sid outside the token's limits is 403 forbidden_resource", async () => {
  await withServer(async (base) => {
    const token = await hs256({ scopes: ["calls:read"], voice: { sids: ["CA1"] } });
    assertEquals((await call(`${base}/v1/calls/CA1`, { token })).status, 200);
    const r = await call(`${base}/v1/calls/CA2`, { token });
    assertEquals([r.status, r.body.code, r.challenge], [403, "forbidden_resource", null]);
    assertEquals(r.body.detail, 'Token does not allow call "CA2"');
    const prefixed = await hs256({ scopes: ["calls:read"], voice: { prefix: ["voice"] } });
    assertEquals((await call(`${base}/v1/calls/CA2`, { token: prefixed })).status, 200);
  });
});

Deno.test("HTTP: GET may carry the token as ?jwt= (EventSource); other methods may not", async () => {
  await withServer(async (base) => {
    const token = await hs256({ scopes: ["calls:read", "calls:write"] });
    assertEquals((await call(`${base}/v1/calls?jwt=${token}`)).status, 200);
    const post = await call(`${base}/v1/calls?jwt=${token}`, { method: "POST" });
    assertEquals([post.status, post.body.code], [401, "missing_token"]);
  });
});
