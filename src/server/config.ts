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
import type { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "../log/mod.ts";
import { importEs256PublicKey } from "../auth/keys.ts";
import type { SipConfig } from "../sip/config.ts";
import type { AgentsConfig } from "../agents/config.ts";
import { type ClusterConfig, parseClusterConfig } from "../cluster/config.ts";
import type { WebhooksConfig } from "../calls/url_policy.ts";
import { describeError, firstIssue } from "../config/issue.ts";
import {
  CONFIG_SECTIONS,
  type ConfigFile,
  configFileSchema,
  hs256SecretSchema,
  type HttpConfig,
  type PluginConfig,
  type RelayConfig,
  SETTING_SCHEMAS,
} from "./config_schema.ts";

export type { HttpConfig, PluginConfig, RelayConfig } from "./config_schema.ts";

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
 * import { assertEquals } from "@std/assert";
 * import { loadConfig, type ServerConfig } from "./config.ts";
 *
 * const config: ServerConfig = await loadConfig(["--moq-port", "4443"], {});
 * assertEquals([config.moqPort, config.help], [4443, false]);
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
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { ConfigError, loadConfig, usage } from "./config.ts";
 *
 * // A wrong command line: the caller prints the message, then the usage, and exits 2.
 * const error = await assertRejects(() => loadConfig(["--no-such-flag"], {}), ConfigError);
 * assertEquals(error.usage, usage());
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

/**
 * The `--help` text.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import { usage } from "./config.ts";
 *
 * assertStringIncludes(usage(), "--moq-port");
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
sections (the README's "Configuration" says more; \`deno task config-schema\` writes the
file's JSON Schema, for editors):
${
    Object.entries(CONFIG_SECTIONS).map(([name, { help }]) => `  ${`"${name}"`.padEnd(11)} ${help}`)
      .join("\n")
  }`;
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
 * import { assertEquals } from "@std/assert";
 * import { loadConfig } from "./config.ts";
 *
 * const config = await loadConfig(["--http-port=9000"], { CLUTCHCALL_HOST: "0.0.0.0" });
 * assertEquals([config.host, config.httpPort], ["0.0.0.0", 9000]);
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
  const file = configPath === undefined
    ? configFileSchema.parse({})
    : parseConfigFile(configPath, await readConfigFile(configPath));
  const fileDir = configPath === undefined ? cwd : dirname(configPath);

  /** The winning value of a setting (a flag's or variable's checked by the setting's schema),
   * its source, and the base for relative paths. */
  const pick = <S extends Setting>(setting: S): Picked<S> => {
    const { flag, env: envName } = SETTINGS[setting];
    const fromFlag = flags[flag];
    if (fromFlag !== undefined) return parseSetting(setting, fromFlag, "flag", `--${flag}`);
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return parseSetting(setting, fromEnv, "env", envName);
    const fromFile = file[setting];
    return fromFile === undefined
      ? undefined
      : { value: fromFile as SettingValue<S>, source: "file" };
  };

  const host = pick("host")?.value ?? DEFAULTS.host;
  const httpPort = pick("httpPort")?.value ?? DEFAULTS.httpPort;
  const moqPort = pick("moqPort")?.value ?? DEFAULTS.moqPort;
  const logLevel = pick("logLevel")?.value ?? DEFAULTS.logLevel;
  const pathOf = (setting: "dataDir" | "cert" | "key"): string | undefined => {
    const picked = pick(setting);
    return picked === undefined
      ? undefined
      : resolve(picked.source === "file" ? fileDir : cwd, picked.value);
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
    plugins: file.plugins.map((plugin) => ({
      ...plugin,
      module: resolveModule(plugin.module, fileDir),
    })),
    relay: file.relay,
    http: file.http,
    auth: await resolveAuth(file.auth, envValue("CLUTCHCALL_AUTH_HS256_SECRET"), {
      configPath: configPath ?? "",
      baseDir: fileDir,
    }),
    ...(file.sip === undefined ? {} : { sip: file.sip }),
    ...(file.webhooks === undefined ? {} : { webhooks: file.webhooks }),
    ...(file.agents === undefined ? {} : { agents: Object.freeze(file.agents) }),
    ...clusterSection(file.cluster, env),
  });
}

// --- internals -------------------------------------------------------------------------------

type SettingValue<S extends Setting> = z.output<(typeof SETTING_SCHEMAS)[S]>;
type Picked<S extends Setting> = { value: SettingValue<S>; source: ConfigSource } | undefined;

