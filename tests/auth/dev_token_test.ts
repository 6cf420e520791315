import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { AuthError, DEV_ISSUER, SCOPES, setupDevAuth, signToken } from "../../src/auth/mod.ts";

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("development mode mints an all-scope token into <data-dir>/dev-token with mode 0600", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-auth-" });
  try {
    const dev = await setupDevAuth({ dataDir });
    assertEquals(dev.tokenPath, `${dataDir}/dev-token`);
    assertEquals((await Deno.readTextFile(dev.tokenPath)).trim(), dev.token);
    assertEquals(await mode(dev.tokenPath), 0o600);
    assertEquals(await mode(`${dataDir}/auth/dev-secret`), 0o600);
    const grant = await dev.verifier.verify(dev.token);
    assertEquals([...grant.scopes].sort(), [...SCOPES].sort());
    assertEquals([grant.unrestricted, grant.claims.iss], [true, DEV_ISSUER]);
    const days = (grant.expiresAt.getTime() - Date.now()) / 86_400_000;
    assert(days > 29 && days <= 30, `valid for ${days} days`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the development secret persists: earlier tokens stay valid, others are refused", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-auth-" });
  try {
    const first = await setupDevAuth({ dataDir });
    await Deno.chmod(`${dataDir}/auth/dev-secret`, 0o644);
    await Deno.chmod(first.tokenPath, 0o644);
    const second = await setupDevAuth({ dataDir });
    assertEquals(await mode(`${dataDir}/auth/dev-secret`), 0o600, "a loosened secret is fixed");
    assertEquals(await mode(second.tokenPath), 0o600, "the token file is rewritten 0600");
    await second.verifier.verify(first.token);

    const elsewhere = await Deno.makeTempDir({ prefix: "clutchcall-auth-" });
    try {
      const stranger = await setupDevAuth({ dataDir: elsewhere });
      assertNotEquals(stranger.token, second.token);
      const error = await assertRejects(() => second.verifier.verify(stranger.token), AuthError);
      assertEquals(error.kind, "invalid_token");
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
    // A token signed with the secret but without the development issuer is refused.
    const secret = (await Deno.readTextFile(`${dataDir}/auth/dev-secret`)).trim();
    const noIssuer = await signToken({ hs256Secret: secret, scopes: ["calls:read"] });
    await assertRejects(() => second.verifier.verify(noIssuer), AuthError, '"iss"');
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
