import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { exportJWK, generateKeyPair } from "jose";
import {
  AuthError,
  type AuthErrorKind,
  createTokenVerifier,
  signToken,
  type TokenVerifier,
} from "../../src/auth/mod.ts";
import {
  AUDIENCE,
  claims,
  es256,
  ES256_PUBLIC_JWK,
  ES256_PUBLIC_PEM,
  hmac,
  hs256,
  ISSUER,
  OTHER_SECRET,
  SECRET,
  unsigned,
} from "./_tokens.ts";
import { sessionErrorCode } from "../../src/relay/wire/draft14/error_codes.ts";

const hsVerifier = await createTokenVerifier({
  hs256Secret: SECRET,
  issuer: ISSUER,
  audience: AUDIENCE,
});
const esVerifier = await createTokenVerifier({
  es256PublicKeys: [ES256_PUBLIC_PEM],
  issuer: ISSUER,
  audience: AUDIENCE,
});

async function refused(
  verifier: TokenVerifier,
  token: string,
  kind: AuthErrorKind,
  detail: string,
): Promise<AuthError> {
  const error = await assertRejects(() => verifier.verify(token), AuthError);
  assertEquals(error.kind, kind, error.message);
  assertStringIncludes(error.message, detail);
  return error;
}

Deno.test("an HS256 token yields its scopes, limits, subject and expiry", async () => {
  const token = await hs256({
    scopes: ["calls:read", "media:subscribe"],
    voice: { sids: ["CA1"] },
    subject: "client:alice",
    expiresInSec: 120,
  });
  const grant = await hsVerifier.verify(token);
  assertEquals([...grant.scopes], ["calls:read", "media:subscribe"]);
  assertEquals(grant.limits, { sids: ["CA1"] });
  assertEquals(grant.subject, "client:alice");
  const left = grant.expiresAt.getTime() - Date.now();
  assert(left > 100_000 && left <= 120_000, `expires in ${left} ms`);
});

Deno.test("ES256 tokens verify against PEM and JWK keys; kid picks the key", async () => {
  const token = await signToken({
    es256PrivateKey: es256.privateKey,
    scopes: ["media:publish"],
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  assertEquals([...(await esVerifier.verify(token)).scopes], ["media:publish"]);

  const other = await generateKeyPair("ES256", { extractable: true });
  const jwkVerifier = await createTokenVerifier({
    es256PublicKeys: [
      JSON.stringify({ ...(await exportJWK(other.publicKey)), kid: "k0" }),
      JSON.stringify(ES256_PUBLIC_JWK),
    ],
  });
  const withKid = await signToken({ es256PrivateKey: es256.privateKey, kid: "k1", scopes: [] });
  assertEquals((await jwkVerifier.verify(withKid)).scopes.size, 0);
  // No kid: every key is tried.
  const noKid = await signToken({ es256PrivateKey: es256.privateKey, scopes: ["calls:read"] });
  assertEquals([...(await jwkVerifier.verify(noKid)).scopes], ["calls:read"]);
  // A kid naming the other key: the signature does not verify with it.
  const wrongKid = await signToken({ es256PrivateKey: es256.privateKey, kid: "k0", scopes: [] });
  await refused(jwkVerifier, wrongKid, "invalid_token", "does not verify");
});

Deno.test("an expired token is refused with when it expired", async () => {
  const token = await hs256({ expiresInSec: -60 });
  const error = await refused(hsVerifier, token, "expired_token", "Token expired at 20");
  assertEquals([error.status, sessionErrorCode(error.moqKind)], [401, 0x18]);
});

Deno.test("a token not yet valid is refused", async () => {
  await refused(
    hsVerifier,
    await hs256({ notBeforeInSec: 600 }),
    "invalid_token",
    "not valid before",
  );
});

Deno.test("a forged signature is refused", async () => {
  const forged = await hmac("HS256", OTHER_SECRET, claims());
  const error = await refused(hsVerifier, forged, "invalid_token", "signature does not verify");
  assertEquals([error.status, sessionErrorCode(error.moqKind)], [401, 0x2]);
  // A valid token with its payload swapped keeps a signature over the old payload.
  const [header, , signature] = (await hs256({ scopes: ["calls:read"] })).split(".");
  const payload = btoa(JSON.stringify(claims({ scope: "calls:write" }))).replace(/=+$/, "");
  await refused(hsVerifier, `${header}.${payload}.${signature}`, "invalid_token", "signature");
});

Deno.test("algorithms other than the configured ones are refused, none and HS512 included", async () => {
  await refused(hsVerifier, unsigned(), "invalid_token", 'algorithm "none" is not accepted');
  await refused(
    hsVerifier,
    await hmac("HS512", SECRET),
    "invalid_token",
    '"HS512" is not accepted',
  );
  // Algorithm confusion: HS256 keyed with the ES256 public key must not pass an ES256 verifier.
  await refused(
    esVerifier,
    await hmac("HS256", ES256_PUBLIC_PEM),
    "invalid_token",
    '"HS256" is not accepted (accepted: ES256)',
  );
  const es = await signToken({ es256PrivateKey: es256.privateKey, scopes: [] });
  await refused(hsVerifier, es, "invalid_token", '"ES256" is not accepted (accepted: HS256)');
});

Deno.test("the wrong issuer or audience is refused, naming both", async () => {
  await refused(
    hsVerifier,
    await hs256({ issuer: "https://evil.test" }),
    "invalid_token",
    'issuer "https://evil.test" is not "https://auth.test"',
  );
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ iss: undefined })),
    "invalid_token",
    'no "iss" claim',
  );
  await refused(
    hsVerifier,
    await hs256({ audience: "someone-else" }),
    "invalid_token",
    'audience "someone-else" does not include "clutchcall-voice"',
  );
});

