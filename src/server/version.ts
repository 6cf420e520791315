/**
 * The server's version: the package version in `deno.json`, printed by `--version` and
 * reported by `GET /healthz`.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

/**
 * The package version, e.g. `0.1.0`.
 *
 * @example
 * ```ts
 * import { assertMatch } from "@std/assert";
 * import { VERSION } from "@clutchcall/voice/server";
 * assertMatch(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = denoJson.version;
