/**
 * A real VoiceServer for the Calls tests: in process on free ports with a temp data dir, or
 * spawned as `src/server/main.ts` (for kill -9), plus a bearer token and a MoQT client.
 *
 * @module
 */
import { loadConfig } from "../../src/server/config.ts";
import { createLogger } from "../../src/log/mod.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { Voice } from "../../src/sdk/mod.ts";
import { createBridge } from "../../src/bridge/mod.ts";

/** A running in-process server. */
export interface ServerFixture extends AsyncDisposable {
  readonly server: VoiceServer;
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  readonly logs: string[];
  /** An SDK client with the dev token; `bridge` over a fresh MoQT connection when asked. */
  voice(options?: { media?: boolean }): Promise<Voice>;
  /** `fetch` against the server with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** Starts a server; `env` is set while it starts (e.g. ring timeouts); `file` is the config file. */
export async function startServer(
  env: Record<string, string> = {},
  dataDir?: string,
  file?: Record<string, unknown>,
): Promise<ServerFixture> {
  dataDir ??= await Deno.makeTempDir({ prefix: "clutchcall-calls-" });
  const args = [
    "--http-port",
    "0",
    "--moq-port",
    "0",
    "--data-dir",
    dataDir,
    "--log-level",
    "info",
  ];
  if (file) {
    await Deno.writeTextFile(`${dataDir}/config.json`, JSON.stringify(file));
    args.push("--config", `${dataDir}/config.json`);
  }
  const config = await loadConfig(args, {});
  const logs: string[] = [];
  const log = createLogger({
    level: Deno.env.get("CALLS_LOG") ? "debug" : "info",
    json: true,
    sink: (line) => {
      logs.push(line);
      if (Deno.env.get("CALLS_LOG")) console.error(line);
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
  const url = server.httpUrl;
  return {
    server,
    url,
    token,
    dataDir,
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
      return new Voice({ baseUrl: url, token, bridge });
    },
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${url}${path}`, { ...init, headers });
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.close(100);
      await Deno.remove(dataDir!, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls `check` until it returns a value, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  ms = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
