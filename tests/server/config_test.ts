import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, loadConfig, usage } from "../../src/server/config.ts";

const CWD = "/srv/voice";

async function withConfigFile(
  content: unknown,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "voice_config_test_" });
  try {
    const path = join(dir, "voice.json");
    await Deno.writeTextFile(
      path,
      typeof content === "string" ? content : JSON.stringify(content),
    );
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config defaults apply when nothing is given", async () => {
  const config = await loadConfig([], {}, { cwd: CWD });
  assertEquals(config, {
    help: false,
    host: "127.0.0.1",
    httpPort: 8080,
    moqPort: 4443,
    dataDir: "/srv/voice/.voice",
    configPath: undefined,
    cert: undefined,
    key: undefined,
    logLevel: "info",
    plugins: [],
    relay: { subscribeTimeoutMs: 5000, maxQueuedGroups: 4, maxRequestId: 1024 },
    http: { headerTimeoutMs: 10_000, idleTimeoutMs: 60_000 },
    auth: undefined,
  });
});

Deno.test("flags override env, which overrides the config file", async () => {
  await withConfigFile(
    { host: "10.0.0.1", httpPort: 1111, moqPort: 2222, logLevel: "warn", dataDir: "data" },
    async (path, dir) => {
      const fileOnly = await loadConfig(["--config", path], {}, { cwd: CWD });
      assertEquals(
        [fileOnly.host, fileOnly.httpPort, fileOnly.moqPort, fileOnly.logLevel],
        ["10.0.0.1", 1111, 2222, "warn"],
      );
      assertEquals(fileOnly.dataDir, join(dir, "data"), "file paths resolve beside the file");
      assertEquals(fileOnly.configPath, path);

      const env = {
        CLUTCHCALL_CONFIG: path,
        CLUTCHCALL_HTTP_PORT: "3333",
        CLUTCHCALL_DATA_DIR: "envdata",
        CLUTCHCALL_LOG_LEVEL: "",
      };
      const withEnv = await loadConfig([], env, { cwd: CWD });
      assertEquals([withEnv.host, withEnv.httpPort, withEnv.moqPort], ["10.0.0.1", 3333, 2222]);
      assertEquals(withEnv.logLevel, "warn", "an empty variable counts as unset");
      assertEquals(withEnv.dataDir, "/srv/voice/envdata", "env paths resolve against cwd");

      const withFlags = await loadConfig(
        ["--http-port=4444", "--host", "::1", "--log-level", "debug", "--data-dir", "/abs"],
        env,
        { cwd: CWD },
      );
      assertEquals(
        [withFlags.host, withFlags.httpPort, withFlags.moqPort, withFlags.logLevel],
        ["::1", 4444, 2222, "debug"],
      );
      assertEquals(withFlags.dataDir, "/abs");
    },
  );
});

Deno.test("--config flag beats CLUTCHCALL_CONFIG", async () => {
  await withConfigFile({ moqPort: 1 }, async (first) => {
    await withConfigFile({ moqPort: 2 }, async (second) => {
      const config = await loadConfig(["--config", second], { CLUTCHCALL_CONFIG: first });
      assertEquals(config.moqPort, 2);
    });
  });
});

Deno.test("plugins and relay settings come from the config file", async () => {
  const file = {
    plugins: [
      { module: "./plugins/recorder.ts", options: { dir: "rec" } },
      { module: "npm:@acme/voice-asr@1.2.0", enabled: false },
      { module: "jsr:@acme/agent" },
      { module: "/opt/plugins/tap.ts" },
    ],
    relay: { subscribeTimeoutMs: 2000, maxRequestId: 64 },
  };
  await withConfigFile(file, async (path, dir) => {
    const config = await loadConfig([], { CLUTCHCALL_CONFIG: path }, { cwd: CWD });
    assertEquals(config.plugins, [
      {
        module: pathToFileURL(join(dir, "plugins", "recorder.ts")).href,
        options: { dir: "rec" },
        enabled: true,
      },
      { module: "npm:@acme/voice-asr@1.2.0", options: {}, enabled: false },
      { module: "jsr:@acme/agent", options: {}, enabled: true },
      { module: "file:///opt/plugins/tap.ts", options: {}, enabled: true },
    ]);
    assertEquals(config.relay, { subscribeTimeoutMs: 2000, maxQueuedGroups: 4, maxRequestId: 64 });
  });
});

Deno.test("cert and key are resolved and must come together", async () => {
  const config = await loadConfig(["--cert", "tls/c.pem"], { CLUTCHCALL_KEY: "/k.pem" }, {
    cwd: CWD,
  });
  assertEquals([config.cert, config.key], ["/srv/voice/tls/c.pem", "/k.pem"]);
  const error = await assertRejects(
    () => loadConfig(["--cert", "c.pem"], {}, { cwd: CWD }),
    ConfigError,
    "--cert and --key must be given together",
  );
  assertEquals(error.source, "flag");
});

Deno.test("--help short-circuits without reading anything else", async () => {
  const config = await loadConfig(["-h"], { CLUTCHCALL_CONFIG: "/does/not/exist.json" }, {
    cwd: CWD,
  });
  assert(config.help);
  assertEquals(config.httpPort, 8080);
  assertStringIncludes(usage(), "--http-port <port>");
  assertStringIncludes(usage(), "CLUTCHCALL_MOQ_PORT");
});

Deno.test("unknown flags and stray arguments are errors that carry the usage", async () => {
  for (
    const args of [["--bogus"], ["--http-port"], ["serve"], ["--help=yes"], [
      "--host",
      "--moq-port",
    ]]
  ) {
    const error = await assertRejects(
      () => loadConfig(args, {}),
      ConfigError,
      "Invalid command line",
    );
    assertEquals(error.source, "flag");
    assertEquals(error.usage, usage());
  }
  const unknown = await assertRejects(() => loadConfig(["--bogus"], {}), ConfigError);
  assertStringIncludes(unknown.message, "--bogus");
});

