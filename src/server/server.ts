/**
 * The ClutchCall Voice server process: the MoQT relay on one UDP port (WebTransport at
 * `/moq` and raw QUIC `moq-00`), the HTTP API, the plugin host, and the development
 * certificate (created in the data dir when none is configured, renewed before it expires).
 *
 * @module
 */
import { Relay } from "../relay/relay.ts";
import { listenMoq, type MoqEndpoint } from "../relay/transport/mod.ts";
import { PluginHost } from "../plugins/host.ts";
import {
  loadCertificate,
  loadOrCreateDevCertificate,
  renewalDelayMs,
  type TlsCertificate,
} from "./certificate.ts";
import type { ServerConfig } from "./config.ts";
import type { Logger } from "../log/mod.ts";
import { createHttpApp } from "./http.ts";
import { serverOpenApiDocument } from "./openapi.ts";
import { HttpFront } from "./http_front.ts";
import { startupStep } from "./startup_error.ts";
import { metrics, relayTally } from "../metrics/mod.ts";
import { callStatusObserver, sampleEventLoopLag } from "./observability.ts";
import { assessReadiness, type ReadinessCheck, type ReadinessReport } from "./readiness.ts";
import {
  createTokenVerifier,
  moqAuthorizer,
  setupDevAuth,
  type TokenVerifier,
} from "../auth/mod.ts";
import { listRecordings, publicRecording, readRecording } from "../plugins/recorder/metadata.ts";
import { recordingAudioResponse } from "../plugins/recorder/audio_response.ts";
import { StreamingWavFile } from "../plugins/recorder/wav_file.ts";
import { dirname, join, resolve } from "node:path";
import { type CallsRuntime, startCalls } from "../calls/runtime.ts";
import { callsRouteKit } from "../calls/api.ts";
import { forwardingGateway, SipGateway } from "../sip/gateway.ts";
import { rtpMedia } from "../sip/rtp_media.ts";
import { openRtpEngine } from "../rtp/engine/mod.ts";
import { AgentRuntime, createAgentRoutes } from "../agents/mod.ts";
import { pathToFileURL } from "node:url";
import { createPagesApp } from "./pages.ts";
import { type ClusterNode, type NodeInfo, openClusterStore } from "../cluster/mod.ts";
import { MoqClient } from "../relay/client.ts";
import { DEV_ISSUER, signToken, type VerifierOptions } from "../auth/mod.ts";
import { ShardAuth, ShardPool } from "../relay/shard/mod.ts";
import { isTerminal } from "../calls/status.ts";

/**
 * Opens MoQT sessions to other nodes' relays for the cascade: raw QUIC to the peer's advertised
 * `host:port`, trusting this node's own certificate (the nodes of a cluster share one, or one
 * signed by a CA the system trusts), with a token minted from the shared HS256 secret.
 */
