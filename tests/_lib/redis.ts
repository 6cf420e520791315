/**
 * A real `redis-server` (Debian's) for tests: its own port and data dir, append-only file
 * fsynced on every write (so a restart loses nothing that was acknowledged), started and
 * restarted on signals (its "Ready to accept connections" log line), killed on dispose.
 *
 * @module
 */
import { pathExists } from "./env.ts";

/** True when `redis-server` is installed (`scripts/setup_test_env.ts` installs it). */
export function hasRedis(): boolean {
  return pathExists("/usr/bin/redis-server");
}

/** A running Redis. */
export interface RedisFixture extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops Redis with SIGKILL (nothing flushed beyond what was fsynced) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir; resolves once it accepts connections. */
  start(): Promise<void>;
}

/** Starts a Redis on a free port. */
export async function startRedis(): Promise<RedisFixture> {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-redis-" });
  let child: Deno.ChildProcess | undefined;
  let port = 0;
  const launch = async (): Promise<void> => {
    for (let attempt = 0;; attempt++) {
      port = port || freePort();
      const proc = new Deno.Command("/usr/bin/redis-server", {
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
        ],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      const log = await readUntilReady(proc);
      if (log.ready) {
        child = proc;
        return;
      }
      await proc.status;
      // Another process took the port between probing and binding: try another one.
      if (attempt < 5 && log.text.includes("Address already in use") && !child) {
        port = 0;
        continue;
      }
      throw new Error(`redis-server did not start:\n${log.text}`);
    }
  };
  await launch();
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running) return;
    running.kill("SIGKILL");
    await running.status;
  };
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    kill,
    start: launch,
    async [Symbol.asyncDispose]() {
      await kill();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads the server's stdout until it is ready or exits; the rest is drained in the background. */
async function readUntilReady(
  proc: Deno.ChildProcess,
): Promise<{ ready: boolean; text: string }> {
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  void proc.stderr.pipeTo(new WritableStream());
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { ready: false, text };
    text += value;
    if (text.includes("Ready to accept connections")) {
      // Keep draining so a full pipe never blocks the server.
      void (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })();
      return { ready: true, text };
    }
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
