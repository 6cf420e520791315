/**
 * The recorder's options, as given in the server configuration, and their validation.
 *
 * @module
 */
import { z } from "zod";
import { RESAMPLER_RATES, type ResamplerRate } from "../../codecs/resampler.ts";

/**
 * Options of the recorder plugin (the `options` of its config entry).
 *
 * @example
 * ```ts
 * import type { RecorderOptions } from "./options.ts";
 * const options: RecorderOptions = { sampleRate: 16000, ogg: true };
 * ```
 */
export interface RecorderOptions {
  /**
   * The rate of every WAV, 8000, 16000, 24000 or 48000 (default 16000). One fixed rate,
   * not one picked from the tracks: a crash-safe file has its header on disk within the
   * first second, before a call's second track may even exist, so the rate cannot wait
   * for it. 16 kHz keeps G.711 (8 kHz) and PCM16 (16 kHz) whole and Opus wideband; set
   * 48000 to keep full-band Opus.
   */
  readonly sampleRate?: number;
  /** Also write each Opus track, untranscoded, to `<sid>.<track>.opus` (default false). */
  readonly ogg?: boolean;
  /** How often data goes to disk, in ms, 50–1000 (default 500). */
  readonly flushIntervalMs?: number;
  /** How long a flush waits for a lagging track, in ms, 0–500 (default 200). */
  readonly reorderMs?: number;
  /** How long after a call's last track ended its recording is closed, in ms (default 1000). */
  readonly lingerMs?: number;
  /** `fdatasync` after each flush, so a power loss keeps the data too (default true). */
  readonly sync?: boolean;
}

/**
 * Options with every default filled in.
 *
 * @example
 * ```ts
 * import { parseRecorderOptions, type ResolvedRecorderOptions } from "./options.ts";
 * const resolved: ResolvedRecorderOptions = parseRecorderOptions({});
 * ```
 */
export type ResolvedRecorderOptions = Required<RecorderOptions> & { sampleRate: ResamplerRate };

const range = (name: string, min: number, max: number, fallback: number) =>
  z.number({ error: (iss) => `Invalid recorder option ${name}: ${iss.input} (use ${min}–${max})` })
    .min(min, {
      error: (iss) => `Invalid recorder option ${name}: ${iss.input} (use ${min}–${max})`,
    })
    .max(max, {
      error: (iss) => `Invalid recorder option ${name}: ${iss.input} (use ${min}–${max})`,
    })
    .default(fallback);
const flag = (name: string, fallback: boolean) =>
  z.boolean({ error: `Invalid recorder option ${name}: not a boolean` }).default(fallback);

/**
 * The zod schema of the recorder's options (strict: an unknown option is an error); the
 * server's config schema checks a `builtin:recorder` entry's options with it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { recorderOptionsSchema } from "./options.ts";
 * assertEquals(recorderOptionsSchema.parse({ ogg: true }).sampleRate, 16000);
 * ```
 */
export const recorderOptionsSchema: z.ZodType<ResolvedRecorderOptions, RecorderOptions> = z
  .strictObject({
    sampleRate: z.literal(RESAMPLER_RATES, {
      error: (iss) =>
        `Invalid recorder option sampleRate: ${iss.input} (use ${RESAMPLER_RATES.join(", ")})`,
    }).default(16000).describe("The rate of every WAV: 8000, 16000, 24000 or 48000."),
    ogg: flag("ogg", false).describe("Also write each Opus track, untranscoded, to an .opus file."),
    flushIntervalMs: range("flushIntervalMs", 50, 1000, 500).describe(
      "How often data goes to disk, in ms.",
    ),
    reorderMs: range("reorderMs", 0, 500, 200).describe(
      "How long a flush waits for a lagging track, in ms.",
    ),
    lingerMs: range("lingerMs", 0, 60_000, 1000).describe(
      "How long after a call's last track ended its recording is closed, in ms.",
    ),
    sync: flag("sync", true).describe("fdatasync after each flush."),
  }, { error: "Invalid recorder options: expected an object" }) as unknown as z.ZodType<
    ResolvedRecorderOptions,
    RecorderOptions
  >;

/**
 * Validates options and fills in defaults.
 *
 * @throws {TypeError} on an unknown option or a value of the wrong type or out of range.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseRecorderOptions } from "./options.ts";
 * assertEquals(parseRecorderOptions({ ogg: true }).sampleRate, 16000);
 * ```
 */
export function parseRecorderOptions(input: unknown): ResolvedRecorderOptions {
  const result = recorderOptionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new TypeError(
    issue.code === "unrecognized_keys"
      ? `Invalid recorder options: unknown option "${issue.keys[0]}"`
      : issue.message,
    { cause: result.error },
  );
}
