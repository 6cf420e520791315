/**
 * The one schema of the config file: every section's precise message through the real
 * loader (a real file on disk), the JSON Schema `deno task config-schema` writes (current,
 * accepting the README's and the examples' configs and rejecting bad ones, checked by Ajv,
 * an independent JSON Schema validator), and `--help` naming every section.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { ConfigError, loadConfig, usage } from "../../src/server/config.ts";
import { CONFIG_SECTIONS, configJsonSchema } from "../../src/server/config_schema.ts";
import { configSchemaText } from "../../scripts/config_schema.ts";

const ROOT = new URL("../../", import.meta.url);

async function loadFile(content: unknown): Promise<ReturnType<typeof loadConfig>> {
  const dir = await Deno.makeTempDir({ prefix: "voice_config_schema_" });
  try {
    const path = join(dir, "voice.json");
    await Deno.writeTextFile(path, JSON.stringify(content));
    return await loadConfig(["--config", path], {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejected(content: unknown): Promise<string> {
  const error = await assertRejects(() => loadFile(content), ConfigError);
  assertEquals(error.source, "file");
  return error.message.replace(/^Invalid config file "[^"]*": /, "");
}

Deno.test("every section's bad values are named by their exact place", async () => {
  const trunk = { name: "carrier", address: "198.51.100.10:5060" };
  const cases: [unknown, string][] = [
    // sip
    [{ sip: [] }, "Invalid sip: expected an object"],
    [
      { sip: { listen: { port: 70000 } } },
      "Invalid sip.listen.port: expected an integer in 0..65535",
    ],
    [{ sip: { listen: { prot: 5060 } } }, 'unknown key "sip.listen.prot" (known: host, port)'],
    [{ sip: { transports: ["sctp"] } }, 'Invalid sip.transports[0]: expected "udp" or "tcp"'],
    [
      { sip: { rtpPortRange: [30000, 20000] } },
      "Invalid sip.rtpPortRange: first port is above the last",
    ],
    [{ sip: { rtpPortRange: [20000] } }, "Invalid sip.rtpPortRange: expected [first, last]"],
    [
      { sip: { trunks: [{ ...trunk, address: "a b" }] } },
      'Invalid sip.trunks[0].address: expected host[:port], got "a b"',
    ],
    [{ sip: { trunks: [trunk, trunk] } }, 'Invalid sip.trunks: duplicate name "carrier"'],
    [
      { sip: { trunks: [{ ...trunk, allowFrom: ["10.0.0.0/33"] }] } },
      "Invalid sip.trunks[0].allowFrom[0]: prefix length out of range",
    ],
    [
      { sip: { trunks: [{ ...trunk, credentials: { username: "u" } }] } },
      "Invalid sip.trunks[0].credentials.password: expected a non-empty string",
    ],
    [
      { sip: { trunks: [{ ...trunk, realm: "x" }] } },
      'unknown key "sip.trunks[0].realm" (known: name, address, transport, credentials, allowFrom, outboundNumbers, invitesPerSecond)',
    ],
    [
      { sip: { inbound: [{ match: "*", action: { webhook: "ftp://x" } }] } },
      "Invalid sip.inbound[0].action.webhook: expected an http(s) URL",
    ],
    [
      { sip: { inbound: [{ match: "*", action: { client: "a", agent: "b" } }] } },
      "Invalid sip.inbound[0].action: expected exactly one of client, agent, plugin, webhook",
    ],
    [
      { sip: { allowDirectSip: ["pbx.example:5060"] } },
      "Invalid sip.allowDirectSip[0]: expected a host without a port",
    ],
    [{ sip: { maxCalls: 0 } }, "Invalid sip.maxCalls: expected an integer in 1..1000000"],
    [
      { sip: { rtpEngine: "dpdk" } },
      'Invalid sip.rtpEngine: expected one of "auto", "xdp", "io_uring", "deno"',
    ],
    // cluster (the environment's overrides: tests/cluster/config_test.ts)
    [
      { cluster: { redisUrl: "http://x" } },
      "Invalid cluster.redisUrl: must be a redis:// or rediss:// URL",
    ],
    [{ cluster: { redisUrl: "redis://x", leaseMs: 10 } }, "Invalid cluster.leaseMs:"],
    // webhooks
    [{ webhooks: { allowNetworks: ["10.0.0.0/99"] } }, "Invalid webhooks.allowNetworks[0]:"],
    [{ webhooks: { maxRedirects: 11 } }, "Invalid webhooks.maxRedirects:"],
    [
      { webhooks: { retries: 1 } },
      'unknown key "webhooks.retries" (known: allowNetworks, maxRedirects)',
    ],
    // agents
    [
      { agents: { bot: { type: "media-streams", url: "http://x" } } },
      "Invalid agents.bot.url: must be a ws:// or wss:// URL",
    ],
    [
      { agents: { bot: { type: "module", module: "builtin:echo", turn: { silenceMs: 5 } } } },
      "Invalid agents.bot.turn.silenceMs:",
    ],
    [
      { agents: { bot: { type: "module", module: "builtin:echo", voice: "x" } } },
      'unknown key "agents.bot.voice" (known: type, module, options, turn, bargeIn)',
    ],
    [{ agents: { bot: { type: "phone" } } }, "Invalid agents.bot.type:"],
    // plugins, with the built-ins' own options
    [
      { plugins: [{ module: "builtin:nope" }] },
      'plugins[0].module names no built-in plugin "nope" (known: builtin:recorder, builtin:asr-tap)',
    ],
    [
      { plugins: [{ module: "builtin:asr-tap", options: { provider: "whisper" } }] },
      "Invalid plugins[0].options.provider:",
    ],
    [{
      plugins: [{
        module: "builtin:asr-tap",
        options: { provider: "deepgram", track: ["uplink"] },
      }],
    }, 'unknown key "plugins[0].options.track" (known: provider, url'],
    [
      { plugins: [{ module: "builtin:recorder", options: { sampleRate: 44100 } }] },
      "Invalid plugins[0].options.sampleRate: Invalid recorder option sampleRate: 44100 (use 8000, 16000, 24000, 48000)",
    ],
    [
      { plugins: [{ module: "builtin:recorder", options: { flushIntervalMs: 5 } }] },
      "Invalid plugins[0].options.flushIntervalMs: Invalid recorder option flushIntervalMs: 5 (use 50–1000)",
    ],
    // relay, http, auth (more in config_test.ts and tests/auth/config_test.ts)
    [{ relay: { maxRequestId: 0 } }, "relay.maxRequestId must be an integer >= 1, got 0"],
    [{ http: { idleTimeoutMs: 1.5 } }, "http.idleTimeoutMs must be an integer >= 1, got 1.5"],
    [
      { auth: { hs256Secret: "x".repeat(40), audience: ["a", ""] } },
      "auth.audience[1] must be a non-empty string",
    ],
    // an unknown key is reported before the other issues
    [{ sip: { maxCalls: 0 }, sipp: {} }, 'unknown key "sipp"'],
  ];
  for (const [content, message] of cases) {
    const got = await rejected(content);
    assertStringIncludes(got, message, JSON.stringify(content));
  }
});

Deno.test("every section's good values come through the one schema", async () => {
  const config = await loadFile({
    sip: {
      listen: { port: 5080 },
      trunks: [{ name: "t", address: "10.0.0.1", allowFrom: ["10.0.0.0/8"] }],
      inbound: [{ match: "*", action: { agent: "bot" } }],
      allowDirectSip: ["PBX.example"],
    },
    webhooks: { allowNetworks: ["127.0.0.0/8"] },
    agents: { bot: { type: "module", module: "builtin:echo" } },
    plugins: [
      { module: "builtin:asr-tap", options: { provider: "deepgram" } },
      { module: "builtin:recorder", options: { ogg: true } },
    ],
  });
  assertEquals(config.sip?.listen, { host: "0.0.0.0", port: 5080 });
  assertEquals(config.sip?.publicAddress, "127.0.0.1");
  assertEquals(config.sip?.trunks[0].transport, "udp");
  assertEquals(config.sip?.allowDirectSip, ["pbx.example"]);
  assertEquals(Object.isFrozen(config.sip?.trunks[0]), true);
  assertEquals(config.webhooks, { allowNetworks: ["127.0.0.0/8"], maxRedirects: 3 });
  assertEquals(config.agents?.bot.type, "module");
  // A plugin's options reach its factory as written (the plugin fills its own defaults).
  assertEquals(config.plugins.map((p) => p.options), [{ provider: "deepgram" }, { ogg: true }]);
});

Deno.test("--help lists every section of the schema", () => {
  const text = usage();
  for (const section of Object.keys(CONFIG_SECTIONS)) {
    assertStringIncludes(text, `"${section}"`);
  }
  assertStringIncludes(text, "deno task config-schema");
});

Deno.test("config.schema.json is what `deno task config-schema` writes now", async () => {
  const committed = await Deno.readTextFile(new URL("config.schema.json", ROOT));
  assertEquals(committed, configSchemaText(), "run `deno task config-schema`");
});

/** The README's JSON blocks: whole config files, and plugin entries (`"module"` at the top). */
async function readmeJson(): Promise<{ configs: unknown[]; pluginEntries: unknown[] }> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const configs: unknown[] = [];
  const pluginEntries: unknown[] = [];
  for (const [, block] of readme.matchAll(/^ *```json\n([\s\S]*?)^ *```$/gm)) {
    // A block may show one section alone (`"agents": {…}`): it is read inside an object.
    const text = block.trimStart().startsWith('"') ? `{${block}}` : block;
    const value = JSON.parse(text) as Record<string, unknown>;
    ("module" in value ? pluginEntries : configs).push(value);
  }
  return { configs, pluginEntries };
}

