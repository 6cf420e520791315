/**
 * Server configuration from command-line flags, environment variables and a JSON file.
 *
 * Precedence, highest first: flags, then `CLUTCHCALL_*` environment variables, then the config
 * file (`--config` / `CLUTCHCALL_CONFIG`), then defaults. Empty environment variables count as
 * unset. Relative paths resolve against the working directory for flags and environment
 * variables, and against the config file's directory for values from the file.
 *
 * A config file:
 *
 * ```json
 * {
 *   "host": "127.0.0.1",
 *   "httpPort": 8080,
 *   "moqPort": 4443,
 *   "dataDir": "./.voice",
 *   "logLevel": "info",
 *   "plugins": [
 *     { "module": "builtin:recorder", "options": { "sampleRate": 16000 } },
 *     { "module": "./plugins/my_plugin.ts", "options": { "dir": "./out" } },
 *     { "module": "npm:@acme/voice-asr@1", "enabled": false }
 *   ],
 *   "relay": { "subscribeTimeoutMs": 5000, "maxQueuedGroups": 4, "maxRequestId": 1024 },
 *   "auth": {
 *     "es256PublicKeys": ["./keys/signer.pub.pem", { "kty": "EC", "crv": "P-256", "x": "…", "y": "…" }],
 *     "issuer": "https://auth.example.com",
 *     "audience": "clutchcall-voice"
 *   }
 * }
 * ```
 *
 * Without an `auth` section (and no `CLUTCHCALL_AUTH_HS256_SECRET`) the server runs in
 * development mode: it mints its own token (see `src/auth/dev_token.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LOG_LEVELS, type LogLevel } from "../log/mod.ts";
import { hs256Key, importEs256PublicKey } from "../auth/keys.ts";
import { parseSipConfig, type SipConfig } from "../sip/config.ts";
import { type AgentsConfig, parseAgentsConfig } from "../agents/config.ts";
import { type ClusterConfig, parseClusterConfig } from "../cluster/config.ts";
import { type WebhooksConfig, webhooksConfigSchema } from "../calls/url_policy.ts";

/**
 * A plugin to load, from the config file's `plugins` list.
 *
 * @example
 * ```ts
 * import type { PluginConfig } from "./config.ts";
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
 * import type { RelayConfig } from "./config.ts";
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
}

/**
 * HTTP connection limits, from the config file's `http` section (slowloris: see
 * `src/server/http_front.ts`).
 *
 * @example
 * ```ts
 * import type { HttpConfig } from "./config.ts";
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

/**
 * Token verification, from the config file's `auth` section (the HS256 secret may also come
 * from `CLUTCHCALL_AUTH_HS256_SECRET`, which wins). At least one key is set.
 *
 * @example
 * ```ts
 * import type { AuthConfig } from "./config.ts";
 *
 * const auth: AuthConfig = {
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 *   issuer: "https://auth.example.com",
 * };
 * ```
 */
export interface AuthConfig {
  /** HS256 shared secret, at least 32 bytes. */
  readonly hs256Secret?: string;
  /** ES256 public keys as PEM (SPKI) or JWK JSON text (files and JWK objects are read in). */
  readonly es256PublicKeys?: readonly string[];
  /** Required `iss` claim. */
  readonly issuer?: string;
  /** Required `aud` claim (the token must name one of these). */
  readonly audience?: string | readonly string[];
}

/**
 * The validated server configuration from {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig, type ServerConfig } from "./config.ts";
 *
 * const config: ServerConfig = await loadConfig(["--moq-port", "4443"], {});
 * console.log(config.moqPort, config.relay.maxQueuedGroups);
 * ```
 */