/** A flag's or variable's text checked by the setting's schema (ports: digits only). */
function parseSetting<S extends Setting>(
  setting: S,
  text: string,
  source: ConfigSource,
  where: string,
): Picked<S> {
  const isPort = setting === "httpPort" || setting === "moqPort";
  const value = isPort && /^\d{1,5}$/.test(text) ? Number(text) : text;
  const result = (SETTING_SCHEMAS[setting] as z.ZodType).safeParse(value);
  if (result.success) return { value: result.data as SettingValue<S>, source };
  const message = result.error.issues[0].message;
  throw new ConfigError(
    `Invalid ${where}: ${message}, got ${JSON.stringify(text)}`,
    { source, cause: result.error },
  );
}

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
  return parsed;
}

/**
 * The `cluster` section with `CLUTCHCALL_REDIS_URL` / `CLUTCHCALL_NODE_ID` merged in (the
 * file's part was checked by the schema already, so what fails here is the environment's).
 */
function clusterSection(
  value: ConfigFile["cluster"],
  env: Readonly<Record<string, string | undefined>>,
): { cluster?: ClusterConfig } {
  try {
    const cluster = parseClusterConfig(value, env);
    return cluster ? { cluster } : {};
  } catch (cause) {
    throw new ConfigError(`Invalid environment: ${(cause as Error).message}`, {
      source: "env",
      cause,
    });
  }
}

/** The file checked by the one schema; the first issue becomes the error. */
function parseConfigFile(path: string, raw: Record<string, unknown>): ConfigFile {
  const result = configFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  const [top] = issue.path;
  if (issue.path.length === 1 && typeof top === "string" && Object.hasOwn(SETTINGS, top)) {
    throw new ConfigError(
      `Invalid "${top}" in ${path}: ${issue.message}, got ${JSON.stringify(raw[top])}`,
      { source: "file", cause: result.error },
    );
  }
  throw new ConfigError(
    `Invalid config file "${path}": ${describeError(configFileSchema, raw, result.error)}`,
    { source: "file", cause: result.error },
  );
}

/** A plugin's `module` as an import specifier: local paths become `file:` URLs. */
function resolveModule(module: string, baseDir: string): string {
  return module.startsWith("./") || module.startsWith("../") || isAbsolute(module)
    ? pathToFileURL(resolve(baseDir, module)).href
    : module;
}

/**
 * The `auth` section with the environment's secret (which wins), key files read and every
 * ES256 key imported once, so a bad key fails at start with its place named.
 */
async function resolveAuth(
  section: ConfigFile["auth"],
  envSecret: string | undefined,
  { configPath, baseDir }: { configPath: string; baseDir: string },
): Promise<AuthConfig | undefined> {
  if (section === undefined && envSecret === undefined) return undefined;
  const fail = (message: string, cause?: unknown) =>
    new ConfigError(`Invalid config file "${configPath}": ${message}`, { source: "file", cause });
  if (envSecret !== undefined) {
    const checked = hs256SecretSchema.safeParse(envSecret);
    if (!checked.success) {
      throw new ConfigError(
        `Invalid CLUTCHCALL_AUTH_HS256_SECRET: ${checked.error.issues[0].message}`,
        { source: "env", cause: checked.error },
      );
    }
  }
  const auth: {
    hs256Secret?: string;
    es256PublicKeys?: string[];
    issuer?: string;
    audience?: string | readonly string[];
  } = {};
  const secret = envSecret ?? section?.hs256Secret;
  if (secret !== undefined) auth.hs256Secret = secret;
  if (section?.es256PublicKeys !== undefined) {
    auth.es256PublicKeys = [];
    for (const [i, entry] of section.es256PublicKeys.entries()) {
      const at = `auth.es256PublicKeys[${i}]`;
      let text: string;
      if (typeof entry !== "string") {
        text = JSON.stringify(entry);
      } else if (/^\s*(-----BEGIN|\{)/.test(entry)) {
        text = entry;
      } else {
        try {
          text = await Deno.readTextFile(resolve(baseDir, entry));
        } catch (cause) {
          throw fail(
            `Invalid ${at}: cannot read key file "${entry}": ${(cause as Error).message}`,
            cause,
          );
        }
      }
      try {
        await importEs256PublicKey(text);
      } catch (cause) {
        throw fail(`Invalid ${at}: ${(cause as Error).message}`, cause);
      }
      auth.es256PublicKeys.push(text);
    }
  }
  if (section?.issuer !== undefined) auth.issuer = section.issuer;
  if (section?.audience !== undefined) auth.audience = section.audience;
  if (auth.hs256Secret === undefined && auth.es256PublicKeys === undefined) {
    throw fail(
      "auth.hs256Secret or es256PublicKeys is required (remove the auth section for development mode)",
    );
  }
  return auth;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
