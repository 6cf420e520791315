/**
 * A small structured logger.
 *
 * When stdout is not a terminal (containers, CI, log shippers) every record is one JSON line:
 *
 * ```text
 * {"ts":"2030-01-01T00:00:00.000Z","level":"info","msg":"Relay listening","port":4443}
 * ```
 *
 * On a terminal it is a readable line instead:
 *
 * ```text
 * 2030-01-01T00:00:00.000Z INFO  Relay listening port=4443
 * ```
 *
 * Errors in fields are serialized with `name`, `message`, `stack` (and `code`/`cause` when
 * present); on a terminal their stack follows the line, indented.
 *
 * @module
 */

/**
 * Log levels, least severe first.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "@clutchcall/voice/log";
 *
 * const valid = (LOG_LEVELS as readonly string[]).includes("warn"); // true
 * ```
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * A log level.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "@clutchcall/voice/log";
 *
 * const level: LogLevel = "debug";
 * ```
 */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * Structured context attached to a record.
 *
 * @example
 * ```ts
 * import type { LogFields } from "@clutchcall/voice/log";
 *
 * const fields: LogFields = { session: "s-42", track: "voice/abc/audio" };
 * ```
 */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One record as handed to a {@linkcode LogSink}.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "@clutchcall/voice/log";
 *
 * const record: LogRecord = { ts: "2030-01-01T00:00:00.000Z", level: "info", msg: "Up", fields: {} };
 * ```
 */
export interface LogRecord {
  /** ISO 8601 timestamp. */
  readonly ts: string;
  /** The record's level. */
  readonly level: LogLevel;
  /** The message: a sentence-case event description without a trailing period. */
  readonly msg: string;
  /** The logger's and the call's fields, merged (the call's win). */
  readonly fields: LogFields;
}

/**
 * Receives each formatted record. An implementation MUST NOT throw; it receives `line`
 * without a trailing newline.
 *
 * @example
 * ```ts
 * import { createLogger, type LogSink } from "@clutchcall/voice/log";
 *
 * const lines: string[] = [];
 * const sink: LogSink = (line) => lines.push(line);
 * createLogger({ sink, json: true }).info("Captured");
 * ```
 */
export type LogSink = (line: string, record: LogRecord) => void;

/**
 * Options for {@linkcode createLogger}.
 *
 * @example
 * ```ts
 * import { createLogger, type LoggerOptions } from "@clutchcall/voice/log";
 *
 * const options: LoggerOptions = { level: "debug", json: false, fields: { service: "voice" } };
 * const log = createLogger(options);
 * ```
 */
export interface LoggerOptions {
  /** The least severe level written. Default: `"info"`. */
  readonly level?: LogLevel;
  /** JSON lines (true) or readable lines (false). Default: true unless stdout is a terminal. */
  readonly json?: boolean;
  /** Where lines go. Default: stdout. */
  readonly sink?: LogSink;
  /** Fields attached to every record. */
  readonly fields?: LogFields;
  /** The clock, in ms since the epoch (tests inject it). Default: `Date.now`. */
  readonly clock?: () => number;
}

/**
 * A structured logger from {@linkcode createLogger}.
 *
 * @example
 * ```ts
 * import { createLogger, type Logger } from "@clutchcall/voice/log";
 *
 * function relayLogger(log: Logger, relayId: string): Logger {
 *   return log.child({ component: "relay", relayId });
 * }
 * const log = relayLogger(createLogger(), "r1");
 * if (log.enabled("debug")) log.debug("State", { snapshot: JSON.stringify({}) });
 * ```
 */
export interface Logger {
  /** The least severe level this logger writes. */
  readonly level: LogLevel;
  /** True when a record at `level` would be written; guard expensive fields with it. */
  enabled(level: LogLevel): boolean;
  /** Writes a `debug` record: detail for developers, off by default. */
  debug(msg: string, fields?: LogFields): void;
  /** Writes an `info` record: normal lifecycle events. */
  info(msg: string, fields?: LogFields): void;
  /** Writes a `warn` record: something degraded but handled. */
  warn(msg: string, fields?: LogFields): void;
  /** Writes an `error` record (always written): a failure; put the error in `fields`. */
  error(msg: string, fields?: LogFields): void;
  /** A logger writing to the same sink with `fields` added to every record. */
  child(fields: LogFields): Logger;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
const RESERVED = new Set(["ts", "level", "msg"]);

/**
 * Creates a structured logger. Records below `level` cost one comparison. Logging never throws:
 * unserializable fields (cycles, bigints, symbols) are rendered as strings.
 *
 * A field named `ts`, `level` or `msg` is written as `_ts`, `_level` or `_msg` so it cannot
 * overwrite the record's own.
 *
 * @example
 * ```ts
 * import { createLogger } from "@clutchcall/voice/log";
 *
 * const log = createLogger({ level: "info" });
 * const session = log.child({ session: "s-42" });
 * session.info("Subscriber joined", { track: "voice/abc/audio" });
 * session.debug("Not written at level info", { expensive: "skipped" });
 * try {
 *   throw new TypeError("Bad frame");
 * } catch (error) {
 *   session.error("Cannot forward object", { error });
 * }
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const {
    level = "info",
    json = !isStdoutTerminal(),
    sink = writeToStdout,
    fields = {},
    clock = Date.now,
  } = options;
  if (!Object.hasOwn(RANK, level)) {
    throw new TypeError(`Cannot create logger: unknown level "${level}"`);
  }
  return new StructuredLogger({ level, json, sink, clock }, fields);
}

