/**
 * A real VoiceServer (in process, free ports, temp data dir) running `builtin:asr-tap`
 * against a fake recognizer, plus helpers: an SDK client, an SSE reader collecting call
 * events, and a `client:` caller leg that speaks a fixture over MoQT.
 *
 * @module
 */
import { loadConfig } from "../../../src/server/config.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { VoiceServer } from "../../../src/server/server.ts";
import { MoqClient } from "../../../src/relay/client.ts";
import { Voice } from "../../../src/sdk/mod.ts";
import type { CallEvent } from "../../../src/calls/events.ts";
import { createBridge } from "../../../src/bridge/mod.ts";

export interface AsrServer extends AsyncDisposable {
  readonly server: VoiceServer;
  readonly url: string;
  readonly token: string;
  readonly logs: string[];
  voice(options?: { media?: boolean }): Promise<Voice>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** Starts a server with the tap configured by `options` (and `sip`, when given). */
export async function startAsrServer(
  options: Record<string, unknown>,
  { env = {}, sip }: { env?: Record<string, string>; sip?: Record<string, unknown> } = {},
): Promise<AsrServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-asr-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      plugins: [{ module: "builtin:asr-tap", options }],
      // Status callbacks to this machine's test receiver.
      webhooks: { allowNetworks: ["127.0.0.0/8"] },
      ...(sip ? { sip } : {}),
    }),
  );
  const config = await loadConfig([
    "--config",
    configPath,
    "--http-port",
    "0",
    "--moq-port",
    "0",
    "--data-dir",
    dataDir,
  ], {});
  const logs: string[] = [];
  const log = createLogger({
    level: Deno.env.get("ASR_LOG") ? "debug" : "info",
    json: true,
    sink: (line) => {
      logs.push(line);
      if (Deno.env.get("ASR_LOG")) console.error(line);
    },
  });
  const saved = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  let server: VoiceServer;
  try {
    server = await VoiceServer.start(config, log);
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
  const token = server.devToken!;
  const clients: MoqClient[] = [];
  return {
    server,
    url: server.httpUrl,
    token,
    logs,
    async voice({ media = false } = {}) {
      let bridge;
      if (media) {
        const client = await MoqClient.connect({
          hostname: "127.0.0.1",
          port: server.moqPort,
          caCerts: [server.certificate.certPem],
          token,
        });
        clients.push(client);
        bridge = createBridge(client);
      }
      return new Voice({ baseUrl: server.httpUrl, token, bridge });
    },
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${server.httpUrl}${path}`, { ...init, headers });
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.close(100);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Collects a call's SSE events until the stream ends or `stop` is called. */
export function collectEvents(voice: Voice, sid: string): {
  readonly events: CallEvent[];
  until(check: (events: CallEvent[]) => boolean, what: string, guardMs?: number): Promise<void>;
  readonly done: Promise<void>;
  stop(): void;
} {
  const events: CallEvent[] = [];
  const waiters = new Set<() => void>();
  const abort = new AbortController();
  const done = (async () => {
    try {
      for await (const event of voice.calls.events(sid, { signal: abort.signal })) {
        events.push(event);
        for (const w of [...waiters]) w();
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    events,
    done,
    stop: () => abort.abort(),
    until(check, what, guardMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => {
          waiters.delete(test);
          reject(new Error(`SSE: gave up waiting for ${what}: ${JSON.stringify(events)}`));
        }, guardMs);
        const test = () => {
          if (!check(events)) return;
          waiters.delete(test);
          clearTimeout(guard);
          resolve();
        };
        waiters.add(test);
        test();
      });
    },
  };
}

/** Transcript events of `events` (optionally of one kind). */
export function transcripts(events: readonly CallEvent[], kind?: string) {
  return events.flatMap((e) => e.type === "transcript" && (!kind || e.kind === kind) ? [e] : []);
}
