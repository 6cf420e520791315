/**
 * The codec names of the voice path and the capability tags that carry them
 * (`voice/opus`, `voice/pcm16`, `voice/g711_ulaw`, `voice/g711_alaw`).
 *
 * @module
 */

/**
 * A codec a voice track can carry.
 *
 * @example
 * ```ts
 * import type { Codec } from "./codec.ts";
 * const codec: Codec = "g711_ulaw";
 * ```
 */
export type Codec = "pcm16" | "g711_ulaw" | "g711_alaw" | "opus";
/**
 * A capability tag naming a codec.
 *
 * @example
 * ```ts
 * import type { VoiceCapability } from "./codec.ts";
 * const tag: VoiceCapability = "voice/opus";
 * ```
 */
export type VoiceCapability = `voice/${Codec}`;

/**
 * Every codec, in the order a peer should prefer them (Opus first, raw PCM last).
 *
 * @example
 * ```ts
 * import { CODECS } from "./codec.ts";
 * console.assert(CODECS[0] === "opus");
 * ```
 */
export const CODECS: readonly Codec[] = ["opus", "g711_ulaw", "g711_alaw", "pcm16"];

/**
 * True when `value` names a codec.
 *
 * @example
 * ```ts
 * import { isCodec } from "./codec.ts";
 * console.assert(isCodec("opus") && !isCodec("g729"));
 * ```
 */
export function isCodec(value: unknown): value is Codec {
  return typeof value === "string" && (CODECS as readonly string[]).includes(value);
}

/**
 * The capability tag of a codec.
 *
 * @throws {RangeError} for an unknown codec name.
 *
 * @example
 * ```ts
 * import { capabilityOf } from "./codec.ts";
 * console.assert(capabilityOf("g711_ulaw") === "voice/g711_ulaw");
 * ```
 */
export function capabilityOf(codec: Codec): VoiceCapability {
  if (!isCodec(codec)) throw new RangeError(`Unknown codec: ${String(codec)}`);
  return `voice/${codec}`;
}

/**
 * The codec a capability tag names.
 *
 * @throws {RangeError} when the tag is not `voice/<codec>` for a known codec.
 *
 * @example
 * ```ts
 * import { codecOf } from "./codec.ts";
 * console.assert(codecOf("voice/opus") === "opus");
 * ```
 */
export function codecOf(capability: string): Codec {
  const codec = capability.startsWith("voice/") ? capability.slice("voice/".length) : undefined;
  if (!isCodec(codec)) throw new RangeError(`Unknown voice capability: ${capability}`);
  return codec;
}
