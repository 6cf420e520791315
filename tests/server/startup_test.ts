import { assertEquals, assertMatch } from "@std/assert";

const MAIN = new URL("../../src/server/main.ts", import.meta.url).pathname;

/** What a server process that failed to start printed and returned. */
interface Failed {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;
}

/**
 * Runs the real server with `args` and waits for it to exit on its own. A process still
 * running after a minute is killed and reported (it would have stayed up half-started).
 */
async function runUntilExit(args: string[], cwd?: string): Promise<Failed> {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-startup-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--unstable-net",
        "--unstable-kv",
        MAIN,
        "--data-dir",
        dataDir,
        ...args,
      ],
      cwd,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, 60_000);
    const output = await child.output();
    clearTimeout(watchdog);
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const result = {
      code: output.code,
      stderr: decode(output.stderr),
      stdout: decode(output.stdout),
    };
    if (hung) {
      throw new Error(`The server did not exit on a startup failure:\n${result.stdout}`);
    }
    return result;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The failure is one line on stderr, `error: …` matching `pattern`, with no stack trace. */
function assertOneLineFailure(failed: Failed, pattern: RegExp): void {
  assertEquals(failed.code, 1, `exit code (stderr: ${failed.stderr})`);
  const lines = failed.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `one line on stderr, got:\n${failed.stderr}`);
  assertMatch(lines[0], pattern);
  assertEquals(/\n\s+at /.test(failed.stdout + failed.stderr), false, "no stack trace");
  assertEquals(failed.stdout.includes("ClutchCall Voice listening"), false, "never listened");
}

Deno.test("startup fails with one line and exit 1 when the HTTP port is in use", async () => {
  using holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const failed = await runUntilExit(["--http-port", String(holder.addr.port), "--moq-port", "0"]);
  assertOneLineFailure(
    failed,
    new RegExp(
      `^error: Cannot listen for HTTP on 127\\.0\\.0\\.1:${holder.addr.port}: address already in use$`,
    ),
  );
});

Deno.test("startup fails with one line and exit 1 when the MoQT UDP port is in use", async () => {
  const holder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  const failed = await runUntilExit(["--http-port", "0", "--moq-port", String(port)])
    .finally(() => holder.close());
  assertOneLineFailure(
    failed,
    new RegExp(
      `^error: Cannot listen for MoQT on UDP 127\\.0\\.0\\.1:${port}: address already in use$`,
    ),
  );
});

Deno.test("startup fails with one line and exit 1 when the certificate is missing, unreadable or not PEM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-startup-cert-" });
  try {
    const garbage = `${dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "not a certificate\n");
    const ports = ["--http-port", "0", "--moq-port", "0"];
    assertOneLineFailure(
      await runUntilExit([...ports, "--cert", `${dir}/missing.pem`, "--key", garbage]),
      /^error: Cannot load certificate: cannot read the certificate ".*missing\.pem": no such file$/,
    );
    // A directory where the file should be cannot be read (root reads any file, so a mode
    // change would not make one unreadable here).
    assertOneLineFailure(
      await runUntilExit([...ports, "--cert", dir, "--key", garbage]),
      /^error: Cannot load certificate: cannot read the certificate ".*": it is a directory$/,
    );
    assertOneLineFailure(
      await runUntilExit([...ports, "--cert", garbage, "--key", garbage]),
      /^error: Cannot load certificate: ".*garbage\.pem" holds no PEM certificate$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startup fails with one line and exit 1 when a plugin module cannot be loaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-startup-plugin-" });
  try {
    await Deno.writeTextFile(`${dir}/not_a_plugin.ts`, "export default { name: 'x' };\n");
    await Deno.writeTextFile(`${dir}/broken.ts`, "export default definePlugin({ (\n");
    const cases: [string, RegExp][] = [
      ["./missing.ts", /^error: Cannot load plugin ".*\/missing\.ts": Module not found ".*"\.?$/],
      [
        "./not_a_plugin.ts",
        /^error: Cannot load plugin ".*\/not_a_plugin\.ts": its default export is not made by definePlugin$/,
      ],
      ["./broken.ts", /^error: Cannot load plugin ".*\/broken\.ts": .+$/],
    ];
    for (const [module, pattern] of cases) {
      const configPath = `${dir}/config.json`;
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({ httpPort: 0, moqPort: 0, plugins: [{ module }] }),
      );
      assertOneLineFailure(await runUntilExit(["--config", configPath]), pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
