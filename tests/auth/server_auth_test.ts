/**
 * Auth wired into the running server (VoiceServer in-process, real HTTP and QUIC): development
 * mode enforces its own token; a configured secret turns development mode off.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { signToken } from "../../src/auth/mod.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { MoqError } from "../../src/relay/error.ts";
import { SessionErrorCode, sessionErrorCode } from "../../src/relay/wire/draft14/error_codes.ts";
import { loadConfig } from "../../src/server/config.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { testLogger } from "../_lib/relay_fixture.ts";
import { SECRET } from "./_tokens.ts";

async function start(dataDir: string, env: Record<string, string> = {}) {
  const config = await loadConfig(
    ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir],
    env,
  );
  return await VoiceServer.start(config, testLogger().log);
}

Deno.test("a server without auth config enforces its development token on HTTP and MoQT", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-auth-server-" });
  try {
    await using server = await start(dataDir);
    const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
    assertEquals(server.devToken, token);
    assertEquals((await Deno.stat(`${dataDir}/dev-token`)).mode! & 0o777, 0o600);

    const open = await fetch(`${server.httpUrl}/v1/relay/certificate`);
    assertEquals(open.status, 200, "the certificate stays public");
    await open.body?.cancel();
    const anonymous = await fetch(`${server.httpUrl}/v1/relay/stats`);
    assertEquals(anonymous.status, 401);
    assertEquals(anonymous.headers.get("content-type"), "application/problem+json");
    await anonymous.body?.cancel();
    const authed = await fetch(`${server.httpUrl}/v1/relay/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assertEquals(authed.status, 200);
    await authed.body?.cancel();

    const connect = (jwt?: string) =>
      MoqClient.connect({
        hostname: "127.0.0.1",
        port: server.moqPort,
        caCerts: [server.certificate.certPem],
        log: testLogger().log,
        token: jwt,
      });
    const refused = await assertRejects(() => connect(), MoqError);
    assertEquals(sessionErrorCode(refused), SessionErrorCode.UNAUTHORIZED);
    await using client = await connect(token);
    assertEquals(client.session.state, "established");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a configured HS256 secret turns development mode off", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-auth-server-" });
  try {
    await using server = await start(dataDir, { CLUTCHCALL_AUTH_HS256_SECRET: SECRET });
    assertEquals(server.devToken, undefined);
    await assertRejects(() => Deno.stat(`${dataDir}/dev-token`), Deno.errors.NotFound);
    const token = await signToken({ hs256Secret: SECRET, scopes: ["relay:read"] });
    const response = await fetch(`${server.httpUrl}/v1/relay/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assertEquals(response.status, 200);
    await response.body?.cancel();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