Deno.test("a token without exp is refused", async () => {
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ exp: undefined })),
    "invalid_token",
    'no "exp" claim',
  );
});

Deno.test("malformed tokens are refused as malformed", async () => {
  for (
    const [token, detail] of [
      ["abc", "three dot-separated parts"],
      ["a.b", "three dot-separated parts"],
      ["!!!.e30.sig", "header is not base64url"],
    ] as const
  ) {
    const error = await refused(hsVerifier, token, "malformed_token", detail);
    assertEquals(sessionErrorCode(error.moqKind), 0x16);
  }
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ exp: "tomorrow" })),
    "malformed_token",
    '"exp" has the wrong type',
  );
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ scope: ["calls:read"] })),
    "malformed_token",
    "scope claim",
  );
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ voice: { sids: ["bad sid!"] } })),
    "malformed_token",
    "Invalid call sid",
  );
  await refused(
    hsVerifier,
    await hmac("HS256", SECRET, claims({ voice: { rooms: [] } })),
    "malformed_token",
    'unknown key "rooms"',
  );
  await refused(hsVerifier, "", "missing_token", "No bearer token");
});

Deno.test("unknown scopes are ignored", async () => {
  const grant = await hsVerifier.verify(
    await hmac("HS256", SECRET, claims({ scope: "calls:read admin:everything  media:publish" })),
  );
  assertEquals([...grant.scopes], ["calls:read", "media:publish"]);
});

Deno.test("verifier configuration errors are precise", async () => {
  await assertRejects(
    () => createTokenVerifier({}),
    TypeError,
    "configure hs256Secret or es256PublicKeys",
  );
  await assertRejects(
    () => createTokenVerifier({ hs256Secret: "short" }),
    TypeError,
    "at least 32",
  );
  await assertRejects(
    () =>
      createTokenVerifier({
        es256PublicKeys: ["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"],
      }),
    TypeError,
    'es256PublicKeys[0]: Invalid ES256 public key: a PEM "PRIVATE KEY"',
  );
  const privateJwk = await exportJWK(es256.privateKey);
  await assertRejects(
    () => createTokenVerifier({ es256PublicKeys: [JSON.stringify(privateJwk)] }),
    TypeError,
    "holds a private key",
  );
  await assertRejects(
    () =>
      createTokenVerifier({ es256PublicKeys: [JSON.stringify({ kty: "RSA", n: "x", e: "AQAB" })] }),
    TypeError,
    'kty "RSA"',
  );
  await assertRejects(
    () => createTokenVerifier({ es256PublicKeys: ["nonsense"] }),
    TypeError,
    "neither PEM nor JWK",
  );
});
