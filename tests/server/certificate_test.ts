import {
  assert,
  assertEquals,
  assertLess,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import {
  DEFAULT_RENEW_BEFORE_MS,
  loadCertificate,
  loadOrCreateDevCertificate,
  renewalDelayMs,
  renewalTime,
} from "../../src/server/certificate.ts";
import { requireOrSkip } from "../_lib/env.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function openssl(args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

Deno.test("dev certificate is a P-256 leaf for localhost that openssl accepts", async () => {
  await using tmp = await tempDir();
  const tls = await loadOrCreateDevCertificate({ dataDir: tmp.path, hosts: ["voice.test"] });
  assert(tls.generated);
  assertEquals(tls.certPath, join(tmp.path, "tls", "dev-cert.pem"));
  assertEquals(tls.keyPath, join(tmp.path, "tls", "dev-key.pem"));
  assertEquals(await Deno.readTextFile(tls.certPath), tls.certPem);
  assertEquals(await Deno.readTextFile(tls.keyPath), tls.keyPem);
  assertEquals((await Deno.stat(tls.keyPath)).mode! & 0o777, 0o600);
  const validity = tls.notAfter.getTime() - tls.notBefore.getTime();
  assertEquals(validity, 10 * DAY_MS);
  assertLess(validity, 14 * DAY_MS);
  assertEquals(tls.sha256.length, 32);
  assertEquals(tls.renewAt.getTime(), tls.notAfter.getTime() - DEFAULT_RENEW_BEFORE_MS);

  if (!requireOrSkip(hasOpenssl(), "openssl is not installed: independent parse skipped")) return;
  const text = await openssl(["x509", "-noout", "-text"], tls.certPem);
  assertStringIncludes(text, "NIST CURVE: P-256");
  assertStringIncludes(text, "Signature Algorithm: ecdsa-with-SHA256");
  assert(/Basic Constraints: critical\s+CA:FALSE/.test(text), text);
  assertStringIncludes(text, "DNS:localhost");
  assertStringIncludes(text, "IP Address:127.0.0.1");
  assertStringIncludes(text, "DNS:voice.test");
  assertStringIncludes(text, "TLS Web Server Authentication");

  const fingerprint = await openssl(["x509", "-noout", "-fingerprint", "-sha256"], tls.certPem);
  const hex = fingerprint.trim().split("=")[1].replaceAll(":", "").toLowerCase();
  assertEquals(tls.sha256Hex, hex);
  assertEquals(atob(tls.sha256Base64), String.fromCharCode(...tls.sha256));

  // The key file is a valid P-256 key and belongs to the certificate.
  const keyPub = await openssl(["pkey", "-pubout"], tls.keyPem);
  const certPub = await openssl(["x509", "-noout", "-pubkey"], tls.certPem);
  assertEquals(keyPub, certPub);
});

Deno.test("dev certificate completes a real QUIC handshake on loopback", async () => {
  await using tmp = await tempDir();
  const tls = await loadOrCreateDevCertificate({ dataDir: tmp.path, hosts: ["127.0.0.1"] });
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({
    cert: tls.certPem,
    key: tls.keyPem,
    alpnProtocols: ["moq-00"],
  });
  // The server completes its side of every handshake; the first good one echoes a stream.
  const received = Promise.withResolvers<{ bytes: Uint8Array; protocol: string | undefined }>();
  const serving = (async () => {
    for (;;) {
      const incoming = await listener.incoming().catch(() => undefined);
      if (!incoming) return;
      Promise.resolve(incoming.accept()).then(async (conn) => {
        const stream = await conn.incomingBidirectionalStreams.getReader().read();
        const bytes = await new Response(stream.value!.readable).bytes();
        received.resolve({ bytes, protocol: conn.protocol });
        conn.close({ closeCode: 0, reason: "done" });
      }, () => {});
    }
  })();
  try {
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: endpoint.addr.port,
      alpnProtocols: ["moq-00"],
      caCerts: [tls.certPem],
      serverName: "localhost",
    });
    assertEquals(conn.protocol, "moq-00");
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.close();
    const result = await received.promise;
    assertEquals(result.protocol, "moq-00");
    assertEquals(result.bytes, new Uint8Array([1, 2, 3]));
    await conn.closed.catch(() => {});

    // The handshake really verifies the chain: trusting another certificate fails.
    await using otherDir = await tempDir();
    const other = await loadOrCreateDevCertificate({ dataDir: otherDir.path });
    await assertRejects(
      async () =>
        await Deno.connectQuic({
          hostname: "127.0.0.1",
          port: endpoint.addr.port,
          alpnProtocols: ["moq-00"],
          caCerts: [other.certPem],
          serverName: "localhost",
        }),
      Error,
      "invalid peer certificate",
    );
  } finally {
    endpoint.close();
    await serving;
  }
});