Deno.test("ports must be whole numbers from 0 to 65535", async () => {
  assertEquals((await loadConfig(["--http-port", "0", "--moq-port", "65535"], {})).moqPort, 65535);
  for (const bad of ["65536", "-1", "80.5", "0x50", " 80", "eighty", "1e3"]) {
    const error = await assertRejects(
      () => loadConfig([`--http-port=${bad}`], {}),
      ConfigError,
      "Invalid --http-port: expected a port number from 0 to 65535",
    );
    assertEquals(error.source, "flag");
  }
  const envError = await assertRejects(
    () => loadConfig([], { CLUTCHCALL_MOQ_PORT: "99999" }),
    ConfigError,
    'Invalid CLUTCHCALL_MOQ_PORT: expected a port number from 0 to 65535, got "99999"',
  );
  assertEquals(envError.source, "env");
  await withConfigFile({ httpPort: "8080" }, async (path) => {
    const fileError = await assertRejects(
      () => loadConfig(["--config", path], {}),
      ConfigError,
      `Invalid "httpPort" in ${path}`,
    );
    assertEquals(fileError.source, "file");
  });
});

Deno.test("invalid hosts and log levels are rejected", async () => {
  await assertRejects(
    () => loadConfig(["--host", "bad host"], {}),
    ConfigError,
    "expected an IP address or a host name",
  );
  await assertRejects(() => loadConfig(["--host", "300.1.1.1"], {}), ConfigError);
  assertEquals((await loadConfig(["--host", "[::1]"], {})).host, "::1");
  assertEquals((await loadConfig(["--host", "voice.example.com"], {})).host, "voice.example.com");
  await assertRejects(
    () => loadConfig([], { CLUTCHCALL_LOG_LEVEL: "verbose" }),
    ConfigError,
    "expected one of debug, info, warn, error",
  );
});

Deno.test("unknown config file keys are named in the error", async () => {
  await withConfigFile({ host: "127.0.0.1", httpport: 1, extra: true }, async (path) => {
    const error = await assertRejects(
      () => loadConfig(["--config", path], {}),
      ConfigError,
      'unknown keys "httpport", "extra"',
    );
    assertEquals(error.source, "file");
    assertEquals(error.usage, undefined);
  });
  await withConfigFile({ relay: { maxQueuedGroup: 3 } }, async (path) => {
    await assertRejects(
      () => loadConfig(["--config", path], {}),
      ConfigError,
      'unknown key "relay.maxQueuedGroup"',
    );
  });
  await withConfigFile({ plugins: [{ module: "./p.ts", option: {} }] }, async (path) => {
    await assertRejects(
      () => loadConfig(["--config", path], {}),
      ConfigError,
      'unknown key "plugins[0].option"',
    );
  });
  await withConfigFile({ $schema: "./schema.json" }, async (path) => {
    assertEquals((await loadConfig(["--config", path], {})).httpPort, 8080);
  });
});

Deno.test("malformed config files give clear errors", async () => {
  const cases: [unknown, string][] = [
    ["{ not json", "not JSON"],
    [[1, 2], "expected a JSON object"],
    [{ plugins: {} }, '"plugins" must be an array'],
    [{ plugins: [{}] }, "plugins[0].module must be a non-empty string"],
    [{ plugins: [{ module: "left-pad" }] }, "plugins[0].module must be a relative path"],
    [
      { plugins: [{ module: "./p.ts", enabled: "yes" }] },
      "plugins[0].enabled must be true or false",
    ],
    [{ plugins: [{ module: "./p.ts", options: [] }] }, "plugins[0].options must be an object"],
    [{ relay: { maxQueuedGroups: 0 } }, "relay.maxQueuedGroups must be an integer >= 1, got 0"],
    [{ relay: { subscribeTimeoutMs: "5s" } }, "relay.subscribeTimeoutMs must be an integer"],
    [{ http: { headerTimeoutMs: 0 } }, "http.headerTimeoutMs must be an integer >= 1, got 0"],
    [{ http: { idleTimeout: 5 } }, 'unknown key "http.idleTimeout"'],
    [{ relay: [] }, '"relay" must be an object'],
    [{ dataDir: 42 }, "expected a non-empty string"],
  ];
  for (const [content, message] of cases) {
    await withConfigFile(content, async (path) => {
      const error = await assertRejects(() => loadConfig(["--config", path], {}), ConfigError);
      assertStringIncludes(error.message, message);
      assertInstanceOf(error, Error);
    });
  }
  await assertRejects(
    () => loadConfig(["--config", "/does/not/exist.json"], {}),
    ConfigError,
    'Cannot read config file "/does/not/exist.json"',
  );
});

Deno.test("--help lists every section the config file takes", async () => {
  // The sections are what the loader knows (its unknown-key error lists them), so a section
  // added without a --help line fails here.
  let known: string[] = [];
  await withConfigFile({ nope: 1 }, async (path) => {
    const error = await assertRejects(() => loadConfig(["--config", path], {}), ConfigError);
    known = /\(known: ([^)]*)\)/.exec(error.message)![1].split(", ");
  });
  const settings = ["host", "httpPort", "moqPort", "dataDir", "cert", "key", "logLevel"];
  const sections = known.filter((k) => !settings.includes(k));
  assertEquals(sections.length >= 7, true, sections.join());
  const text = usage();
  for (const section of sections) {
    assertEquals(text.includes(`"${section}"`), true, `usage names "${section}"`);
  }
  assertEquals(text.includes("--version"), true);
});