export interface ServerConfig {
  /** True when `--help` / `-h` was given; the caller prints {@linkcode usage} and exits. The
   * other fields then hold defaults: nothing else is read. */
  readonly help: boolean;
  /** Address or name to bind and to put in the development certificate. */
  readonly host: string;
  /** TCP port of the HTTP control plane (0 picks a free port). */
  readonly httpPort: number;
  /** UDP port of the MoQT QUIC/WebTransport listener (0 picks a free port). */
  readonly moqPort: number;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  /** Absolute path of the config file, when one was used. */
  readonly configPath: string | undefined;
  /** Absolute path of the TLS certificate (PEM); unset means a development certificate. */
  readonly cert: string | undefined;
  /** Absolute path of the TLS private key (PEM); set exactly when `cert` is. */
  readonly key: string | undefined;
  /** The least severe log level written. */
  readonly logLevel: LogLevel;
  /** Plugins in the order listed in the config file, disabled ones included. */
  readonly plugins: readonly PluginConfig[];
  /** Relay tuning. */
  readonly relay: RelayConfig;
  /** HTTP connection limits. */
  readonly http: HttpConfig;
  /** Token verification; undefined means development mode (a self-minted token). */
  readonly auth: AuthConfig | undefined;
  /** The SIP gateway (`sip` section, see `src/sip/config.ts`); undefined means no gateway. */
  readonly sip?: SipConfig;
  /** Where status callbacks and webhooks may go (`webhooks` section, `src/calls/url_policy.ts`). */
  readonly webhooks?: WebhooksConfig;
  /** The `agents` section (see `src/agents/config.ts`); undefined means no agents. */
  readonly agents?: AgentsConfig;
  /** The `cluster` section (see `src/cluster/config.ts`); undefined means one node on Deno KV. */
  readonly cluster?: ClusterConfig;
}

/**
 * Where an invalid value came from.
 *
 * @example
 * ```ts
 * import { ConfigError, type ConfigSource } from "./config.ts";
 *
 * const source: ConfigSource = new ConfigError("Invalid x", { source: "env" }).source;
 * ```
 */
export type ConfigSource = "flag" | "env" | "file";

/**
 * An invalid flag, environment variable or config file. `usage` holds the usage text when
 * the command line itself was wrong, so the caller can print it.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig, usage } from "./config.ts";
 *
 * try {
 *   await loadConfig(Deno.args, Deno.env.toObject());
 * } catch (error) {
 *   if (!(error instanceof ConfigError)) throw error;
 *   console.error(error.message);
 *   if (error.usage) console.error(`\n${usage()}`);
 *   Deno.exit(2);
 * }
 * ```
 */
export class ConfigError extends Error {
  /** Which layer the bad value came from. */
  readonly source: ConfigSource;
  /** The usage text, for command-line errors. */
  readonly usage: string | undefined;

