/**
 * A shard Worker's log records, carried to the main thread's logger: a Worker has no access to
 * the server's sink (a custom sink is a function of the main thread), so its logger posts each
 * record, and the pool writes it through the logger it was given (same sink, same format, the
 * Worker's `shard` field kept).
 *
 * Structured clone keeps plain data and errors, but not an error's own fields (`code`) or its
 * class name, and throws on functions and symbols: errors are carried as their parts and
 * revived, other values that cannot be cloned as text.
 *
 * @module
 */
import type { LogFields, Logger, LogLevel, LogRecord, LogSink } from "../../log/mod.ts";

/** A log record as posted from a shard Worker (structured-clone data only). */
export interface ShardLogMessage {
  readonly type: "log";
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

interface ErrorParts {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: unknown;
  readonly cause?: unknown;
}

const ERROR_TAG = "__shardLogError";

/**
 * A {@linkcode LogSink} that posts each record with `post` (a Worker's `self.postMessage`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createLogger } from "../../log/mod.ts";
 * import { forwardingSink, type ShardLogMessage } from "./log_forward.ts";
 *
 * const posted: ShardLogMessage[] = [];
 * const log = createLogger({ sink: forwardingSink((m) => posted.push(m)), fields: { shard: 1 } });
 * log.warn("Refused", { error: new TypeError("bad token") });
 * assertEquals(posted[0].msg, "Refused");
 * assertEquals(posted[0].fields.shard, 1);
 * ```
 */
export function forwardingSink(post: (message: ShardLogMessage) => void): LogSink {
  return (_line: string, record: LogRecord) => {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record.fields)) fields[key] = encode(value);
    const message: ShardLogMessage = { type: "log", level: record.level, msg: record.msg, fields };
    try {
      post(message);
    } catch {
      // Something in the fields cannot be cloned (a function, a symbol deep inside): as text.
      const text: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields)) text[key] = cloneable(value);
      post({ ...message, fields: text });
    }
  };
}

/**
 * Writes a record a shard Worker posted through `log`, at its level, with its fields (the
 * errors in them revived).
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { createLogger } from "../../log/mod.ts";
 * import { forwardingSink, type ShardLogMessage, writeShardLog } from "./log_forward.ts";
 *
 * const lines: string[] = [];
 * const main = createLogger({ json: true, sink: (line) => lines.push(line) });
 * let posted: ShardLogMessage | undefined;
 * createLogger({ sink: forwardingSink((m) => posted = m), fields: { shard: 1 } })
 *   .error("Lost", { error: new RangeError("gone") });
 * writeShardLog(main, structuredClone(posted!));
 * const line = JSON.parse(lines[0]);
 * assertEquals([line.msg, line.shard, line.error.name], ["Lost", 1, "RangeError"]);
 * assert(line.error.stack.includes("gone"));
 * ```
 */
export function writeShardLog(log: Logger, message: ShardLogMessage): void {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.fields)) fields[key] = decode(value);
  const write: Record<LogLevel, (msg: string, fields: LogFields) => void> = {
    debug: (msg, f) => log.debug(msg, f),
    info: (msg, f) => log.info(msg, f),
    warn: (msg, f) => log.warn(msg, f),
    error: (msg, f) => log.error(msg, f),
  };
  (write[message.level] ?? write.error)(message.msg, fields);
}

function encode(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const parts: ErrorParts = {
    name: value.name,
    message: value.message,
    stack: value.stack,
    code: (value as { code?: unknown }).code,
    cause: depth < 4 && value.cause !== undefined ? encode(value.cause, depth + 1) : undefined,
  };
  return { [ERROR_TAG]: parts };
}

function decode(value: unknown): unknown {
  const parts = (value as Record<string, unknown> | null)?.[ERROR_TAG] as ErrorParts | undefined;
  if (typeof value !== "object" || parts === undefined) return value;
  const error = new Error(parts.message);
  error.name = parts.name;
  error.stack = parts.stack;
  if (parts.code !== undefined) (error as { code?: unknown }).code = parts.code;
  if (parts.cause !== undefined) error.cause = decode(parts.cause);
  return error;
}

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
}
