/**
 * A bare relay in its own process for `bench/relay_bench.ts`, so the relay's CPU time can be
 * read from `/proc/<pid>/stat` apart from the publishers and subscribers that load it.
 *
 * Run: `deno run -A --unstable-net bench/relay_server.ts <cert-dir>`. Loads (or creates) the
 * dev certificate in `<cert-dir>`, listens on a free UDP port of 127.0.0.1, prints
 * `{"port":N}` as its first stdout line, and exits when its stdin closes.
 *
 * @module
 */
import { Relay } from "../src/relay/relay.ts";
import { listenMoq } from "../src/relay/transport/mod.ts";
import { loadOrCreateDevCertificate } from "../src/server/certificate.ts";
import { createLogger } from "../src/log/mod.ts";

const dataDir = Deno.args[0];
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
Deno.stdout.writeSync(encoder.encode(JSON.stringify({ port: endpoint.addr.port }) + "\n"));

// The bench holds our stdin open; its end (or the bench dying) ends the relay.
for await (const _ of Deno.stdin.readable) { /* ignore input */ }
await relay.close(0);
endpoint.close();
Deno.exit(0);
