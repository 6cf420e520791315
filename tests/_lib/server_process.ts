/**
 * Runs the real server (`src/server/main.ts`) as a child process for end-to-end tests:
 * spawns it, waits for its "listening" log line, and hands back what it printed.
 *
 * @module
 */

/** What the server's "listening" log line says. */
export interface Listening {
  readonly http: string;
  readonly moq: string;
  readonly certificateSha256: string;
  /** `host:port` of the SIP gateway as bound, when the config has a `sip` section. */
  readonly sip?: string;
  readonly [field: string]: unknown;
}

/** A running server process. */
export interface ServerProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly listening: Listening;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Everything the process wrote to stderr so far. */
  readonly stderr: () => string;
  /** Resolves when stdout ends (the process exited). */
  readonly pump: Promise<void>;
  /** The data dir's development token (dev mode), if there is one. */
  readonly token: string | undefined;
}

/** Options for {@linkcode spawnServer}. */
export interface SpawnServerOptions {
  /** `--data-dir`; also where the dev token and certificate are read from. */
  readonly dataDir: string;
  /** `--config` file. */
  readonly configPath?: string;
  /** Extra environment for the child. */
  readonly env?: Record<string, string>;
  /** More command-line flags. */
  readonly args?: readonly string[];
  /** Flags for `deno run` itself (e.g. `--inspect=127.0.0.1:0`, `--v8-flags=…`). */
  readonly denoFlags?: readonly string[];
}

/**
 * Spawns the server on free ports (unless the config says otherwise) and waits, up to 30 s,
 * for it to listen. Disposing kills it (SIGKILL) if it still runs.
 */
export async function spawnServer(
  { dataDir, configPath, env, args = [], denoFlags = [] }: SpawnServerOptions,
): Promise<ServerProcess> {
  const ports = configPath ? [] : ["--http-port", "0", "--moq-port", "0"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
      "--unstable-kv",
      ...denoFlags,
      new URL("../../src/server/main.ts", import.meta.url).pathname,
      ...ports,
      "--data-dir",
      dataDir,
      ...(configPath ? ["--config", configPath] : []),
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  // Drained all along (a full pipe would block the child); an uncaught error or unhandled
  // rejection in the server ends it with "error: Uncaught …" here, which fails the test.
  let stderr = "";
  const stderrPump = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stderr += chunk) }),
  );
  let listening: Listening | undefined;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        try {
          const record = JSON.parse(line);
          if (record.msg === "ClutchCall Voice listening") listening = record;
        } catch { /* not a JSON log line */ }
      }
    }
  })();
  const deadline = Date.now() + 30_000;
  while (!listening && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!listening) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await pump;
    await stderrPump;
    throw new Error(`Server did not start:\n${lines.join("\n")}\n${stderr}`);
  }
  let token: string | undefined;
  try {
    token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
  } catch { /* auth configured: no dev token */ }
  return {
    child,
    listening,
    lines,
    pump,
    token,
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await pump;
      await stderrPump;
      assertNoUncaughtError(stderr);
    },
  };
}

/**
 * The SIP port the server bound (its config may say port 0), from its "listening" line; throws
 * when the server runs no SIP gateway.
 */
export function listeningSipPort(listening: Listening): number {
  const port = Number(/:(\d+)$/.exec(listening.sip ?? "")?.[1]);
  if (!(port > 0)) throw new Error(`The server reports no SIP port: ${JSON.stringify(listening)}`);
  return port;
}

/**
 * Throws when a server's stderr shows it died of an uncaught exception or an unhandled promise
 * rejection (Deno prints `error: Uncaught …` and exits): no test may pass over one.
 */
export function assertNoUncaughtError(stderr: string): void {
  const at = stderr.indexOf("error: Uncaught");
  if (at >= 0) {
    throw new Error(`The server process died of an uncaught error:\n${stderr.slice(at)}`);
  }
}