  /** Creates the error; `usage` is filled in for `source: "flag"`. */
  constructor(message: string, options: { source: ConfigSource; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "ConfigError";
    this.source = options.source;
    this.usage = options.source === "flag" ? usage() : undefined;
  }
}

const DEFAULTS = {
  host: "127.0.0.1",
  httpPort: 8080,
  moqPort: 4443,
  dataDir: "./.voice",
  logLevel: "info",
  relay: { subscribeTimeoutMs: 5000, maxQueuedGroups: 4, maxRequestId: 1024 },
  http: { headerTimeoutMs: 10_000, idleTimeoutMs: 60_000 },
} as const;

/** Each setting's flag, environment variable and config file key. */
const SETTINGS = {
  host: { flag: "host", env: "CLUTCHCALL_HOST" },
  httpPort: { flag: "http-port", env: "CLUTCHCALL_HTTP_PORT" },
  moqPort: { flag: "moq-port", env: "CLUTCHCALL_MOQ_PORT" },
  dataDir: { flag: "data-dir", env: "CLUTCHCALL_DATA_DIR" },
  cert: { flag: "cert", env: "CLUTCHCALL_CERT" },
  key: { flag: "key", env: "CLUTCHCALL_KEY" },
  logLevel: { flag: "log-level", env: "CLUTCHCALL_LOG_LEVEL" },
} as const;
type Setting = keyof typeof SETTINGS;

const FILE_KEYS = new Set<string>([
  ...Object.keys(SETTINGS),
  "plugins",
  "relay",
  "http",
  "auth",
  "sip",
  "webhooks",
  "agents",
  "cluster",
  "$schema",
]);
const AUTH_KEYS = new Set(["hs256Secret", "es256PublicKeys", "issuer", "audience"]);
const PLUGIN_KEYS = new Set(["module", "options", "enabled"]);
const RELAY_KEYS = new Set(Object.keys(DEFAULTS.relay));
const HTTP_KEYS = new Set(Object.keys(DEFAULTS.http));

/**
 * The `--help` text.
 *
 * @example
 * ```ts
 * import { usage } from "./config.ts";
 *
 * console.log(usage());
 * ```
 */
export function usage(): string {
  return `Usage: clutchcall-voice [options]

Options (flag, environment variable, default):
  --host <addr>          CLUTCHCALL_HOST       ${DEFAULTS.host}
  --http-port <port>     CLUTCHCALL_HTTP_PORT  ${DEFAULTS.httpPort}
  --moq-port <port>      CLUTCHCALL_MOQ_PORT   ${DEFAULTS.moqPort}   (UDP, QUIC/WebTransport)
  --data-dir <path>      CLUTCHCALL_DATA_DIR   ${DEFAULTS.dataDir}
  --config <file.json>   CLUTCHCALL_CONFIG     none
  --cert <cert.pem>      CLUTCHCALL_CERT       none (a development certificate)
  --key <key.pem>        CLUTCHCALL_KEY        none
  --log-level <level>    CLUTCHCALL_LOG_LEVEL  ${DEFAULTS.logLevel}   (${LOG_LEVELS.join(", ")})
  (environment only)     CLUTCHCALL_AUTH_HS256_SECRET  none (development mode: self-minted token)
  -V, --version          Print the version and exit
  -h, --help             Show this text

Precedence: flags > environment > config file > defaults. The config file (JSON) takes the
same settings in camelCase (host, httpPort, moqPort, dataDir, cert, key, logLevel) plus these
sections (the README's "Configuration" says more):
  "plugins"   [{ "module", "options", "enabled" }]: plugins to load (builtin:recorder, …)
  "relay"     { "subscribeTimeoutMs", "maxQueuedGroups", "maxRequestId" }: MoQT relay tuning
  "http"      { "headerTimeoutMs", "idleTimeoutMs" }: slow-client limits
  "auth"      { "hs256Secret", "es256PublicKeys" (PEM or JWK text, a JWK object, or a PEM/JWK
              file path), "issuer", "audience" }: bearer JWTs (none: development mode)
  "sip"       { "listen", "transports", "publicAddress", "rtpPortRange", "trunks", "inbound",
              "allowDirectSip", … }: the SIP gateway (none: no gateway)
  "webhooks"  { "allowNetworks", "maxRedirects" }: where status callbacks may be sent
  "agents"    { "<name>": { "type", … } }: AI voice agents calls can be handed to
  "cluster"   { "redisUrl", "nodeId", "advertise": { "moq", "http" }, "leaseMs" }: many nodes on
              one Redis (or CLUTCHCALL_REDIS_URL / CLUTCHCALL_NODE_ID; none: one node on Deno KV)`;
}

/**
 * Reads and validates the configuration from command-line `args` (without the program name),
 * environment variables `env` and the config file they name.
 *
 * @throws {ConfigError} On an unknown flag or config key, an invalid value, or an unreadable
 * or malformed config file.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 *
 * const config = await loadConfig(["--http-port=9000"], { CLUTCHCALL_HOST: "0.0.0.0" });
 * console.log(config.host, config.httpPort); // 0.0.0.0 9000
 * ```
 */
export async function loadConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly cwd?: string } = {},
): Promise<ServerConfig> {
  const { cwd = Deno.cwd() } = options;
  const flags = parseFlags(args);
  if (flags.help) return defaults(cwd, true);

  const envValue = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const configFlag = flags.config ?? envValue("CLUTCHCALL_CONFIG");
  const configPath = configFlag === undefined ? undefined : resolve(cwd, configFlag);
  const file = configPath === undefined ? {} : await readConfigFile(configPath);
  const fileDir = configPath === undefined ? cwd : dirname(configPath);

  /** The winning raw value of a setting, its source, and the base for relative paths. */
  const pick = (setting: Setting): Picked => {
    const { flag, env: envName } = SETTINGS[setting];
    const fromFlag = flags[flag];
    if (fromFlag !== undefined) return { value: fromFlag, source: "flag", where: `--${flag}` };
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return { value: fromEnv, source: "env", where: envName };
    if (file[setting] !== undefined) {
      return { value: file[setting], source: "file", where: `"${setting}" in ${configPath}` };
    }
    return undefined;
  };

  const host = parseHost(pick("host")) ?? DEFAULTS.host;
  const httpPort = parsePort(pick("httpPort")) ?? DEFAULTS.httpPort;
  const moqPort = parsePort(pick("moqPort")) ?? DEFAULTS.moqPort;
  const logLevel = parseLogLevel(pick("logLevel")) ?? DEFAULTS.logLevel;
  const pathOf = (setting: Setting): string | undefined => {
    const picked = pick(setting);
    if (picked === undefined) return undefined;
    const text = requireString(picked);
    return resolve(picked.source === "file" ? fileDir : cwd, text);
  };
  const dataDir = pathOf("dataDir") ?? resolve(cwd, DEFAULTS.dataDir);
  const cert = pathOf("cert");
  const key = pathOf("key");
  if ((cert === undefined) !== (key === undefined)) {
    const source = pick(cert === undefined ? "key" : "cert")?.source ?? "flag";
    throw new ConfigError(
      `Invalid TLS settings: --cert and --key must be given together, got only ${
        cert === undefined ? "--key" : "--cert"
      }`,
      { source },
    );
  }

  return freeze({
    help: false,
    host,
    httpPort,
    moqPort,
    dataDir,
    configPath,
    cert,
    key,
    logLevel,
    plugins: parsePlugins(file.plugins, configPath ?? "", fileDir),
    relay: parseRelay(file.relay, configPath ?? ""),
    http: parseHttp(file.http, configPath ?? ""),
    auth: await parseAuth(file.auth, envValue("CLUTCHCALL_AUTH_HS256_SECRET"), {
      configPath: configPath ?? "",
      baseDir: fileDir,
    }),
    ...(file.sip === undefined ? {} : { sip: parseSip(file.sip, configPath ?? "") }),
    ...(file.webhooks === undefined
      ? {}
      : { webhooks: parseWebhooks(file.webhooks, configPath ?? "") }),
    ...(file.agents === undefined
      ? {}
      : { agents: parseFileSection(parseAgentsConfig, file.agents, configPath ?? "") }),
    ...clusterSection(file.cluster, env, configPath ?? ""),
  });
}