Deno.test("the JSON Schema accepts the README's and the examples' configs and rejects bad ones", async () => {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const validate = ajv.compile(configJsonSchema());
  const { configs, pluginEntries } = await readmeJson();
  assert(configs.length >= 1 && pluginEntries.length >= 1, "the README has config examples");
  const examples: unknown[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (entry.name.endsWith(".json")) {
      examples.push(JSON.parse(await Deno.readTextFile(new URL(`examples/${entry.name}`, ROOT))));
    }
  }
  assert(examples.length >= 2);
  const asConfig = (entry: unknown) => ({ plugins: [entry] });
  for (const config of [...configs, ...examples, ...pluginEntries.map(asConfig)]) {
    assertEquals(
      validate(config),
      true,
      `${JSON.stringify(config)}: ${ajv.errorsText(validate.errors)}`,
    );
    // …and the server's own loader takes the same files.
    await loadFile(config);
  }
  const bad: unknown[] = [
    { httpPort: "8080" },
    { httpPort: 70000 },
    { logLevel: "verbose" },
    { relay: { maxQueuedGroups: 0 } },
    { sip: { listen: { prot: 5060 } } },
    { sip: { trunks: [{ address: "10.0.0.1" }] } },
    { sip: { inbound: [{ match: "*", action: { client: "a", agent: "b" } }] } },
    { agents: { bot: { type: "module" } } },
    { plugins: [{ module: "builtin:asr-tap", options: { provider: "whisper" } }] },
    { plugins: [{ module: "builtin:recorder", options: { sampleRate: 44100 } }] },
    { nope: true },
  ];
  for (const config of bad) {
    assertEquals(validate(config), false, `the JSON Schema rejects ${JSON.stringify(config)}`);
    await assertRejects(() => loadFile(config), ConfigError);
  }
});