interface Shared {
  readonly level: LogLevel;
  readonly json: boolean;
  readonly sink: LogSink;
  readonly clock: () => number;
}

class StructuredLogger implements Logger {
  readonly #shared: Shared;
  readonly #rank: number;
  readonly #fields: LogFields;

  constructor(shared: Shared, fields: LogFields) {
    this.#shared = shared;
    this.#rank = RANK[shared.level];
    this.#fields = fields;
  }

  get level(): LogLevel {
    return this.#shared.level;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#rank <= 0) this.#write("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#rank <= 1) this.#write("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#rank <= 2) this.#write("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  child(fields: LogFields): Logger {
    return new StructuredLogger(this.#shared, { ...this.#fields, ...fields });
  }

  #write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const { json, sink, clock } = this.#shared;
    try {
      const merged = fields ? { ...this.#fields, ...fields } : this.#fields;
      const record: LogRecord = { ts: new Date(clock()).toISOString(), level, msg, fields: merged };
      sink(json ? formatJson(record) : formatPretty(record), record);
    } catch {
      // A logger must never take the process down.
    }
  }
}

/** Formats a record as one JSON line. */
function formatJson(record: LogRecord): string {
  const out: Record<string, unknown> = { ts: record.ts, level: record.level, msg: record.msg };
  for (const [key, value] of Object.entries(record.fields)) {
    out[RESERVED.has(key) ? `_${key}` : key] = value;
  }
  return safeStringify(out);
}

/** Formats a record as a readable line, followed by indented stacks of any errors. */
function formatPretty(record: LogRecord): string {
  let line = `${record.ts} ${record.level.toUpperCase().padEnd(5)} ${record.msg}`;
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(record.fields)) {
    if (value instanceof Error) {
      line += ` ${key}=${quote(`${value.name}: ${value.message}`)}`;
      if (value.stack) stacks.push(indent(value.stack));
    } else {
      const text = typeof value === "string" ? value : safeStringify(value);
      line += ` ${key}=${quote(text)}`;
    }
  }
  return stacks.length === 0 ? line : [line, ...stacks].join("\n");
}

function quote(text: string): string {
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

function indent(stack: string): string {
  return stack.split("\n").map((l) => `    ${l.trimStart()}`).join("\n");
}

/** `JSON.stringify` that serializes errors, bigints and cycles instead of throwing. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const json = JSON.stringify(value, function (_key, v: unknown) {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "symbol" || typeof v === "function") return String(v);
    if (v !== null && typeof v === "object") {
      if (seen.has(v)) return "[Circular]";
      seen.add(v);
      if (v instanceof Error) return serializeError(v);
    }
    return v;
  });
  return json ?? "null";
}

function serializeError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: error.name,
    message: error.message,
    stack: error.stack,
  };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.cause !== undefined) out.cause = error.cause;
  return out;
}

function isStdoutTerminal(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

function writeToStdout(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
