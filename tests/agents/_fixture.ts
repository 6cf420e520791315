/**
 * A real VoiceServer with an `agents` config (in process, free ports, temp data dir), a
 * MoQT client for caller legs, and an SSE event log per call.
 *
 * @module
 */
import { loadConfig } from "../../src/server/config.ts";
import { createLogger } from "../../src/log/mod.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { type CallEvent, Voice } from "../../src/sdk/mod.ts";
import { type AudioBridge, createBridge } from "../../src/bridge/mod.ts";
import type { Codec } from "../../src/codecs/mod.ts";

/** A running server with agents. */
export interface AgentServer extends AsyncDisposable {
  readonly server: VoiceServer;
  /** The server's data directory (its webhook secret is `webhook-secret` there). */
  readonly dataDir: string;
  readonly url: string;
  readonly token: string;
  readonly voice: Voice;
  readonly logs: string[];
  /** The test's MoQT connection to the server (to subscribe to a call's tracks). */
  readonly moq: MoqClient;
  /** `fetch` with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /**
   * An in-progress `client:` call whose caller leg reads and writes `codec` over MoQT; its
   * uplink track carries `trackCodec` [`codec`] (the bridge transcodes, e.g. µ-law → Opus).
   */
  liveCall(
    codec?: Codec,
    trackCodec?: Codec,
    options?: { readonly statusCallback?: string },
  ): Promise<{ sid: string; caller: AudioBridge; events: EventLog }>;
  /** The event log of a call (SSE). */
  events(sid: string): EventLog;
}

/** A call's events, as they arrive over SSE. */
export interface EventLog {
  readonly events: CallEvent[];
  /** Resolves with the first event (already seen or future) matching `match`. */
  next<T extends CallEvent>(match: (event: CallEvent) => event is T): Promise<T>;
  next(match: (event: CallEvent) => boolean): Promise<CallEvent>;
  stop(): void;
}

/** Starts a server whose config file holds `sections` (e.g. `{ agents: {...} }`). */
export async function startAgentServer(sections: Record<string, unknown>): Promise<AgentServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-agents-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(configPath, JSON.stringify(sections));
  const config = await loadConfig(
    ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir, "--config", configPath],
    {},
  );
  const logs: string[] = [];
  const log = createLogger({
    level: Deno.env.get("AGENTS_LOG") ? "debug" : "info",
    json: true,
    sink: (line) => {
      logs.push(line);
      if (Deno.env.get("AGENTS_LOG")) console.error(line);
    },
  });
  const server = await VoiceServer.start(config, log);
  const token = server.devToken!;
  const url = server.httpUrl;
  const moq = await MoqClient.connect({
    hostname: "127.0.0.1",
    port: server.moqPort,
    caCerts: [server.certificate.certPem],
    token,
  });
  const voice = new Voice({ baseUrl: url, token, bridge: createBridge(moq) });
  const logsToStop: EventLog[] = [];
  const bridges: AudioBridge[] = [];
  let clients = 0;
  const fx: AgentServer = {
    server,
    dataDir,
    url,
    token,
    voice,
    logs,
    moq,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${url}${path}`, { ...init, headers });
    },
    events(sid) {
      const log = eventLog(voice, sid);
      logsToStop.push(log);
      return log;
    },
    async liveCall(codec = "g711_ulaw", trackCodec = codec, options = {}) {
      const identity = `phone${++clients}`;
      const registered = await fx.fetch(`/v1/clients/${identity}/register`, { method: "POST" });
      await registered.body?.cancel();
      const call = await voice.calls.originate({
        from: "+14155550100",
        to: `client:${identity}`,
        capabilities: [`voice/${trackCodec}`],
        ...options,
      });
      const events = fx.events(call.sid);
      // The client answers a ringing call by attaching its leg.
      await events.next((e) => e.type === "status" && e.call.status === "ringing");
      // A busy test process reads late: keep late frames rather than drop them (the
      // measurements count what the caller got).
      const caller = await voice.bridge.attachCaller({
        sid: call.sid,
        codec,
        publishCodec: trackCodec,
        maxLatencyMs: 1000,
      });
      bridges.push(caller);
      await events.next((e) => e.type === "status" && e.call.status === "in_progress");
      return { sid: call.sid, caller, events };
    },
    async [Symbol.asyncDispose]() {
      for (const log of logsToStop) log.stop();
      for (const bridge of bridges) bridge.close();
      moq.close();
      await server.close(100);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
  return fx;
}

function eventLog(voice: Voice, sid: string): EventLog {
  const events: CallEvent[] = [];
  const waiters: Array<{ match: (e: CallEvent) => boolean; resolve: (e: CallEvent) => void }> = [];
  const abort = new AbortController();
  (async () => {
    try {
      for await (const event of voice.calls.events(sid, { signal: abort.signal })) {
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.match(event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    events,
    next(match: (e: CallEvent) => boolean) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return guard(
        new Promise<CallEvent>((resolve) => waiters.push({ match, resolve })),
        `a call event matching ${match.toString().replace(/\s+/g, " ").slice(0, 120)}`,
      );
    },
    stop: () => abort.abort(),
  } as EventLog;
}

/**
 * Rejects when `promise` has not settled after `ms` (a guard against a hang, so a test that
 * waits on a signal that never comes fails saying which, instead of stalling the suite).
 */
export function guard<T>(promise: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Gave up waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
