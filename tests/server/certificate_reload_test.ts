/**
 * Reloading the MoQT certificate on a running server, on the same UDP ports: SIGHUP after an
 * operator replaced the `--cert`/`--key` files (a spawned server), and the in-process
 * `reloadCertificate()` the development certificate's renewal runs, with relay shards. New
 * connections get the new certificate (a client trusting only the old one is refused), a
 * connection made before keeps working, and a file that does not load keeps the current one.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { loadOrCreateDevCertificate, type TlsCertificate } from "../../src/server/certificate.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { connectMoqQuic, listenMoq } from "../../src/relay/transport/endpoint.ts";
import type { MoqTransport } from "../../src/relay/transport/transport.ts";
import { loadConfig } from "../../src/server/config.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { spawnServer } from "../_lib/server_process.ts";
import { testLogger } from "../_lib/relay_fixture.ts";
import { waitFor } from "../_lib/wait.ts";

async function freshCertificate(): Promise<TlsCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-cert-" });
  try {
    return await loadOrCreateDevCertificate({ dataDir: dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A shard applies a reload when its message arrives: connects until the port presents the
 * renewed certificate (each refused handshake is the signal to try again), at most 50 times.
 */
async function connectOnceReloaded(connect: () => Promise<MoqClient>): Promise<MoqClient> {
  for (let attempt = 1;; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (attempt >= 50) throw error;
    }
  }
}

const sid = () => `CA${crypto.randomUUID().replaceAll("-", "")}`;

/** A client publishes a track through the relay, another reads three objects of it. */
async function streamThrough(
  publisher: MoqClient,
  subscriber: MoqClient,
  namespace: readonly string[] = ["voice", sid()],
): Promise<void> {
  const track = await publisher.publish({ namespace, name: "uplink" });
  const reader = await subscriber.subscribe(namespace, "uplink");
  const group = track.appendGroup();
  for (let i = 0; i < 3; i++) group.write({ id: i, payload: Uint8Array.of(i) });
  group.close();
  const got: number[] = [];
  const first = await reader.nextGroup();
  for (let o; got.length < 3 && (o = await first?.readObject());) got.push(o.payload[0]);
  assertEquals(got, [0, 1, 2]);
  reader.close();
  track.close();
}