// --- internals -------------------------------------------------------------------------------

function clusterSection(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  configPath: string,
): { cluster?: ClusterConfig } {
  const source: ConfigSource = value === undefined ? "env" : "file";
  try {
    const cluster = parseClusterConfig(value, env);
    return cluster ? { cluster } : {};
  } catch (cause) {
    const where = source === "file" ? `config file "${configPath}"` : "environment";
    throw new ConfigError(`Invalid ${where}: ${(cause as Error).message}`, { source, cause });
  }
}

type Picked = { value: unknown; source: ConfigSource; where: string } | undefined;
type Flags = Partial<Record<(typeof SETTINGS)[Setting]["flag"] | "config", string>> & {
  help?: boolean;
};

function parseFlags(args: readonly string[]): Flags {
  const stringOption = { type: "string" } as const;
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        host: stringOption,
        "http-port": stringOption,
        "moq-port": stringOption,
        "data-dir": stringOption,
        config: stringOption,
        cert: stringOption,
        key: stringOption,
        "log-level": stringOption,
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Invalid command line: ${message}`, { source: "flag", cause });
  }
}

function defaults(cwd: string, help: boolean): ServerConfig {
  return freeze({
    help,
    host: DEFAULTS.host,
    httpPort: DEFAULTS.httpPort,
    moqPort: DEFAULTS.moqPort,
    dataDir: resolve(cwd, DEFAULTS.dataDir),
    configPath: undefined,
    cert: undefined,
    key: undefined,
    logLevel: DEFAULTS.logLevel,
    plugins: [],
    relay: { ...DEFAULTS.relay },
    http: { ...DEFAULTS.http },
    auth: undefined,
  });
}

/** Freezes the config, its relay section and its plugin list (not plugin options). */
function freeze(config: ServerConfig): ServerConfig {
  Object.freeze(config.relay);
  Object.freeze(config.http);
  if (config.auth) {
    Object.freeze(config.auth.es256PublicKeys);
    Object.freeze(config.auth.audience);
    Object.freeze(config.auth);
  }
  for (const plugin of config.plugins) Object.freeze(plugin);
  Object.freeze(config.plugins);
  return Object.freeze(config);
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Cannot read config file "${path}": ${reason}`, {
      source: "file",
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Invalid config file "${path}": not JSON: ${reason}`, {
      source: "file",
      cause,
    });
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigError(`Invalid config file "${path}": expected a JSON object`, {
      source: "file",
    });
  }
  rejectUnknownKeys(parsed, FILE_KEYS, `config file "${path}"`, "");
  return parsed;
}

function rejectUnknownKeys(
  object: Record<string, unknown>,
  known: ReadonlySet<string>,
  what: string,
  prefix: string,
): void {
  const unknown = Object.keys(object).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Invalid ${what}: unknown key${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `"${prefix}${k}"`).join(", ")
      } (known: ${[...known].filter((k) => k !== "$schema").join(", ")})`,
      { source: "file" },
    );
  }
}

