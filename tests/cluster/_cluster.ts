/**
 * Several real server processes (`src/server/main.ts`) on one real Redis, for the cluster
 * tests: each node has its own data dir and ports, the same auth secret (one token works on
 * every node) and a short lease so that node loss is seen quickly.
 *
 * @module
 */
import { type ServerProcess, spawnServer } from "../_lib/server_process.ts";
import { signToken } from "../../src/auth/sign.ts";
import { type CallEvent, Voice } from "../../src/sdk/mod.ts";
import { type RedisFixture, startRedis } from "../_lib/redis.ts";
import { type SippUas, spawnSipp, spawnSippUas } from "../sip/_harness.ts";
import { loadOrCreateDevCertificate, type TlsCertificate } from "../../src/server/certificate.ts";
import { MoqClient } from "../../src/relay/client.ts";

/** The secret every node verifies tokens with. */
export const CLUSTER_SECRET = "a cluster-wide secret of at least thirty-two bytes";

/** One node of the cluster. */
export interface ClusterNodeProcess extends AsyncDisposable {
  readonly nodeId: string;
  readonly process: ServerProcess;
  readonly http: string;
  /** An SDK client talking to this node. */
  readonly voice: Voice;
  /** `fetch` against this node with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

/** A token with every Calls scope, valid on every node. */
export function clusterToken(): Promise<string> {
  return signToken({
    hs256Secret: CLUSTER_SECRET,
    scopes: ["calls:read", "calls:write", "relay:read", "media:publish", "media:subscribe"],
    subject: "cluster-test",
  });
}

/** Starts node `nodeId` on `redis` with a lease of `leaseMs`. */
export async function startNode(
  redis: RedisFixture,
  nodeId: string,
  options: {
    leaseMs?: number;
    env?: Record<string, string>;
    file?: Record<string, unknown>;
    /** Where this node reaches Redis [redis.url] (e.g. through a proxy the test controls). */
    redisUrl?: string;
  } = {},
): Promise<ClusterNodeProcess> {
  const dataDir = await Deno.makeTempDir({ prefix: `clutchcall-cluster-${nodeId}-` });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      httpPort: 0,
      moqPort: 0,
      cluster: {
        redisUrl: options.redisUrl ?? redis.url,
        nodeId,
        leaseMs: options.leaseMs ?? 2000,
      },
      ...options.file,
    }),
  );
  const process = await spawnServer({
    dataDir,
    configPath,
    env: {
      CLUTCHCALL_AUTH_HS256_SECRET: CLUSTER_SECRET,
      CLUTCHCALL_RING_TIMEOUT_MS: "120000",
      ...options.env,
    },
  });
  const token = await clusterToken();
  const http = process.listening.http;
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    try {
      process.child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // exited already
    }
    await process.child.status;
  };
  return {
    nodeId,
    process,
    http,
    voice: new Voice({ baseUrl: http, token }),
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${http}${path}`, { ...init, headers });
    },
    kill,
    async [Symbol.asyncDispose]() {
      await kill();
      await process[Symbol.asyncDispose]();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** The first event from `events` that `match` accepts (the stream is left open); bounded: 30 s. */
export async function nextMatching<T>(
  events: AsyncIterator<T>,
  match: (event: T) => boolean,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error("The expected event did not come within 30 s")),
      30_000,
    );
  });
  const found = (async () => {
    for (;;) {
      const { value, done } = await events.next();
      if (done) throw new Error("The event stream ended before the event came");
      if (match(value)) return value;
    }
  })();
  try {
    return await Promise.race([found, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Matches a status event with `status` (for {@linkcode nextMatching}). */
export const isStatus = (status: string) => (event: CallEvent): boolean =>
  event.type === "status" && event.call.status === status;

/** The `sip` section of a node whose one trunk (`loop`, numbers `+1…`) is a sipp UAS on `uasPort`. */
export function sipTrunkSection(uasPort: number, extra: Record<string, unknown> = {}) {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    publicAddress: "127.0.0.1",
    ...extra,
    trunks: [{
      name: "loop",
      address: `127.0.0.1:${uasPort}`,
      allowFrom: ["127.0.0.1"],
      outboundNumbers: ["+1"],
    }],
  };
}

/**
 * One certificate the nodes share (as a cluster behind one name would), so each trusts the
 * others' relays: `file` goes into each node's config; disposing removes it.
 */
export interface SharedCertificate extends AsyncDisposable {
  readonly cert: TlsCertificate;
  readonly file: { readonly cert: string; readonly key: string };
  /** A MoQT client of `node`'s relay with a cluster token. */
  connect(node: ClusterNodeProcess): Promise<MoqClient>;
}

/** Makes the {@linkcode SharedCertificate} of a test's nodes. */
export async function sharedCertificate(): Promise<SharedCertificate> {
  const tls = await Deno.makeTempDir({ prefix: "clutchcall-cluster-tls-" });
  const cert = await loadOrCreateDevCertificate({ dataDir: tls, hosts: ["127.0.0.1"] });
  return {
    cert,
    file: { cert: cert.certPath, key: cert.keyPath },
    async connect(node) {
      return await MoqClient.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(node.process.listening.moq).port),
        caCerts: [cert.certPem],
        token: await clusterToken(),
      });
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(tls, { recursive: true });
    },
  };
}

/** sipp UAS args: `calls` calls (`echo`: it echoes RTP), exiting 0 once each got its BYE. */
function uasArgs(echo: boolean, calls: number): string[] {
  return [
    "-sn",
    "uas",
    ...(echo ? ["-rtp_echo"] : []),
    "-mp",
    "0", // sipp binds its own (6000, 6002, … the first free)
    "-m",
    String(calls),
  ];
}

/**
 * A sipp UAS for `calls` [1] calls on 127.0.0.1, listening once this resolves, on a port it
 * bound itself (`.port`): a port probed free here could be taken by a test beside this one
 * before sipp binds it. It exits 0 once its calls got their BYE.
 */
export function startSippUas(
  { echo = false, calls = 1 }: { readonly echo?: boolean; readonly calls?: number } = {},
): Promise<SippUas> {
  return spawnSippUas(uasArgs(echo, calls));
}

/**
 * A sipp UAS for one call on 127.0.0.1:`port`, for a trunk that must find it again on a port
 * an earlier UAS had (wait for {@linkcode sippListening}); a first UAS is
 * {@linkcode startSippUas}.
 */
export function sippUas(
  port: number,
  { echo = false }: { readonly echo?: boolean } = {},
): ReturnType<typeof spawnSipp> {
  return spawnSipp([...uasArgs(echo, 1), "-i", "127.0.0.1", "-p", String(port)]);
}

/** What {@linkcode startSipPair} started; disposing stops B, A, the UAS and Redis. */
export interface SipPair extends AsyncDisposable {
  readonly redis: RedisFixture;
  /** The UAS behind B's trunk (one call). */
  readonly uas: SippUas;
  readonly a: ClusterNodeProcess;
  /** The node with the SIP gateway. */
  readonly b: ClusterNodeProcess;
}

/**
 * A Redis, a sipp UAS listening for one call (`echo`: it echoes RTP), node A and node B whose
 * one SIP trunk is that UAS (`bFile` goes into B's config too).
 */
export async function startSipPair(
  options: { readonly echo?: boolean; readonly bFile?: Record<string, unknown> } = {},
): Promise<SipPair> {
  const stack = new AsyncDisposableStack();
  try {
    const redis = stack.use(await startRedis());
    const uas = stack.use(await startSippUas({ echo: options.echo }));
    const a = stack.use(await startNode(redis, "node-a"));
    const b = stack.use(
      await startNode(redis, "node-b", {
        file: { ...options.bFile, sip: sipTrunkSection(uas.port) },
      }),
    );
    const owned = stack.move();
    return { redis, uas, a, b, [Symbol.asyncDispose]: () => owned.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}