Deno.test("SIGHUP reloads replaced --cert/--key files on the same port; live connections stay, a bad file keeps the old one", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-reload-" });
  const [first, second] = [await freshCertificate(), await freshCertificate()];
  const certPath = `${dataDir}/cert.pem`;
  const keyPath = `${dataDir}/key.pem`;
  await Deno.writeTextFile(certPath, first.certPem);
  await Deno.writeTextFile(keyPath, first.keyPem);
  try {
    await using server = await spawnServer({
      dataDir,
      args: ["--cert", certPath, "--key", keyPath],
      env: { CLUTCHCALL_AUTH_HS256_SECRET: "" },
    });
    const token = server.token;
    const { hostname, port } = new URL(server.listening.moq);
    const connect = (cert: TlsCertificate) =>
      MoqClient.connect({ hostname, port: Number(port), caCerts: [cert.certPem], token });
    const logged = (msg: string, after: number) =>
      waitFor(`log "${msg}"`, () => server.lines.slice(after).some((l) => l.includes(msg)));

    await using before = await connect(first);

    // A file that is not a certificate: the current one stays.
    await Deno.writeTextFile(certPath, "not a certificate\n");
    let mark = server.lines.length;
    server.child.kill("SIGHUP");
    await logged("Cannot reload the certificate; keeping the current one", mark);
    await using stillOld = await connect(first);
    await streamThrough(before, stillOld);

    // The replaced files: new connections get them, the one made before goes on.
    await Deno.writeTextFile(certPath, second.certPem);
    await Deno.writeTextFile(keyPath, second.keyPem);
    mark = server.lines.length;
    server.child.kill("SIGHUP");
    await logged("Reloaded the MoQT certificate", mark);
    const described = await (await fetch(`${server.listening.http}/v1/relay/certificate`)).json();
    assertEquals(described.sha256Hex, second.sha256Hex);
    for (let i = 0; i < 3; i++) {
      await using after = await connect(second);
      await streamThrough(before, after);
    }
    await assertRejects(() => connect(first), Error, "certificate");
    assertEquals((await fetch(`${server.listening.http}/healthz`)).status, 200);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("reloadCertificate() moves the main relay and every relay shard to the renewed development certificate", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-renew-" });
  try {
    await Deno.writeTextFile(`${dataDir}/config.json`, JSON.stringify({ relay: { shards: 2 } }));
    const config = await loadConfig(
      [
        "--http-port",
        "0",
        "--moq-port",
        "0",
        "--data-dir",
        dataDir,
        "--config",
        `${dataDir}/config.json`,
      ],
      {},
    );
    await using server = await VoiceServer.start(config, testLogger().log);
    const token = server.devToken!;
    const old = server.certificate;
    const ports = [server.moqPort, server.shards!.port(1)];
    const connect = (port: number, cert: TlsCertificate) =>
      MoqClient.connect({ hostname: "127.0.0.1", port, caCerts: [cert.certPem], token });
    await using before0 = await connect(ports[0], old);
    await using before1 = await connect(ports[1], old);
    const before = [before0, before1];
    /** A call placed on `shard` (placement is the pool's; a sid is tried until it lands there). */
    const placedOn = (shard: number): string[] => {
      for (;;) {
        const s = sid();
        if (server.shards!.place(s) === shard) return ["voice", s];
      }
    };

    // Unchanged files: nothing to reload.
    assertEquals((await server.reloadCertificate()).sha256Hex, old.sha256Hex);

    // The renewal regenerated the files (as inside the renew window): every port presents it.
    const renewed = await freshCertificate();
    await Deno.writeTextFile(`${dataDir}/tls/dev-cert.pem`, renewed.certPem);
    await Deno.writeTextFile(`${dataDir}/tls/dev-key.pem`, renewed.keyPem);
    assertEquals((await server.reloadCertificate()).sha256Hex, renewed.sha256Hex);
    assertEquals(server.certificate.sha256Hex, renewed.sha256Hex);
    for (const [index, port] of ports.entries()) {
      const client = await connectOnceReloaded(() => connect(port, renewed));
      await using _ = client;
      await assertRejects(() => connect(port, old), Error, "certificate");
      // A connection made before the reload publishes a call of the other shard; the new
      // client reads it across shards, over a link between shards made after the reload.
      const other = 1 - index;
      await streamThrough(before[other], client, placedOn(other));
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a stopped endpoint refuses new connections at once (not by a handshake timeout) and keeps live ones", async () => {
  const cert = await freshCertificate();
  const endpoint = listenMoq({
    hostname: "127.0.0.1",
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
  });
  const accepted: MoqTransport[] = [];
  const serving = (async () => {
    for await (const transport of endpoint) accepted.push(transport);
  })();
  const connect = () =>
    connectMoqQuic({ hostname: "127.0.0.1", port: endpoint.addr.port, caCerts: [cert.certPem] });
  try {
    const live = await connect();
    endpoint.stopAccepting(); // a graceful shutdown's first step
    assertThrows(() => endpoint.reloadCertificate({ cert: cert.certPem, key: cert.keyPem }));
    for (let i = 0; i < 3; i++) await assertRejects(connect, Error, "refused");
    // The live connection still carries a stream to the server.
    const writer = (await live.openUni()).getWriter();
    await writer.write(Uint8Array.of(1, 2, 3));
    await writer.close();
    assertEquals(accepted.length, 1);
    const incoming = await accepted[0].incomingUni.getReader().read();
    const bytes = await new Response(incoming.value).arrayBuffer();
    assertEquals([...new Uint8Array(bytes)], [1, 2, 3]);
    live.close({ code: 0, reason: "done" });
  } finally {
    endpoint.close();
    endpoint.close(); // twice is a no-op
    await serving;
  }
});