Deno.test("renewed certificate reloads on the same endpoint and keeps open connections", async () => {
  await using tmp = await tempDir();
  // Made 9 days ago: still valid for a day, but inside the renew window now.
  const nineDaysAgo = new Date(Date.now() - 9 * DAY_MS);
  const first = await loadOrCreateDevCertificate({ dataDir: tmp.path, now: nineDaysAgo });
  assertEquals(renewalDelayMs(first), 0);
  const renewed = await loadOrCreateDevCertificate({ dataDir: tmp.path });
  assert(renewed.generated);
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const serve = (listener: Deno.QuicListener) =>
    (async () => {
      for (;;) {
        const incoming = await listener.incoming().catch(() => undefined);
        if (!incoming) return;
        Promise.resolve(incoming.accept()).catch(() => {});
      }
    })();
  const connect = async (caCert: string) =>
    await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: endpoint.addr.port,
      alpnProtocols: ["moq-00"],
      caCerts: [caCert],
      serverName: "localhost",
    });
  try {
    const before = endpoint.listen({
      cert: first.certPem,
      key: first.keyPem,
      alpnProtocols: ["moq-00"],
    });
    const servingBefore = serve(before);
    const old = await connect(first.certPem);
    before.stop(); // a pending incoming() settles only when the endpoint closes
    const after = endpoint.listen({
      cert: renewed.certPem,
      key: renewed.keyPem,
      alpnProtocols: ["moq-00"],
    });
    const servingAfter = serve(after);
    const fresh = await connect(renewed.certPem);
    const stillOpen = await Promise.race([
      old.closed.then(() => false, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 100)),
    ]);
    assert(stillOpen, "a connection made before the reload must survive it");
    old.close();
    fresh.close();
    after.stop();
    endpoint.close();
    await Promise.all([servingBefore, servingAfter]);
  } finally {
    endpoint.close();
  }
});

Deno.test("dev certificate is reused until the renew window, then regenerated", async () => {
  await using tmp = await tempDir();
  const t0 = new Date("2030-01-01T00:00:00Z");
  const first = await loadOrCreateDevCertificate({ dataDir: tmp.path, now: t0 });
  assert(first.generated);
  assertEquals(first.notAfter.getTime(), t0.getTime() - 60_000 + 10 * DAY_MS);

  const later = new Date(t0.getTime() + 7 * DAY_MS);
  const reused = await loadOrCreateDevCertificate({ dataDir: tmp.path, now: later });
  assertEquals(reused.generated, false);
  assertEquals(reused.sha256Hex, first.sha256Hex);
  assertEquals(reused.certPem, first.certPem);

  const renewDue = new Date(first.renewAt.getTime());
  const renewed = await loadOrCreateDevCertificate({ dataDir: tmp.path, now: renewDue });
  assert(renewed.generated);
  assertNotEquals(renewed.sha256Hex, first.sha256Hex);
  assertEquals(renewed.notAfter.getTime(), renewDue.getTime() - 60_000 + 10 * DAY_MS);
  assertEquals(await Deno.readTextFile(renewed.certPath), renewed.certPem);
});

Deno.test("dev certificate is regenerated when a new host is configured", async () => {
  await using tmp = await tempDir();
  const now = new Date("2030-01-01T00:00:00Z");
  const first = await loadOrCreateDevCertificate({ dataDir: tmp.path, hosts: ["::1"], now });
  const same = await loadOrCreateDevCertificate({
    dataDir: tmp.path,
    hosts: ["[::1]", "127.0.0.1", "0.0.0.0", "localhost"],
    now,
  });
  assertEquals(same.generated, false);
  assertEquals(same.sha256Hex, first.sha256Hex);
  const other = await loadOrCreateDevCertificate({ dataDir: tmp.path, hosts: ["10.0.0.7"], now });
  assert(other.generated);
});

