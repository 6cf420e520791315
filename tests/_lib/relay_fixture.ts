/**
 * A real relay on loopback for tests: a dev certificate in a temp dir, a QUIC endpoint on a
 * free UDP port (WebTransport and raw QUIC), and clients that connect to it.
 *
 * @module
 */
import { Relay, type RelayOptions } from "../../src/relay/relay.ts";
import {
  listenMoq,
  type ListenMoqOptions,
  type MoqEndpoint,
} from "../../src/relay/transport/mod.ts";
import { MoqClient } from "../../src/relay/client.ts";
import type { TrackConsumer, TrackInfo, TrackProducer } from "../../src/relay/model/mod.ts";
import { loadOrCreateDevCertificate, type TlsCertificate } from "../../src/server/certificate.ts";
import { createLogger, type Logger } from "../../src/log/mod.ts";

let certPromise: Promise<TlsCertificate> | undefined;

/** One dev certificate shared by every test in the process. */
export function testCertificate(): Promise<TlsCertificate> {
  return certPromise ??= (async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-cert-" });
    return await loadOrCreateDevCertificate({ dataDir });
  })();
}

/** A logger that keeps lines in memory (printed only with `RELAY_LOG=1`). */
export function testLogger(
  level: "debug" | "info" | "warn" = "warn",
): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const echo = Deno.env.get("RELAY_LOG") === "1";
  const log = createLogger({
    level: echo ? "debug" : level,
    json: true,
    sink: (line) => {
      lines.push(line);
      if (echo) console.error(line);
    },
  });
  return { log, lines };
}

/** A running relay and how to reach it. */
export interface RelayFixture extends AsyncDisposable {
  readonly relay: Relay;
  readonly endpoint: MoqEndpoint;
  readonly port: number;
  readonly cert: TlsCertificate;
  readonly lines: string[];
  /** A raw-QUIC client connected to the relay. */
  client(): Promise<MoqClient>;
}

/** Starts a relay on 127.0.0.1 with a free port. */
export async function startRelay(
  options: Partial<RelayOptions> = {},
  listen: Pick<ListenMoqOptions, "maxStreamsPerConnection"> = {},
): Promise<RelayFixture> {
  const cert = await testCertificate();
  const { log, lines } = testLogger();
  const relay = new Relay({ log, ...options });
  const endpoint = listenMoq({
    hostname: "127.0.0.1",
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
    ...listen,
  });
  relay.serve(endpoint);
  const port = endpoint.addr.port;
  const clients: MoqClient[] = [];
  return {
    relay,
    endpoint,
    port,
    cert,
    lines,
    async client() {
      const client = await MoqClient.connect({
        hostname: "127.0.0.1",
        port,
        caCerts: [cert.certPem],
        log: testLogger().log,
      });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const c of clients) c.close();
      await relay.close(50);
      endpoint.close();
    },
  };
}

/** A publisher and a subscriber client of one relay, with one track between them. */
export interface PublishedPair {
  readonly publisher: MoqClient;
  readonly subscriber: MoqClient;
  /** The publisher's track (PUBLISHed to the relay). */
  readonly track: TrackProducer;
  /** The subscriber's consumer of it (SUBSCRIBEd through the relay). */
  readonly reader: TrackConsumer;
}

/**
 * Connects a publisher and a subscriber to `fx`, publishes `info` on the first and
 * subscribes to it on the second: the set-up most relay tests start from.
 */
export async function publishedPair(fx: RelayFixture, info: TrackInfo): Promise<PublishedPair> {
  const publisher = await fx.client();
  const subscriber = await fx.client();
  const track = await publisher.publish(info);
  const reader = await subscriber.subscribe(info.namespace, info.name);
  return { publisher, subscriber, track, reader };
}

/**
 * Resolves once `check()` holds, re-checking after each turn of the event loop: for state
 * that has no event of its own (a counter, a table). Not a sleep: it returns as soon as the
 * state is reached, and only a state that never comes makes the test time out.
 */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
}