function invalid(picked: NonNullable<Picked>, expected: string): ConfigError {
  return new ConfigError(
    `Invalid ${picked.where}: expected ${expected}, got ${JSON.stringify(picked.value)}`,
    { source: picked.source },
  );
}

function requireString(picked: NonNullable<Picked>): string {
  if (typeof picked.value !== "string" || picked.value === "") {
    throw invalid(picked, "a non-empty string");
  }
  return picked.value;
}

function parsePort(picked: Picked): number | undefined {
  if (picked === undefined) return undefined;
  const { value } = picked;
  const port = typeof value === "number"
    ? value
    : typeof value === "string" && picked.source !== "file" && /^\d{1,5}$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid(picked, "a port number from 0 to 65535");
  }
  return port;
}

function parseHost(picked: Picked): string | undefined {
  if (picked === undefined) return undefined;
  const host = requireString(picked);
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(bare);
  const ok = ipv4
    ? ipv4.slice(1).every((octet) => Number(octet) <= 255)
    : bare.includes(":")
    ? /^[0-9a-f:.]+$/i.test(bare) && bare.split("::").length <= 2
    : bare.length <= 253 &&
      bare.split(".").every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
  if (!ok) throw invalid(picked, "an IP address or a host name");
  return bare;
}

function parseLogLevel(picked: Picked): LogLevel | undefined {
  if (picked === undefined) return undefined;
  if (!(LOG_LEVELS as readonly unknown[]).includes(picked.value)) {
    throw invalid(picked, `one of ${LOG_LEVELS.join(", ")}`);
  }
  return picked.value as LogLevel;
}

function parsePlugins(value: unknown, configPath: string, baseDir: string): PluginConfig[] {
  if (value === undefined) return [];
  const where = `config file "${configPath}"`;
  if (!Array.isArray(value)) {
    throw new ConfigError(`Invalid ${where}: "plugins" must be an array`, { source: "file" });
  }
  return value.map((entry: unknown, i): PluginConfig => {
    const at = `plugins[${i}]`;
    const fail = (message: string) =>
      new ConfigError(`Invalid ${where}: ${at}${message}`, { source: "file" });
    if (!isPlainObject(entry)) throw fail(" must be an object");
    rejectUnknownKeys(entry, PLUGIN_KEYS, where, `${at}.`);
    const { module, options = {}, enabled = true } = entry;
    if (typeof module !== "string" || module === "") {
      throw fail(".module must be a non-empty string");
    }
    if (!isPlainObject(options)) throw fail(".options must be an object");
    if (typeof enabled !== "boolean") throw fail(".enabled must be true or false");
    let specifier: string;
    if (
      module.startsWith("npm:") || module.startsWith("jsr:") || module.startsWith("file:") ||
      /^builtin:[a-z0-9][a-z0-9._-]*$/.test(module)
    ) {
      specifier = module;
    } else if (module.startsWith("./") || module.startsWith("../") || isAbsolute(module)) {
      specifier = pathToFileURL(resolve(baseDir, module)).href;
    } else {
      throw fail(
        `.module must be a relative path ("./…"), an absolute path, an "npm:" or "jsr:" specifier, or "builtin:<name>", got "${module}"`,
      );
    }
    return { module: specifier, options, enabled };
  });
}

function parseWebhooks(value: unknown, configPath: string): WebhooksConfig {
  const parsed = webhooksConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(
    `Invalid config file "${configPath}": webhooks.${issue.path.join(".")}: ${issue.message}`,
    { source: "file", cause: parsed.error },
  );
}

function parseFileSection<T>(
  parse: (value: unknown) => T,
  value: unknown,
  configPath: string,
): T {
  try {
    return parse(value);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Invalid config file "${configPath}": ${reason}`, {
      source: "file",
      cause,
    });
  }
}

function parseSip(value: unknown, configPath: string): SipConfig {
  try {
    return parseSipConfig(value);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Invalid config file "${configPath}": ${reason}`, {
      source: "file",
      cause,
    });
  }
}

function parseRelay(value: unknown, configPath: string): RelayConfig {
  if (value === undefined) return { ...DEFAULTS.relay };
  const where = `config file "${configPath}"`;
  if (!isPlainObject(value)) {
    throw new ConfigError(`Invalid ${where}: "relay" must be an object`, { source: "file" });
  }
  rejectUnknownKeys(value, RELAY_KEYS, where, "relay.");
  const integer = (key: keyof RelayConfig, min: number): number => {
    const v = value[key] ?? DEFAULTS.relay[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new ConfigError(
        `Invalid ${where}: relay.${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`,
        { source: "file" },
      );
    }
    return v;
  };
  return {
    subscribeTimeoutMs: integer("subscribeTimeoutMs", 1),
    maxQueuedGroups: integer("maxQueuedGroups", 1),
    maxRequestId: integer("maxRequestId", 1),
  };
}

