/**
 * Runs `_fonoster_app.mjs` — a Fonoster Voice Application on npm `@fonoster/voice@0.18.2`,
 * unchanged — in its own Deno process (`--no-config`: its npm tree, `@prisma/client` and all,
 * stays out of the project's lock file), and follows the JSON lines it prints.
 *
 * @module
 */
import { guard } from "./_fixture.ts";
import { boundSockets } from "../_lib/bound_ports.ts";

const APP = new URL("./_fonoster_app.mjs", import.meta.url).pathname;

/** A running app process. */
export interface FonosterApp extends AsyncDisposable {
  /** Its gRPC address, `grpc://127.0.0.1:<port>`. */
  readonly url: string;
  /** The JSON lines it printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line (printed or to come) whose `event` is `event`. */
  next(event: string): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number>;
  /** Everything it printed (for failure messages). */
  output(): string;
}

/** A TCP port nobody listens on now. */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts the app in `mode`; resolves once its VoiceServer says it is listening. The app binds
 * port 0 (one the kernel picks: a port probed free here could be taken by a test beside this
 * one before the app binds it), read back from `/proc` once it listens.
 */
export async function startFonosterApp(mode: string, ...args: string[]): Promise<FonosterApp> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", "-A", APP, "0", mode, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  let text = "";
  const waiters: Array<{ event: string; resolve: (line: Record<string, unknown>) => void }> = [];
  const started = Promise.withResolvers<void>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        // The library's logger says so once the gRPC server is bound.
        if (line.includes("started voice server")) started.resolve();
        if (!line.startsWith("{")) continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        lines.push(parsed);
        for (const w of [...waiters]) {
          if (w.event === parsed.event) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(parsed);
          }
        }
      }
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then((s) => s.code);
  exited.then(() =>
    started.reject(new Error(`The Fonoster app exited before listening:\n${text}`))
  );
  await guard(started.promise, "the Fonoster app to listen", 120_000);
  // Its gRPC listener, the only TCP socket it listens on.
  const port = (await boundSockets(child.pid, "tcp")).find((s) => s.host === "127.0.0.1")?.port;
  if (port === undefined) {
    child.kill("SIGKILL");
    await Promise.all([exited, reading]);
    throw new Error(`The Fonoster app listens on no TCP port:\n${text}`);
  }
  return {
    url: `grpc://127.0.0.1:${port}`,
    lines,
    exited,
    output: () => text,
    next(event) {
      const seen = lines.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      return guard(
        new Promise((resolve) => waiters.push({ event, resolve })),
        `the Fonoster app to print "${event}"; it printed:\n${text.slice(-3000)}`,
      );
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await exited;
      await reading;
    },
  };
}