function peerConnector(
  secret: string,
  nodeId: string,
  certificate: () => TlsCertificate,
): (peer: NodeInfo) => Promise<MoqClient> {
  return async (peer) => {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(peer.moq);
    if (!match) throw new TypeError(`Invalid advertised MoQT address: "${peer.moq}"`);
    const token = await signToken({
      hs256Secret: secret,
      scopes: ["media:subscribe"],
      subject: `node:${nodeId}`,
      expiresInSec: 3600,
    });
    return await MoqClient.connect({
      hostname: match[1],
      port: Number(match[2]),
      caCerts: [certificate().certPem],
      token,
    });
  };
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import { assertEquals, assertMatch } from "@std/assert";
 * import { createLogger, loadConfig, VoiceServer } from "@clutchcall/voice/server";
 * const dataDir = await Deno.makeTempDir();
 * const config = await loadConfig(
 *   ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir],
 *   {},
 * );
 * {
 *   await using server = await VoiceServer.start(config, createLogger({ sink: () => {} }));
 *   assertMatch(server.moqUrl, /^https:\/\/127\.0\.0\.1:\d+\/moq$/);
 *   const health = await fetch(`${server.httpUrl}/healthz`);
 *   assertEquals((await health.json()).status, "ok");
 *   // The same certificate loads again: nothing to present anew.
 *   const renewed = await server.reloadCertificate();
 *   assertEquals(renewed.sha256Hex, server.certificate.sha256Hex);
 * }
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class VoiceServer implements AsyncDisposable {
  /** The MoQT relay serving the endpoint, its origin shared with plugins, SIP and Calls. */
  readonly relay: Relay;
  /** The Calls control plane (store, service, HTTP API). */
  #calls!: CallsRuntime;
  /** The plugin host, running plugins on the relay's origin. */
  readonly plugins: PluginHost;
  /** The SIP gateway, when the config has a `sip` section. */
  #sip: SipGateway | undefined;
  /** The agent runtime (agents bound to calls). */
  #agents!: AgentRuntime;
  /** Verifies bearer tokens for HTTP and MoQT (the development secret in development mode). */
  readonly verifier: TokenVerifier;
  /** Development mode only (no `auth` configured): the token minted at start. */
  readonly devToken: string | undefined;
  readonly #config: ServerConfig;
  readonly #log: Logger;
  readonly #http: HttpListeners;
  readonly #endpoint: MoqEndpoint;
  #certificate: TlsCertificate;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;
  #observers: DisposableStack | undefined;
  /** This node of the cluster, when the config has a `cluster` section. */
  #cluster: ClusterNode | undefined;
  /** The relay shard Workers, when `relay.shards` > 1 (shard 0 is {@linkcode relay}). */
  #shards: ShardPool | undefined;

  private constructor(
    config: ServerConfig,
    log: Logger,
    relay: Relay,
    plugins: PluginHost,
    endpoint: MoqEndpoint,
    certificate: TlsCertificate,
    http: HttpListeners,
    auth: { verifier: TokenVerifier; devToken: string | undefined },
  ) {
    this.verifier = auth.verifier;
    this.devToken = auth.devToken;
    this.#config = config;
    this.#log = log;
    this.relay = relay;
    this.plugins = plugins;
    this.#endpoint = endpoint;
    this.#certificate = certificate;
    this.#http = http;
  }

  /**
   * Starts everything configured; resolves once it listens and every enabled plugin runs.
   * Whatever fails on the way (a port in use, an unreadable certificate, a plugin module that
   * cannot be loaded) closes what was already started and rejects with a
   * `StartupError` (see `./startup_error.ts`) whose message is one line saying what and why.
   */
  static async start(config: ServerConfig, log: Logger): Promise<VoiceServer> {
    await using cleanup = new AsyncDisposableStack();
    const server = await VoiceServer.#start(config, log, cleanup);
    // Started: the server owns what the stack held; nothing is closed on the way out.
    cleanup.move();
    return server;
  }

  static async #start(
    config: ServerConfig,
    log: Logger,
    cleanup: AsyncDisposableStack,
  ): Promise<VoiceServer> {
    await startupStep(
      `Cannot create the data directory "${config.dataDir}"`,
      () => Deno.mkdir(config.dataDir, { recursive: true }),
    );
    const certificate = await startupStep(
      config.cert
        ? `Cannot load the certificate "${config.cert}"`
        : "Cannot create the development certificate",
      () => VoiceServer.#loadCertificate(config),
    );
    const auth = await startupStep(
      "Cannot set up authentication",
      (): Promise<{ verifier: TokenVerifier; devToken: string | undefined }> =>
        config.auth
          ? createTokenVerifier(config.auth).then((verifier) => ({ verifier, devToken: undefined }))
          : setupDevAuth({ dataDir: config.dataDir })
            .then(({ verifier, token }) => ({ verifier, devToken: token })),
    );
    // relay.shards > 1: Workers on ports of their own (see src/relay/shard/pool.ts); the main
    // relay is shard 0 and also accepts the tokens the shards mint for each other.
    const shardCount = config.relay.shards ?? 1;
    const shardAuth = shardCount > 1 ? await ShardAuth.create() : undefined;
    const relay = new Relay({
      authorizeConnection: moqAuthorizer(shardAuth?.accepting(auth.verifier) ?? auth.verifier),
      log: log.child({ component: "relay" }),
      subscribeTimeoutMs: config.relay.subscribeTimeoutMs,
      maxInFlightGroups: config.relay.maxQueuedGroups,
      requestWindow: Math.max(1, Math.floor(config.relay.maxRequestId / 2)),
      onRouteError: (error, pattern) => log.error("Route handler failed", { pattern, error }),
    });
    cleanup.defer(() => relay.close(0));
    const endpoint = await startupStep(
      `Cannot listen for MoQT on UDP ${config.host}:${config.moqPort}`,
      () => VoiceServer.#listen(config, certificate, log),
    );
    cleanup.defer(() => endpoint[Symbol.asyncDispose]());
    relay.serve(endpoint);
    // Set once the calls service runs: what the shard Workers report.
    const lostShards: {
      onLost?: (index: number, sids: string[]) => Promise<void>;
      onTrack?: (
        namespace: readonly string[],
        name: string,
        capability: string,
        closed: Promise<Error | undefined>,
      ) => void;
    } = {};
    const shards = shardAuth
      ? await startupStep(
        `Cannot start ${shardCount - 1} relay shard Worker(s) after UDP port ${config.moqPort}`,
        async () =>
          await ShardPool.start({
            count: shardCount,
            rule: config.relay.placement,
            origin: relay.origin,
            mainPort: endpoint.addr.port,
            hostname: config.host,
            publicHost: hostForUrl(config.host).replace(/^\[|\]$/g, ""),
            basePort: config.moqPort === 0 ? 0 : endpoint.addr.port,
            cert: certificate.certPem,
            key: certificate.keyPem,
            verifier: await VoiceServer.#verifierOptions(config),
            auth: shardAuth,
            subscribeTimeoutMs: config.relay.subscribeTimeoutMs,
            maxInFlightGroups: config.relay.maxQueuedGroups,
            requestWindow: Math.max(1, Math.floor(config.relay.maxRequestId / 2)),
            log: log.child({ component: "shards" }),
            logLevel: config.logLevel,
            workerLog: log,
            onShardLost: (index, sids) => lostShards.onLost?.(index, sids),
            onTrack: (namespace, name, capability, closed) =>
              lostShards.onTrack?.(namespace, name, capability, closed),
          }),
      )
      : undefined;
    if (shards) cleanup.defer(() => shards.close(0));
    // The calls service and the gateway need each other: the service gets a gateway that
    // forwards to the SIP gateway, which is started with the service.
    const late: { sip?: SipGateway } = {};
    // Calls left live by a previous run get their grace period once legs can reconnect.
    const started = Promise.withResolvers<void>();
    // Cluster mode: the calls live in Redis, shared with the other nodes.
    const cluster = config.cluster
      ? await startupStep(
        `Cannot connect to Redis at ${config.cluster.redisUrl.replace(/\/\/[^@/]*@/, "//***@")}`,
        () => openClusterStore(config.cluster!, log.child({ component: "cluster" })),
      )
      : undefined;
    if (cluster) cleanup.defer(() => cluster.close());
    const calls = await startupStep(
      `Cannot open the calls store in "${config.dataDir}"`,
      () =>
        startCalls({
          origin: relay.origin,
          dataDir: config.dataDir,
          log,
          gateway: config.sip ? forwardingGateway(() => late.sip) : undefined,
          webhooks: config.webhooks,
          reconcileWhen: started.promise,
          store: cluster?.store,
        }),
    );
    cleanup.defer(() => calls.close());
    // The RTP engine (sip.rtpEngine): its first log lines say which runs and why; closed after
    // the gateway (cleanup runs last-in first-out).
    const rtpEngine = config.sip
      ? openRtpEngine(config.sip.rtpEngine, {
        logger: log.child({ component: "rtp" }),
        hostname: config.sip.listen.host,
        steerPorts: { min: config.sip.rtpPortRange[0], max: config.sip.rtpPortRange[1] },
      })
      : undefined;
    if (rtpEngine) cleanup.defer(() => rtpEngine.close());
    const sip = late.sip = config.sip
      ? await startupStep(
        `Cannot start the SIP gateway on ${config.sip.listen.host}:${config.sip.listen.port}`,
        () =>
          SipGateway.start({
            config: config.sip!,
            media: rtpMedia({
              origin: relay.origin,
              hostname: config.sip!.listen.host,
              portRange: config.sip!.rtpPortRange,
              inactivityTimeoutMs: config.sip!.rtpTimeoutMs,
              engine: rtpEngine,
            }),
            log: log.child({ component: "sip" }),
            calls: calls.service,
          }),
      )
      : undefined;
    if (sip) cleanup.defer(() => sip.close());
    const agents = new AgentRuntime({
      agents: config.agents ?? {},
      via: relay.origin,
      calls: calls.service,
      log: log.child({ component: "agents" }),
      baseUrl: config.configPath ? `${pathToFileURL(dirname(config.configPath)).href}/` : undefined,
      recordings: {
        dir: resolve(config.dataDir, "agent-recordings"),
        create: (path, options) => StreamingWavFile.create(path, options),
      },
    });
    agents.start();
    cleanup.defer(() => agents.close());
    calls.app.route(
      "/",
      createAgentRoutes({ agents, idempotency: calls.service.store, ...callsRouteKit }) as never,
    );
    const plugins = new PluginHost({
      origin: relay.origin,
      log: log.child({ component: "plugins" }),
      dataDir: config.dataDir,
      calls: {
        emit: (event) => calls.service.publish(event),
        on: (listener) => calls.service.events.onAnyCall(listener),
      },
    });
    cleanup.defer(() => plugins.close());
    // A log line and metrics on every call state change; event-loop lag sampled meanwhile.
    const observers = new DisposableStack();
    cleanup.defer(() => observers.dispose());
    const onStatus = callStatusObserver(log.child({ component: "calls" }), metrics);
    // (Narrowed to status events: a listener that takes every type keeps each leg's VAD on.)
    observers.defer(calls.service.events.onAnyCall((event) => {
      if (event.type === "status") onStatus(event.call);
    }, ["status"]));
    observers.use(sampleEventLoopLag(metrics));
    if (shards) {
      // A call is placed on a shard when created (its first status), released when it ends.
      observers.defer(calls.service.events.onAnyCall((event) => {
        if (event.type !== "status") return;
        if (isTerminal(event.call.status)) shards.release(event.sid);
        else shards.place(event.sid);
      }, ["status"]));
      const shardLog = log.child({ component: "shards" });
      // Plugins route tracks by capability in the main origin: with any enabled, each track of
      // a Worker shard's calls is pulled into it (one crossing per object, counted) for them.
      const routed = config.plugins.some((plugin) => plugin.enabled);
      lostShards.onTrack = (namespace, name, capability, closed) => {
        calls.service.observeTrack(namespace, name, capability, closed);
        if (!routed) return;
        relay.origin.subscribe(namespace, name).then(
          (consumer) => void closed.then(() => consumer.close()),
          (error) => shardLog.warn("Cannot bring a shard's track to the plugins", { error }),
        );
      };
      lostShards.onLost = async (index, sids) => {
        await Promise.all(
          sids.map((sid) =>
            calls.service.endOrphaned(sid, "shard_lost").catch((error) =>
              shardLog.error("Cannot end a lost shard's call", { sid, shard: index, error })
            )
          ),
        );
      };
    }
    const ref: { server?: VoiceServer } = {};
    const moqUrl = `https://${hostForUrl(config.host)}:${endpoint.addr.port}/moq`;
    const recordingsDir = join(config.dataDir, "recordings");
    const localRecordings = {
      list: async () => (await listRecordings(recordingsDir)).map(publicRecording),
      get: async (sid: string) => {
        const meta = await readRecording(recordingsDir, sid);
        return meta && publicRecording(meta);
      },
      audio: (sid: string) => recordingAudioResponse(recordingsDir, sid),
    };
    const app = createHttpApp({
      certificate: () => ref.server?.certificate ?? certificate,
      moqUrl,
      stats: async () => {
        const own = { sessions: relay.sessionCount, tracks: relay.origin.trackCount };
        // Subscriptions waiting for another node to announce their track (cluster only).
        const cascade = cluster?.cascade;
        if (cascade) Object.assign(own, { awaitingAnnouncements: cascade.awaitingAnnouncements });
        if (!shards) return own;
        const all = await shards.stats({ ...own, ...relayTally });
        const sum = (f: (s: (typeof all)[number]) => number) => all.reduce((n, s) => n + f(s), 0);
        return {
          sessions: sum((s) => s.sessions),
          tracks: sum((s) => s.tracks),
          shards: all.length,
          shardsAlive: all.filter((s) => s.alive).length,
          crossShardObjects: sum((s) => s.cross.objectsIn),
          crossShardBytes: sum((s) => s.cross.bytesIn),
        };
      },
      placement: shards && ((sid) => ({ shard: shards.place(sid), url: shards.urlFor(sid) })),
      shards: shards &&
        (() =>
          shards.stats({
            sessions: relay.sessionCount,
            tracks: relay.origin.trackCount,
            ...relayTally,
          })),
      verifier: auth.verifier,
      recordings: cluster ? cluster.recordings(localRecordings) : localRecordings,
      routes: [...(cluster ? [cluster.forwarder()] : []), calls.app, createPagesApp()],
      log: log.child({ component: "http" }),
      metrics,
      onScrape: async () => {
        const own = { sessions: relay.sessionCount, tracks: relay.origin.trackCount };
        if (!shards) {
          metrics.relaySessions.set(own.sessions);
          metrics.relayTracks.set(own.tracks);
          return;
        }
        const all = await shards.stats({ ...own, ...relayTally });
        const sum = (f: (s: (typeof all)[number]) => number) => all.reduce((n, s) => n + f(s), 0);
        metrics.relaySessions.set(sum((s) => s.sessions));
        metrics.relayTracks.set(sum((s) => s.tracks));
        // Shard 0's objects are read from relayTally by the counter itself; the Workers' here.
        const workers = all.slice(1);
        metrics.relayShardTally.objects = workers.reduce((n, s) => n + s.objects, 0);
        metrics.relayShardTally.droppedGroups = workers.reduce((n, s) => n + s.droppedGroups, 0);
        const crossings = metrics.relayShardCrossings;
        crossings.reset();
        crossings.inc({ unit: "objects" }, sum((s) => s.cross.objectsIn));
        crossings.inc({ unit: "bytes" }, sum((s) => s.cross.bytesIn));
      },
      openapi: async (routes) => {
        const response = await calls.app.request("/openapi.json");
        return serverOpenApiDocument(await response.json(), ref.server?.httpUrl ?? "/", routes);
      },
      readiness: () =>
        ref.server?.readiness() ??
          { ready: false, checks: [{ name: "startup", ok: false, reason: "Starting" }] },
    });
    // Deno.serve has no header or idle timeout: it listens on a private Unix socket behind a
    // front that bounds both (see http_front.ts).
    const socketDir = await Deno.makeTempDir({ prefix: "clutchcall-http-" });
    cleanup.defer(() => Deno.remove(socketDir, { recursive: true }));
    const backendPath = join(socketDir, "http.sock");
    const http = await startupStep("Cannot start the HTTP server", async () => {
      const listening = Promise.withResolvers<void>();
      const http = Deno.serve(
        { path: backendPath, onListen: () => listening.resolve() },
        app.fetch,
      );
      await listening.promise;
      return http;
    });
    cleanup.defer(() => http.shutdown());
    const front = await startupStep(
      `Cannot listen for HTTP on ${config.host}:${config.httpPort}`,
      () =>
        HttpFront.listen({
          hostname: config.host,
          port: config.httpPort,
          backendPath,
          headerTimeoutMs: config.http.headerTimeoutMs,
          idleTimeoutMs: config.http.idleTimeoutMs,
          log: log.child({ component: "http" }),
        }),
    );
    cleanup.defer(() => front.close());
    if (cluster) {
      const host = hostForUrl(config.host);
      await startupStep("Cannot join the cluster", () =>
        cluster.join(calls.service, {
          moq: `${host}:${endpoint.addr.port}`,
          http: `http://${host}:${front.addr.port}`,
          sip: config.sip !== undefined,
        }, {
          origin: relay.origin,
          connect: config.auth?.hs256Secret
            ? peerConnector(config.auth.hs256Secret, config.cluster!.nodeId, () =>
              ref.server?.certificate ?? certificate)
            : undefined,
        }, { recordingsDir }));
    }
    for (const plugin of config.plugins) {
      if (!plugin.enabled) continue;
      await startupStep(`Cannot load plugin "${plugin.module}"`, () => plugins.load(plugin));
    }
    const server = ref.server = new VoiceServer(
      config,
      log,
      relay,
      plugins,
      endpoint,
      certificate,
      { server: http, front, socketDir },
      auth,
    );
    server.#calls = calls;
    server.#sip = sip;
    server.#agents = agents;
    server.#observers = observers;
    server.#cluster = cluster;
    server.#shards = shards;
    if (!config.cert) server.#scheduleRenewal();
    started.resolve();
    return server;
  }

  /** Sizes of the agent runtime's per-call tables (all zero when no call has an agent). */
  agentTables(): { readonly bindings: number; readonly queues: number; readonly pending: number } {
    return this.#agents.tables();
  }

  /**
   * Whether the server is ready for traffic (`GET /readyz`): not while shutting down, and only
   * when the calls control plane is (reconciliation done, storage taking writes), every
   * enabled plugin runs and the SIP gateway (when configured) is up.
   */
  readiness(): ReadinessReport {
    const checks: ReadinessCheck[] = [
      {
        name: "server",
        check: () => this.#closing ? { ok: false, reason: "Shutting down" } : { ok: true },
      },
      {
        name: "calls",
        check: () => {
          // The calls service's own signal: reconciliation done, storage taking writes.
          const verdict = this.#calls.service.ready();
          return verdict.ok ? { ok: true } : { ok: false, reason: verdict.reasons.join("; ") };
        },
      },
      ...this.plugins.status().map((plugin): ReadinessCheck => ({
        name: `plugin:${plugin.name}`,
        check: () =>
          plugin.state === "running"
            ? { ok: true }
            : { ok: false, reason: `Plugin "${plugin.name}" is ${plugin.state}` },
      })),
    ];
    if (this.#cluster) {
      const cluster = this.#cluster;
      checks.push({
        name: "cluster",
        check: () => {
          const reason = cluster.notReady();
          return reason ? { ok: false, reason } : { ok: true };
        },
      });
    }
    if (this.#config.sip) {
      checks.push({
        name: "sip",
        check: () =>
          this.#sip ? { ok: true } : { ok: false, reason: "The SIP gateway is not running" },
      });
    }
    return assessReadiness(checks);
  }

  /** The MoQT URL for WebTransport clients. */
  get moqUrl(): string {
    return `https://${hostForUrl(this.#config.host)}:${this.#endpoint.addr.port}/moq`;
  }

  /** The HTTP base URL. */
  get httpUrl(): string {
    return `http://${hostForUrl(this.#config.host)}:${this.#http.front.addr.port}`;
  }

  /** The UDP port of the MoQT endpoint. */
  get moqPort(): number {
    return this.#endpoint.addr.port;
  }

  /**
   * The port the SIP gateway is bound to (UDP, and TCP on the same number), when the config has
   * a `sip` section: the one the kernel picked when `sip.listen.port` is 0.
   */
  get sipPort(): number | undefined {
    return this.#sip?.port;
  }

  /** The certificate the relay presents now. */
  get certificate(): TlsCertificate {
    return this.#certificate;
  }

  /**
   * Loads the certificate again — the configured `--cert`/`--key` files (an operator replaced
   * them), or the development certificate (regenerated once inside its renew window) — and
   * presents it to every new MoQT connection, on the main relay and every shard, on the same
   * ports; live connections keep theirs. The server calls it before the development
   * certificate expires, and `main.ts` on SIGHUP. A certificate that does not load leaves the
   * current one in place and rejects. The class example reloads an unchanged certificate.
   */
  async reloadCertificate(): Promise<TlsCertificate> {
    const fresh = await VoiceServer.#loadCertificate(this.#config);
    if (fresh.sha256Hex === this.#certificate.sha256Hex) return this.#certificate;
    this.#endpoint.reloadCertificate({ cert: fresh.certPem, key: fresh.keyPem });
    this.#shards?.reloadCertificate({ cert: fresh.certPem, key: fresh.keyPem });
    this.#certificate = fresh;
    this.#log.info("Reloaded the MoQT certificate", {
      sha256Hex: fresh.sha256Hex,
      notAfter: fresh.notAfter,
    });
    return fresh;
  }

  /**
   * Shuts down: stops accepting, GOAWAY to every MoQT peer, closes sessions after a grace
   * period, stops plugins, closes HTTP. A second call returns the same promise.
   */
  close(graceMs = 1000): Promise<void> {
    return this.#closing ??= (async () => {
      clearTimeout(this.#renewTimer);
      this.#log.info("Shutting down", { graceMs });
      // Cluster mode: GOAWAY sends MoQT clients to another live node.
      const successor = await this.#cluster?.successorUri() ?? "";
      // Calls first: live calls stay live in the store (reconciled at the next start) and
      // event streams end, so HTTP can drain.
      await this.#agents.close();
      await this.#sip?.close(graceMs);
      await this.#calls.close();
      await this.#cluster?.close();
      await Promise.all([this.relay.close(graceMs, successor), this.#shards?.close(graceMs)]);
      await this.plugins.close();
      this.#observers?.dispose();
      await this.#http.front.close();
      await this.#http.server.shutdown();
      await Deno.remove(this.#http.socketDir, { recursive: true });
      this.#log.info("Stopped");
    })();
  }

  /** Shuts down with a 100 ms grace period (see {@linkcode VoiceServer.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close(100);
  }

  /** The relay shards, when `relay.shards` > 1. */
  get shards(): ShardPool | undefined {
    return this.#shards;
  }

  /**
   * What tokens the shard Workers accept from clients: the configured keys, or in development
   * mode the development secret (`<dataDir>/auth/dev-secret`, made by `setupDevAuth`).
   */
  static async #verifierOptions(config: ServerConfig): Promise<VerifierOptions> {
    if (config.auth) return config.auth;
    const secret = await Deno.readTextFile(join(config.dataDir, "auth", "dev-secret"));
    return { hs256Secret: secret.trim(), issuer: DEV_ISSUER };
  }

  static async #loadCertificate(config: ServerConfig): Promise<TlsCertificate> {
    if (config.cert && config.key) return await loadCertificate(config.cert, config.key);
    return await loadOrCreateDevCertificate({ dataDir: config.dataDir, hosts: [config.host] });
  }

  static #listen(
    config: ServerConfig,
    cert: TlsCertificate,
    log: Logger,
    port = config.moqPort,
  ): MoqEndpoint {
    return listenMoq({
      hostname: config.host,
      port,
      cert: cert.certPem,
      key: cert.keyPem,
      onError: (error) => log.debug("QUIC handshake failed", { error }),
    });
  }

  /** Renews the development certificate before it expires (see {@linkcode reloadCertificate}). */
  #scheduleRenewal(): void {
    const delay = renewalDelayMs(this.#certificate);
    this.#renewTimer = setTimeout(async () => {
      if (renewalDelayMs(this.#certificate) > 0) return this.#scheduleRenewal();
      try {
        await this.reloadCertificate();
      } catch (error) {
        this.#log.error("Cannot renew the development certificate", { error });
      }
      this.#scheduleRenewal();
    }, delay);
    Deno.unrefTimer?.(this.#renewTimer as unknown as number);
  }
}

/** The HTTP server on its private Unix socket and the public front bounding its timeouts. */
interface HttpListeners {
  readonly server: Deno.HttpServer<Deno.UnixAddr>;
  readonly front: HttpFront;
  readonly socketDir: string;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
