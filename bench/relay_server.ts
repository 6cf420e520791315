/**
 * A bare relay in its own process for `bench/relay_bench.ts`, so the relay's CPU time can be
 * read from `/proc/<pid>/stat` apart from the publishers and subscribers that load it.
 *
 * Run: `deno run -A --unstable-net bench/relay_server.ts <cert-dir> [shards] [tracks]`. Loads
 * (or creates) the dev certificate in `<cert-dir>`, listens on a free UDP port of 127.0.0.1,
 * prints `{"port":N,"ports":[...]}` as its first stdout line, and exits when its stdin closes.
 * With `shards` > 1 the relay runs as a `ShardPool` (`src/relay/shard/pool.ts`: the main relay
 * plus Worker shards on ports of their own) and places the calls `call0` … `call<tracks-1>` in
 * order (least loaded: call t on shard t mod shards); `ports[k]` is shard k's port.
 *
 * @module
 */
import { Relay } from "../src/relay/relay.ts";
import { listenMoq } from "../src/relay/transport/mod.ts";
import { loadOrCreateDevCertificate } from "../src/server/certificate.ts";
import { createLogger } from "../src/log/mod.ts";
import { ShardAuth, ShardPool } from "../src/relay/shard/mod.ts";

const dataDir = Deno.args[0];
const shards = Number(Deno.args[1] ?? 1);
const tracks = Number(Deno.args[2] ?? 0);
if (!dataDir) throw new TypeError("Cannot start bench relay: pass a certificate directory");
const cert = await loadOrCreateDevCertificate({ dataDir });
const encoder = new TextEncoder();
const log = createLogger({
  level: "error",
  json: true,
  sink: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
});
const relay = new Relay({ log });
const endpoint = listenMoq({
  hostname: "127.0.0.1",
  port: 0,
  cert: cert.certPem,
  key: cert.keyPem,
});
relay.serve(endpoint);
const pool = shards > 1
  ? await ShardPool.start({
    count: shards,
    origin: relay.origin,
    mainPort: endpoint.addr.port,
    hostname: "127.0.0.1",
    publicHost: "127.0.0.1",
    basePort: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    auth: await ShardAuth.create(),
    subscribeTimeoutMs: 5000,
    maxInFlightGroups: 4,
    requestWindow: 50,
    log,
    logLevel: "error",
  })
  : undefined;
for (let t = 0; t < tracks; t++) pool?.place(`call${t}`);
const ports = Array.from({ length: shards }, (_, k) => pool?.port(k) ?? endpoint.addr.port);
Deno.stdout.writeSync(
  encoder.encode(JSON.stringify({ port: endpoint.addr.port, ports }) + "\n"),
);

// The bench holds our stdin open; its end (or the bench dying) ends the relay.
for await (const _ of Deno.stdin.readable) { /* ignore input */ }
await pool?.close(0);
await relay.close(0);
endpoint.close();
Deno.exit(0);
