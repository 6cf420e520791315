/**
 * The zod schema of each built-in plugin's `options`, by its `module` specifier: the
 * server's config schema checks a `builtin:<name>` entry's options with it when the config
 * is loaded (not only when the plugin starts), and the JSON Schema for editors includes it.
 *
 * @module
 */
import type { z } from "zod";
import { recorderOptionsSchema } from "./recorder/options.ts";
import { asrTapOptionsSchema } from "./asr-tap/options.ts";

/**
 * `builtin:<name>` → the schema of that plugin's options.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { BUILTIN_PLUGIN_OPTIONS } from "./builtin_options.ts";
 * const asrTap = BUILTIN_PLUGIN_OPTIONS["builtin:asr-tap"];
 * assertEquals(asrTap.safeParse({ provider: "deepgram" }).success, true);
 * assertEquals(asrTap.safeParse({ provider: "nobody" }).success, false);
 * ```
 */
export const BUILTIN_PLUGIN_OPTIONS: Readonly<Record<string, z.ZodType>> = Object.freeze({
  "builtin:recorder": recorderOptionsSchema,
  "builtin:asr-tap": asrTapOptionsSchema,
});
