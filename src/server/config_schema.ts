/**
 * The one zod schema of the whole config file, composed from each module's own section
 * schema, and the JSON Schema editors complete the file with (`deno task config-schema`).
 *
 * A section is one module's schema (`sipConfigSchema` in `src/sip/config.ts`,
 * `agentsConfigSchema` in `src/agents/config.ts`, …), composed here in
 * {@linkcode CONFIG_SECTIONS}: adding a section is one entry there (its schema and its
 * `--help` line) and, if the server reads it, one field of `ServerConfig`. The top-level
 * settings (`host`, `httpPort`, …) are here too: flags and environment variables are
 * checked by the same schemas ({@linkcode SETTING_SCHEMAS}).
 *
 * Messages: the first issue becomes one line (see `src/config/issue.ts`); the messages
 * written here keep the wording the loader has always used (`relay.maxQueuedGroups must be
 * an integer >= 1, got 0`).
 *
 * @module
 */
import { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "../log/mod.ts";
import type { SipConfig } from "../sip/config.ts";
import type { AgentsConfig } from "../agents/config.ts";
import type { WebhooksConfig } from "../calls/url_policy.ts";
import { hs256Key } from "../auth/keys.ts";
import { forwardIssues } from "../config/issue.ts";
import { PLACEMENT_RULES, type PlacementRule } from "../relay/shard/placement.ts";
import { sipConfigSchema } from "../sip/config.ts";
import { agentsConfigSchema } from "../agents/config.ts";
import { clusterConfigSchema } from "../cluster/config.ts";
import { webhooksConfigSchema } from "../calls/url_policy.ts";
import { BUILTIN_PLUGINS } from "../plugins/host.ts";
import { BUILTIN_PLUGIN_OPTIONS } from "../plugins/builtin_options.ts";

/**
 * A plugin to load, from the config file's `plugins` list.
 *
 * @example
 * ```ts
 * import type { PluginConfig } from "./config_schema.ts";
 *
 * const recorder: PluginConfig = {
 *   module: "file:///srv/voice/plugins/recorder.ts",
 *   options: { dir: "./recordings" },
 *   enabled: true,
 * };
 * ```
 */
export interface PluginConfig {
  /**
   * An import specifier: a `file:` URL (local paths are resolved), `npm:`, `jsr:`, or
   * `builtin:<name>` for a plugin shipped with the server (e.g. `builtin:recorder`).
   */
  readonly module: string;
  /** Passed to the plugin's factory as is. Default: `{}`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Disabled plugins are not loaded. Default: true. */
  readonly enabled: boolean;
}

/**
 * Relay tuning, from the config file's `relay` section.
 *
 * @example
 * ```ts
 * import type { RelayConfig } from "./config_schema.ts";
 *
 * const relay: RelayConfig = { subscribeTimeoutMs: 5000, maxQueuedGroups: 4, maxRequestId: 1024 };
 * ```
 */
export interface RelayConfig {
  /** How long an upstream SUBSCRIBE may wait for SUBSCRIBE_OK, in ms. Default: 5000. */
  readonly subscribeTimeoutMs: number;
  /** Groups queued per slow subscriber before the oldest are dropped. Default: 4. */
  readonly maxQueuedGroups: number;
  /** MAX_REQUEST_ID sent in SERVER_SETUP; must be > 0 for peers to make requests.
   * Default: 1024. */
  readonly maxRequestId: number;
  /**
   * Relay shards, the main relay included (see `src/relay/shard/pool.ts`). Default: 1 (no
   * Workers, today's single relay).
   */
  readonly shards?: number;
  /** How a new call picks its shard. Default: `"least_loaded"`. */
  readonly placement?: PlacementRule;
}

/**
 * HTTP connection limits, from the config file's `http` section (slowloris: see
 * `src/server/http_front.ts`).
 *
 * @example
 * ```ts
 * import type { HttpConfig } from "./config_schema.ts";
 *
 * const http: HttpConfig = { headerTimeoutMs: 10_000, idleTimeoutMs: 60_000 };
 * ```
 */
export interface HttpConfig {
  /** A request head must be complete within this many ms of its first byte. Default: 10000. */
  readonly headerTimeoutMs: number;
  /** A connection with no traffic either way for this many ms is closed. Default: 60000. */
  readonly idleTimeoutMs: number;
}

// --- top-level settings (also flags and environment variables) -------------------------------

const nonEmpty = z.string({ error: "expected a non-empty string" }).min(1, {
  error: "expected a non-empty string",
});

function validHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(bare);
  return ipv4
    ? ipv4.slice(1).every((octet) => Number(octet) <= 255)
    : bare.includes(":")
    ? /^[0-9a-f:.]+$/i.test(bare) && bare.split("::").length <= 2
    : bare.length <= 253 &&
      bare.split(".").every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

const portError = "expected a port number from 0 to 65535";
const port = z.number({ error: portError }).int({ error: portError })
  .min(0, { error: portError }).max(65535, { error: portError });

/**
 * The schema of each top-level setting, shared by the config file, the flags and the
 * environment variables (whose text is turned into a number first for ports). A message
 * is completed by the loader as `Invalid <where>: <message>, got <value>`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SETTING_SCHEMAS } from "./config_schema.ts";
 * assertEquals(SETTING_SCHEMAS.host.parse("[::1]"), "::1");
 * ```
 */
export const SETTING_SCHEMAS: {
  readonly host: z.ZodType<string, string>;
  readonly httpPort: z.ZodType<number, number>;
  readonly moqPort: z.ZodType<number, number>;
  readonly dataDir: z.ZodType<string, string>;
  readonly cert: z.ZodType<string, string>;
  readonly key: z.ZodType<string, string>;
  readonly logLevel: z.ZodType<(typeof LOG_LEVELS)[number], string>;
} = {
  host: nonEmpty.refine(validHost, { error: "expected an IP address or a host name" })
    .transform((host) => host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host)
    .describe("Address or name to bind and to put in the development certificate."),
  httpPort: port.describe("TCP port of the HTTP control plane (0 picks a free port)."),
  moqPort: port.describe("UDP port of the MoQT QUIC/WebTransport listener (0 picks a free port)."),
  dataDir: nonEmpty.describe("The data directory (relative to this file)."),
  cert: nonEmpty.describe("TLS certificate (PEM), relative to this file; with `key`."),
  key: nonEmpty.describe("TLS private key (PEM), relative to this file; with `cert`."),
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` })
    .describe("The least severe log level written."),
};

// --- the server's own sections ---------------------------------------------------------------

/** An object section with the loader's wording for a value that is not an object. */
const section = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, { error: "{path} must be an object" });

const atLeast = (min: number, fallback: number, description: string) => {
  const error = (iss: { input: unknown }) =>
    `{path} must be an integer >= ${min}, got ${JSON.stringify(iss.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).default(fallback)
    .describe(description);
};

const shardsError = (iss: { input: unknown }) =>
  `{path} must be an integer from 1 to 64, got ${JSON.stringify(iss.input)}`;

const relaySchema = section({
  subscribeTimeoutMs: atLeast(
    1,
    5000,
    "How long an upstream SUBSCRIBE may wait for SUBSCRIBE_OK, in ms.",
  ),
  maxQueuedGroups: atLeast(1, 4, "Groups queued per slow subscriber before the oldest drop."),
  maxRequestId: atLeast(1, 1024, "MAX_REQUEST_ID sent in SERVER_SETUP."),
  shards: z.number({ error: shardsError }).int({ error: shardsError }).min(1, {
    error: shardsError,
  }).max(64, { error: shardsError }).optional().describe(
    "Relay shards on this machine, the main relay included (1, the default: no Workers). " +
      "Shard k listens on moqPort + k (every shard on a free port when moqPort is 0).",
  ),
  placement: z.enum(PLACEMENT_RULES, {
    error: `{path} must be one of ${PLACEMENT_RULES.join(", ")}`,
  }).optional().describe(
    "How a new call picks its relay shard: least_loaded (fewest live calls, default) or hash.",
  ),
}).default({ subscribeTimeoutMs: 5000, maxQueuedGroups: 4, maxRequestId: 1024 })
  .describe("MoQT relay tuning.");

const httpSchema = section({
  headerTimeoutMs: atLeast(1, 10_000, "A request head must be complete within this, in ms."),
  idleTimeoutMs: atLeast(1, 60_000, "A connection idle both ways this long is closed, in ms."),
}).default({ headerTimeoutMs: 10_000, idleTimeoutMs: 60_000 })
  .describe("HTTP slow-client limits (slowloris).");

/**
 * The HS256 secret's schema (the file's `auth.hs256Secret` and
 * `CLUTCHCALL_AUTH_HS256_SECRET`): a string of at least 32 bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { hs256SecretSchema } from "./config_schema.ts";
 * assertEquals(hs256SecretSchema.safeParse("short").success, false);
 * ```
 */
export const hs256SecretSchema: z.ZodType<string, string> = z.string({
  error: "expected a string",
}).superRefine((secret, ctx) => {
  try {
    hs256Key(secret);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
  }
}).describe("HS256 shared secret, at least 32 bytes (CLUTCHCALL_AUTH_HS256_SECRET wins).");

const mustBeNonEmpty = "{path} must be a non-empty string";
const audienceError = "{path} must be a non-empty string or array of strings";
const authSchema = section({
  hs256Secret: hs256SecretSchema.optional(),
  es256PublicKeys: z.array(
    z.union([
      z.string().min(1, { error: "{path} must be PEM or JWK text, a JWK object or a file path" }),
      z.record(z.string(), z.unknown()),
    ], { error: "{path} must be PEM or JWK text, a JWK object or a file path" }),
    { error: "{path} must be a non-empty array" },
  ).min(1, { error: "{path} must be a non-empty array" }).optional().describe(
    "ES256 public keys: PEM or JWK text, a JWK object, or a PEM/JWK file path.",
  ),
  issuer: z.string({ error: mustBeNonEmpty }).min(1, { error: mustBeNonEmpty }).optional()
    .describe("Required `iss` claim."),
  audience: z.union([
    z.string().min(1, { error: audienceError }),
    z.array(z.string({ error: mustBeNonEmpty }).min(1, { error: mustBeNonEmpty })).min(1, {
      error: audienceError,
    }),
  ], { error: audienceError }).optional().describe(
    "Required `aud` claim (the token must name one of these).",
  ),
}).optional().describe(
  "Bearer JWT verification; hs256Secret or es256PublicKeys is required. None: development mode.",
);

const MODULE_FORM =
  `must be a relative path ("./…"), an absolute path, an "npm:" or "jsr:" specifier, or "builtin:<name>"`;

/** How a plugin entry's `module` names its code (it is resolved by the loader). */
function moduleProblem(module: string): string | undefined {
  if (/^builtin:/.test(module)) {
    const name = module.slice("builtin:".length);
    return Object.hasOwn(BUILTIN_PLUGINS, name)
      ? undefined
      : `{path} names no built-in plugin "${name}" (known: ${
        Object.keys(BUILTIN_PLUGINS).map((n) => `builtin:${n}`).join(", ")
      })`;
  }
  if (/^(npm:|jsr:|file:|\.\/|\.\.\/|\/)/.test(module)) return undefined;
  return `{path} ${MODULE_FORM}, got "${module}"`;
}

const pluginEntrySchema = section({
  module: z.string({ error: "{path} must be a non-empty string" })
    .min(1, { error: "{path} must be a non-empty string" })
    .superRefine((module, ctx) => {
      const problem = moduleProblem(module);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe("`./path.ts`, an absolute path, `npm:`, `jsr:`, `file:`, or `builtin:<name>`."),
  options: z.record(z.string(), z.unknown(), { error: "{path} must be an object" }).default({})
    .describe("Passed to the plugin's factory as is."),
  enabled: z.boolean({ error: "{path} must be true or false" }).default(true)
    .describe("Disabled plugins are not loaded."),
}).superRefine((entry, ctx) => {
  const schema = BUILTIN_PLUGIN_OPTIONS[entry.module];
  if (schema) forwardIssues(schema, entry.options, ctx, ["options"]);
});

const pluginsSchema = z.array(pluginEntrySchema, { error: "{path} must be an array" })
  .default([]).describe("Plugins to load, in order.");

const sipSchema = sipConfigSchema.optional().describe("The SIP gateway; none: no gateway.");
const webhooksSchema = webhooksConfigSchema.optional().describe(
  "Where status callbacks may be sent.",
);
const agentsSchema = agentsConfigSchema.optional().describe(
  "AI voice agents calls can be handed to.",
);
const clusterSchema = clusterConfigSchema.optional().describe(
  "Many nodes on one Redis (CLUTCHCALL_REDIS_URL / CLUTCHCALL_NODE_ID win); none: one node.",
);

// --- the composition -------------------------------------------------------------------------

/** One section of the config file: its schema and its `--help` line. */
export interface ConfigSection {
  /** The section's schema (optional, or with a default). */
  readonly schema: z.ZodType;
  /** What `--help` says after the section's name: its keys, then what it is for. */
  readonly help: string;
}

/**
 * Every section of the config file, in `--help` order. A new section is one entry here.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CONFIG_SECTIONS } from "./config_schema.ts";
 * assertEquals(Object.keys(CONFIG_SECTIONS).includes("sip"), true);
 * ```
 */
export const CONFIG_SECTIONS: Readonly<
  Record<
    "plugins" | "relay" | "http" | "auth" | "sip" | "webhooks" | "agents" | "cluster",
    ConfigSection
  >
> = {
  plugins: {
    schema: pluginsSchema,
    help: `[{ "module", "options", "enabled" }]: plugins to load (builtin:recorder,
              builtin:asr-tap, ./my_plugin.ts, npm:…)`,
  },
  relay: {
    schema: relaySchema,
    help:
      `{ "subscribeTimeoutMs", "maxQueuedGroups", "maxRequestId", "shards", "placement" }: MoQT relay tuning`,
  },
  http: { schema: httpSchema, help: `{ "headerTimeoutMs", "idleTimeoutMs" }: slow-client limits` },
  auth: {
    schema: authSchema,
    help: `{ "hs256Secret", "es256PublicKeys" (PEM or JWK text, a JWK object, or a PEM/JWK
              file path), "issuer", "audience" }: bearer JWTs (none: development mode)`,
  },
  sip: {
    schema: sipSchema,
    help: `{ "listen", "transports", "publicAddress", "rtpPortRange", "trunks", "inbound",
              "allowDirectSip", … }: the SIP gateway (none: no gateway)`,
  },
  webhooks: {
    schema: webhooksSchema,
    help: `{ "allowNetworks", "maxRedirects" }: where status callbacks may be sent`,
  },
  agents: {
    schema: agentsSchema,
    help: `{ "<name>": { "type", … } }: AI voice agents calls can be handed to`,
  },
  cluster: {
    schema: clusterSchema,
    help: `{ "redisUrl", "nodeId", "advertise": { "moq", "http" }, "leaseMs" }: many nodes on
              one Redis (or CLUTCHCALL_REDIS_URL / CLUTCHCALL_NODE_ID; none: one node on Deno KV)`,
  },
};

const fileShape = {
  $schema: z.string().optional().describe("The JSON Schema of this file, for editors."),
  host: SETTING_SCHEMAS.host.optional(),
  httpPort: SETTING_SCHEMAS.httpPort.optional(),
  moqPort: SETTING_SCHEMAS.moqPort.optional(),
  dataDir: SETTING_SCHEMAS.dataDir.optional(),
  cert: SETTING_SCHEMAS.cert.optional(),
  key: SETTING_SCHEMAS.key.optional(),
  logLevel: SETTING_SCHEMAS.logLevel.optional(),
  plugins: pluginsSchema,
  relay: relaySchema,
  http: httpSchema,
  auth: authSchema,
  sip: sipSchema,
  webhooks: webhooksSchema,
  agents: agentsSchema,
  cluster: clusterSchema,
};

/**
 * The schema of the whole config file (JSON): the top-level settings and every section.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { configFileSchema } from "./config_schema.ts";
 * const file = configFileSchema.parse({ httpPort: 9000, relay: { maxQueuedGroups: 8 } });
 * assertEquals([file.httpPort, file.relay.maxQueuedGroups, file.plugins], [9000, 8, []]);
 * ```
 */
export const configFileSchema: z.ZodType<ConfigFile, Record<string, unknown>> = z.strictObject(
  fileShape,
) satisfies z.ZodType<ConfigFile, Record<string, unknown>>;

/** The config file once parsed by {@linkcode configFileSchema} (defaults filled in). */
export interface ConfigFile {
  /** The JSON Schema the file names, for editors (ignored). */
  readonly $schema?: string;
  /** Address or name to bind (brackets of an IPv6 literal removed). */
  readonly host?: string;
  /** The HTTP port. */
  readonly httpPort?: number;
  /** The MoQT UDP port. */
  readonly moqPort?: number;
  /** The data directory, as written (relative to the file). */
  readonly dataDir?: string;
  /** The TLS certificate path, as written. */
  readonly cert?: string;
  /** The TLS key path, as written. */
  readonly key?: string;
  /** The least severe log level written. */
  readonly logLevel?: LogLevel;
  /** Plugins, `module` as written (the loader resolves local paths). */
  readonly plugins: readonly PluginConfig[];
  /** Relay tuning, defaults filled in. */
  readonly relay: RelayConfig;
  /** HTTP limits, defaults filled in. */
  readonly http: HttpConfig;
  /** The `auth` section as written (keys not read or imported yet). */
  readonly auth?: {
    readonly hs256Secret?: string;
    readonly es256PublicKeys?: readonly (string | Record<string, unknown>)[];
    readonly issuer?: string;
    readonly audience?: string | readonly string[];
  };
  /** The SIP gateway. */
  readonly sip?: SipConfig;
  /** Where webhooks may go. */
  readonly webhooks?: WebhooksConfig;
  /** AI voice agents. */
  readonly agents?: AgentsConfig;
  /** The cluster section as written (the environment's overrides not merged yet). */
  readonly cluster?: z.input<typeof clusterConfigSchema>;
}

/**
 * The JSON Schema (draft 2020-12) of the config file, as `deno task config-schema` writes
 * it: what a file may hold, with each key's description and default, and a built-in
 * plugin's options checked by that plugin's own schema.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { configJsonSchema } from "./config_schema.ts";
 * const schema = configJsonSchema();
 * assertEquals(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
 * ```
 */
export function configJsonSchema(): Record<string, unknown> & { $schema: string } {
  const options = { io: "input", unrepresentable: "any", target: "draft-2020-12" } as const;
  const schema = z.toJSONSchema(configFileSchema, options) as unknown as Record<string, unknown> & {
    $schema: string;
    properties: { plugins: { items: Record<string, unknown> } };
  };
  // A built-in plugin's options: the plugin's own schema, applied when `module` names it
  // (zod's superRefine, which checks them, has no JSON Schema form).
  schema.properties.plugins.items.allOf = Object.entries(BUILTIN_PLUGIN_OPTIONS).map((
    [module, optionsSchema],
  ) => {
    const { $schema: _, ...json } = z.toJSONSchema(optionsSchema, options);
    return {
      if: { properties: { module: { const: module } }, required: ["module"] },
      then: { properties: { options: json } },
    };
  });
  return {
    $schema: schema.$schema,
    title: "ClutchCall Voice server configuration",
    description: "The file given with --config / CLUTCHCALL_CONFIG. Flags and CLUTCHCALL_* " +
      "environment variables win over it; relative paths resolve against its directory.",
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "$schema")),
  };
}
