import { exportJWK } from "jose";
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { ConfigError, loadConfig } from "../../src/server/config.ts";
import { es256, ES256_PUBLIC_JWK, ES256_PUBLIC_PEM, SECRET } from "./_tokens.ts";

async function withConfig(
  content: unknown,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-auth-config-" });
  try {
    const path = `${dir}/config.json`;
    await Deno.writeTextFile(path, JSON.stringify(content));
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config: no auth section means development mode", async () => {
  assertEquals((await loadConfig([], {})).auth, undefined);
});

Deno.test("config: auth takes an HS256 secret, ES256 keys (inline PEM, JWK object, file), issuer and audience", async () => {
  await withConfig({
    auth: {
      hs256Secret: SECRET,
      es256PublicKeys: [ES256_PUBLIC_PEM, ES256_PUBLIC_JWK, "./signer.pub.pem"],
      issuer: "https://auth.test",
      audience: ["a", "b"],
    },
  }, async (path, dir) => {
    await Deno.writeTextFile(`${dir}/signer.pub.pem`, ES256_PUBLIC_PEM);
    const { auth } = await loadConfig(["--config", path], {});
    assertEquals(auth?.hs256Secret, SECRET);
    assertEquals(auth?.es256PublicKeys, [
      ES256_PUBLIC_PEM,
      JSON.stringify(ES256_PUBLIC_JWK),
      ES256_PUBLIC_PEM,
    ]);
    assertEquals([auth?.issuer, auth?.audience], ["https://auth.test", ["a", "b"]]);
  });
});

Deno.test("config: CLUTCHCALL_AUTH_HS256_SECRET alone turns auth on and beats the file", async () => {
  const other = "x".repeat(40);
  assertEquals((await loadConfig([], { CLUTCHCALL_AUTH_HS256_SECRET: other })).auth, {
    hs256Secret: other,
  });
  await withConfig({ auth: { hs256Secret: SECRET } }, async (path) => {
    const config = await loadConfig(["--config", path], { CLUTCHCALL_AUTH_HS256_SECRET: other });
    assertEquals(config.auth?.hs256Secret, other);
  });
  const error = await assertRejects(
    () => loadConfig([], { CLUTCHCALL_AUTH_HS256_SECRET: "short" }),
    ConfigError,
    "CLUTCHCALL_AUTH_HS256_SECRET: Invalid HS256 secret: 5 bytes, at least 32",
  );
  assertEquals(error.source, "env");
});

Deno.test("config: invalid auth sections give precise errors", async () => {
  const privateJwk = await exportJWK(es256.privateKey);
  const cases: [unknown, string][] = [
    [[], '"auth" must be an object'],
    [{ secret: SECRET }, 'unknown key "auth.secret"'],
    [{}, "auth.hs256Secret or es256PublicKeys is required"],
    [{ issuer: "x" }, "auth.hs256Secret or es256PublicKeys is required"],
    [{ hs256Secret: "short" }, "auth.hs256Secret: Invalid HS256 secret: 5 bytes"],
    [{ hs256Secret: 42 }, "auth.hs256Secret: expected a string"],
    [{ es256PublicKeys: [] }, "auth.es256PublicKeys must be a non-empty array"],
    [
      { es256PublicKeys: [privateJwk] },
      "es256PublicKeys[0]: Invalid ES256 public key: the JWK holds a private key",
    ],
    [
      { es256PublicKeys: ["./missing.pem"] },
      'es256PublicKeys[0]: cannot read key file "./missing.pem"',
    ],
    [{ es256PublicKeys: [42] }, "es256PublicKeys[0] must be PEM or JWK text"],
    [{ hs256Secret: SECRET, issuer: "" }, "auth.issuer must be a non-empty string"],
    [{ hs256Secret: SECRET, audience: [] }, "auth.audience must be a non-empty string or array"],
  ];
  for (const [auth, message] of cases) {
    await withConfig({ auth }, async (path) => {
      const error = await assertRejects(() => loadConfig(["--config", path], {}), ConfigError);
      assertStringIncludes(error.message, message);
    });
  }
});
