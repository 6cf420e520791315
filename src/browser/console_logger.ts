/**
 * A {@linkcode Logger} writing to the browser console (the server's logger writes to
 * Deno's stdout, which a page has not).
 *
 * @module
 */
import type { LogFields, Logger, LogLevel } from "../log/logger.ts";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A console logger at `level` with `fields` on every record.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "./console_logger.ts";
 * const log = consoleLogger("warn").child({ component: "moq" });
 * log.debug("not written");
 * ```
 */
export function consoleLogger(level: LogLevel = "warn", fields: LogFields = {}): Logger {
  const write = (at: LogLevel, msg: string, more?: LogFields) => {
    if (RANK[at] < RANK[level]) return;
    const method = at === "debug" ? "debug" : at === "info" ? "info" : at;
    console[method](`[clutchcall] ${msg}`, { ...fields, ...more });
  };
  return {
    level,
    enabled: (at) => RANK[at] >= RANK[level],
    debug: (msg, more) => write("debug", msg, more),
    info: (msg, more) => write("info", msg, more),
    warn: (msg, more) => write("warn", msg, more),
    error: (msg, more) => write("error", msg, more),
    child: (more) => consoleLogger(level, { ...fields, ...more }),
  };
}