Deno.test("dev certificate is regenerated when the files are corrupt or mismatched", async () => {
  await using tmp = await tempDir();
  const now = new Date("2030-01-01T00:00:00Z");
  const first = await loadOrCreateDevCertificate({ dataDir: tmp.path, now });
  await Deno.writeTextFile(first.certPath, "garbage");
  const second = await loadOrCreateDevCertificate({ dataDir: tmp.path, now });
  assert(second.generated);

  // A key from another certificate: rejected on load, regenerated by the dev path.
  await using other = await tempDir();
  const stranger = await loadOrCreateDevCertificate({ dataDir: other.path, now });
  await Deno.copyFile(stranger.keyPath, second.keyPath);
  await assertRejects(
    () => loadCertificate(second.certPath, second.keyPath),
    TypeError,
    "does not belong to the certificate",
  );
  const third = await loadOrCreateDevCertificate({ dataDir: tmp.path, now });
  assert(third.generated);
  assertEquals((await Deno.stat(third.keyPath)).mode! & 0o777, 0o600);
});

Deno.test("loadCertificate computes the fingerprint of an openssl-made certificate", async () => {
  if (!requireOrSkip(hasOpenssl(), "openssl is not installed")) return;
  await using tmp = await tempDir();
  const certPath = join(tmp.path, "cert.pem");
  const keyPath = join(tmp.path, "key.pem");
  await openssl([
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-days", "10", "-subj", "/CN=localhost", "-keyout", keyPath, "-out", certPath],
    ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ...["-addext", "basicConstraints=critical,CA:FALSE"],
  ]);
  const tls = await loadCertificate(certPath, keyPath);
  const fingerprint = await openssl([
    ...["x509", "-noout", "-fingerprint", "-sha256", "-in", certPath],
  ]);
  assertEquals(tls.sha256Hex, fingerprint.trim().split("=")[1].replaceAll(":", "").toLowerCase());
  const spki = await openssl(["x509", "-noout", "-pubkey", "-in", certPath]);
  const spkiDer = await crypto.subtle.digest(
    "SHA-256",
    Uint8Array.from(atob(spki.replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0)),
  );
  assertEquals(tls.spkiSha256Base64, btoa(String.fromCharCode(...new Uint8Array(spkiDer))));
  assertEquals(tls.certPath, certPath);
});

Deno.test("loadCertificate rejects files without PEM content", async () => {
  await using tmp = await tempDir();
  const path = join(tmp.path, "empty.pem");
  await Deno.writeTextFile(path, "not a certificate\n");
  await assertRejects(() => loadCertificate(path, path), SyntaxError, "holds no PEM certificate");
  await assertRejects(
    () => loadCertificate(join(tmp.path, "missing.pem"), path),
    Deno.errors.NotFound,
  );
});

Deno.test("invalid dev certificate options are rejected", async () => {
  await using tmp = await tempDir();
  await assertRejects(
    () => loadOrCreateDevCertificate({ dataDir: tmp.path, validityDays: 30 }),
    RangeError,
    "validityDays",
  );
  await assertRejects(
    () => loadOrCreateDevCertificate({ dataDir: tmp.path, hosts: ["bad host!"] }),
    TypeError,
    'invalid host "bad host!"',
  );
});

Deno.test("renewal delay counts down to the renew time and is safe for setTimeout", () => {
  const notAfter = new Date("2030-01-11T00:00:00Z");
  assertEquals(renewalTime(notAfter), new Date("2030-01-09T00:00:00Z"));
  assertEquals(renewalDelayMs({ notAfter }, { now: new Date("2030-01-08T00:00:00Z") }), DAY_MS);
  assertEquals(renewalDelayMs({ notAfter }, { now: new Date("2030-01-10T00:00:00Z") }), 0);
  assertEquals(
    renewalDelayMs({ notAfter }, { now: new Date("2030-01-08T00:00:00Z"), renewBeforeMs: 0 }),
    3 * DAY_MS,
  );
  const farAway = { notAfter: new Date("2031-01-01T00:00:00Z") };
  assertEquals(renewalDelayMs(farAway, { now: notAfter }), 2 ** 31 - 1);
});

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "voice_cert_test_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}
