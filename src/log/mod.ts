/**
 * Structured logging: the ground floor every other module may import. It imports nothing of
 * ours, so the relay, codecs, RTP and SIP layers can log without reaching up into the server.
 *
 * ```ts
 * import { createLogger } from "@clutchcall/voice/log";
 * import { assertEquals } from "@std/assert";
 *
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", sink: (line) => lines.push(line) });
 * log.debug("hidden");
 * log.info("call started", { sid: "CA1" });
 * assertEquals(lines.length, 1);
 * ```
 *
 * @module
 */
export * from "./logger.ts";