function parseHttp(value: unknown, configPath: string): HttpConfig {
  if (value === undefined) return { ...DEFAULTS.http };
  const where = `config file "${configPath}"`;
  if (!isPlainObject(value)) {
    throw new ConfigError(`Invalid ${where}: "http" must be an object`, { source: "file" });
  }
  rejectUnknownKeys(value, HTTP_KEYS, where, "http.");
  const integer = (key: keyof HttpConfig): number => {
    const v = value[key] ?? DEFAULTS.http[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw new ConfigError(
        `Invalid ${where}: http.${key} must be an integer >= 1, got ${JSON.stringify(v)}`,
        { source: "file" },
      );
    }
    return v;
  };
  return { headerTimeoutMs: integer("headerTimeoutMs"), idleTimeoutMs: integer("idleTimeoutMs") };
}

async function parseAuth(
  value: unknown,
  envSecret: string | undefined,
  { configPath, baseDir }: { configPath: string; baseDir: string },
): Promise<AuthConfig | undefined> {
  if (value === undefined && envSecret === undefined) return undefined;
  const where = `config file "${configPath}"`;
  const fail = (message: string, cause?: unknown) =>
    new ConfigError(`Invalid ${where}: auth.${message}`, { source: "file", cause });
  if (value !== undefined && !isPlainObject(value)) {
    throw new ConfigError(`Invalid ${where}: "auth" must be an object`, { source: "file" });
  }
  const section = value ?? {};
  rejectUnknownKeys(section, AUTH_KEYS, where, "auth.");
  const auth: {
    hs256Secret?: string;
    es256PublicKeys?: string[];
    issuer?: string;
    audience?: string | string[];
  } = {};

  const secret = envSecret ?? section.hs256Secret;
  if (secret !== undefined) {
    const from = envSecret !== undefined ? "env" : "file";
    try {
      if (typeof secret !== "string") throw new TypeError("expected a string");
      hs256Key(secret);
    } catch (cause) {
      const message = (cause as Error).message;
      if (from === "env") {
        throw new ConfigError(`Invalid CLUTCHCALL_AUTH_HS256_SECRET: ${message}`, {
          source: "env",
          cause,
        });
      }
      throw fail(`hs256Secret: ${message}`, cause);
    }
    auth.hs256Secret = secret;
  }

  const keys = section.es256PublicKeys;
  if (keys !== undefined) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw fail("es256PublicKeys must be a non-empty array");
    }
    auth.es256PublicKeys = [];
    for (const [i, entry] of keys.entries()) {
      const at = `es256PublicKeys[${i}]`;
      let text: string;
      if (isPlainObject(entry)) {
        text = JSON.stringify(entry);
      } else if (typeof entry === "string" && entry !== "") {
        const inline = /^\s*(-----BEGIN|\{)/.test(entry);
        try {
          text = inline ? entry : await Deno.readTextFile(resolve(baseDir, entry));
        } catch (cause) {
          throw fail(`${at}: cannot read key file "${entry}": ${(cause as Error).message}`, cause);
        }
      } else {
        throw fail(`${at} must be PEM or JWK text, a JWK object or a file path`);
      }
      try {
        await importEs256PublicKey(text);
      } catch (cause) {
        throw fail(`${at}: ${(cause as Error).message}`, cause);
      }
      auth.es256PublicKeys.push(text);
    }
  }

  if (section.issuer !== undefined) {
    if (typeof section.issuer !== "string" || section.issuer === "") {
      throw fail("issuer must be a non-empty string");
    }
    auth.issuer = section.issuer;
  }
  const audience = section.audience;
  if (audience !== undefined) {
    const ok = (typeof audience === "string" && audience !== "") ||
      (Array.isArray(audience) && audience.length > 0 &&
        audience.every((a) => typeof a === "string" && a !== ""));
    if (!ok) throw fail("audience must be a non-empty string or array of strings");
    auth.audience = audience as string | string[];
  }
  if (auth.hs256Secret === undefined && auth.es256PublicKeys === undefined) {
    throw fail(
      "hs256Secret or es256PublicKeys is required (remove the auth section for development mode)",
    );
  }
  return auth;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
