/**
 * The recorder's options, as given in the server configuration, and their validation.
 *
 * @module
 */
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

/**
 * Validates options and fills in defaults.
 *
 * @throws {TypeError} on an unknown option or a value of the wrong type.
 * @throws {RangeError} on a value out of range.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseRecorderOptions } from "./options.ts";
 * assertEquals(parseRecorderOptions({ ogg: true }).sampleRate, 16000);
 * ```
 */
export function parseRecorderOptions(input: unknown): ResolvedRecorderOptions {
  const options = input ?? {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError("Invalid recorder options: expected an object");
  }
  const known = ["sampleRate", "ogg", "flushIntervalMs", "reorderMs", "lingerMs", "sync"];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`Invalid recorder options: unknown option "${unknown[0]}"`);
  }
  const {
    sampleRate = 16000,
    ogg = false,
    flushIntervalMs = 500,
    reorderMs = 200,
    lingerMs = 1000,
    sync = true,
  } = options as RecorderOptions;
  if (!RESAMPLER_RATES.includes(sampleRate as ResamplerRate)) {
    throw new RangeError(
      `Invalid recorder option sampleRate: ${sampleRate} (use ${RESAMPLER_RATES.join(", ")})`,
    );
  }
  if (typeof ogg !== "boolean") throw new TypeError("Invalid recorder option ogg: not a boolean");
  if (typeof sync !== "boolean") throw new TypeError("Invalid recorder option sync: not a boolean");
  const range = (name: string, value: unknown, min: number, max: number): number => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(`Invalid recorder option ${name}: ${value} (use ${min}–${max})`);
    }
    return value;
  };
  return {
    sampleRate: sampleRate as ResamplerRate,
    ogg,
    flushIntervalMs: range("flushIntervalMs", flushIntervalMs, 50, 1000),
    reorderMs: range("reorderMs", reorderMs, 0, 500),
    lingerMs: range("lingerMs", lingerMs, 0, 60_000),
    sync,
  };
}
