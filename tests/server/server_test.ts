import { assertEquals, assertMatch } from "@std/assert";
import { MoqClient } from "../../src/relay/client.ts";
import { testLogger } from "../_lib/relay_fixture.ts";
import { spawnServer } from "../_lib/server_process.ts";
import { sessionErrorCode } from "../../src/relay/wire/draft14/error_codes.ts";
import { VERSION } from "../../src/server/version.ts";

Deno.test("the server starts on defaults, serves health and its certificate, and drains MoQT peers on SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-server-" });
  await using server = await spawnServer({ dataDir });
  const { child, listening, lines, pump } = server;
  try {
    const health = await fetch(`${listening.http}/healthz`);
    assertEquals([health.status, await health.json()], [200, { status: "ok", version: VERSION }]);

    const certResponse = await fetch(`${listening.http}/v1/relay/certificate`);
    const cert = await certResponse.json();
    assertEquals(cert.url, listening.moq);
    assertMatch(cert.sha256Hex, /^[0-9a-f]{64}$/);
    assertEquals(cert.sha256Hex, listening.certificateSha256);
    const notAfter = new Date(cert.notAfter).getTime();
    const days = (notAfter - Date.now()) / 86_400_000;
    assertEquals(days > 9 && days <= 10, true, `dev certificate valid ~10 days, got ${days}`);

    // The certificate on disk is the one the relay presents: a QUIC client trusting it connects.
    const certPem = await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`);
    const port = Number(new URL(listening.moq).port);
    // Development mode: the relay enforces the token the server minted and printed.
    const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
    assertEquals(token, listening.devToken);
    assertEquals(token, server.token);
    const clientLog = testLogger("info");
    const client = await MoqClient.connect({
      hostname: "127.0.0.1",
      port,
      caCerts: [certPem],
      log: clientLog.log,
      token,
    });
    assertEquals(client.session.state, "established");

    const notFound = await fetch(`${listening.http}/nope`);
    assertEquals(notFound.status, 404);
    assertEquals(notFound.headers.get("content-type"), "application/problem+json");
    await notFound.body?.cancel();

    child.kill("SIGTERM");
    const closed = await client.closed;
    assertEquals(client.session.state, "closed");
    assertEquals(
      clientLog.lines.some((l) => l.includes("Peer sent GOAWAY")),
      true,
      "GOAWAY came first",
    );
    const code = sessionErrorCode(closed);
    assertEquals(code === 0x0 || code === 0x10, true, `closed with ${code}`);
    const status = await child.status;
    assertEquals(status.code, 0);
    await pump;
    assertEquals(lines.some((l) => l.includes('"msg":"Stopped"')), true);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the server reuses its development certificate across restarts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-server-" });
  const hashes: string[] = [];
  for (let i = 0; i < 2; i++) {
    await using server = await spawnServer({ dataDir });
    hashes.push(server.listening.certificateSha256);
    server.child.kill("SIGTERM");
    await server.child.status;
  }
  assertEquals(hashes[0], hashes[1]);
  await Deno.remove(dataDir, { recursive: true });
});
