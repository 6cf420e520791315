/**
 * A helper process for the benches (a recognizer or bot sink), run apart so that its CPU is
 * not counted against the process measured: it prints its port on its first line, and one
 * JSON line of stats when its stdin closes.
 *
 * @module
 */

/** A running sink process. */
export interface SinkProcess {
  /** The port it listens on (its first line). */
  readonly port: number;
  /** Closes its stdin; resolves with its last JSON line once it exited. */
  stop(): Promise<Record<string, unknown>>;
}

/** Starts `script` (a path beside the benches) with `deno run -A`. */
export async function startSinkProcess(script: URL): Promise<SinkProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await lines.read()).value ?? "";
  return {
    port: Number(text.slice(0, text.indexOf("\n")).trim()),
    async stop() {
      await child.stdin.close();
      let rest = text.slice(text.indexOf("\n") + 1);
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        rest += value;
      }
      await child.status;
      return JSON.parse(rest.trim().split("\n").at(-1)!);
    },
  };
}
