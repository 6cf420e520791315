/**
 * The server process: configuration, logging, the development certificate, the HTTP app and
 * {@linkcode VoiceServer}, which ties the relay, the plugin host and HTTP together.
 *
 * @example
 * ```ts ignore
 * import { createLogger, loadConfig, VoiceServer } from "./mod.ts";
 * const config = await loadConfig(["--http-port", "0", "--moq-port", "0"], {});
 * await using server = await VoiceServer.start(config, createLogger());
 * ```
 *
 * @module
 */
export * from "./certificate.ts";
export * from "./config.ts";
export * from "./http.ts";
export * from "./log.ts";
export * from "./server.ts";
