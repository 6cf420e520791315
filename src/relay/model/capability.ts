/**
 * Capability patterns: how in-process consumers say which tracks they want. A pattern is
 * an exact tag (`voice/pcm16`), a prefix ending in `/*` (`voice/*`), or `*` (everything).
 * The relay compares strings only; it never knows what a tag means.
 *
 * @module
 */

/**
 * A validated capability pattern.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseCapabilityPattern } from "@clutchcall/voice/relay";
 * const p = parseCapabilityPattern("voice/*");
 * assertEquals([p.matches("voice/opus"), p.matches("video/h264")], [true, false]);
 * ```
 */
export interface CapabilityPattern {
  /** The pattern as given. */
  readonly source: string;
  /** True when `capability` is one this pattern selects. */
  matches(capability: string | undefined): boolean;
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9._+-]*(\/[A-Za-z0-9][A-Za-z0-9._+-]*)*$/;

/** True when `tag` is a well-formed capability tag such as `voice/opus`. */
export function isCapabilityTag(tag: string): boolean {
  return tag.length <= 255 && TAG.test(tag);
}

/**
 * Parses a capability pattern; throws `TypeError` for a malformed one.
 *
 * @example
 * ```ts
 * import { parseCapabilityPattern } from "@clutchcall/voice/relay";
 * parseCapabilityPattern("voice/pcm16").matches("voice/pcm16"); // true
 * ```
 */
export function parseCapabilityPattern(pattern: string): CapabilityPattern {
  if (pattern === "*") return { source: pattern, matches: (c) => c !== undefined };
  if (pattern.endsWith("/*")) {
    const prefix = pattern.slice(0, -1);
    if (!isCapabilityTag(prefix.slice(0, -1))) {
      throw new TypeError(`Cannot parse capability pattern: "${pattern}" is malformed`);
    }
    return { source: pattern, matches: (c) => c !== undefined && c.startsWith(prefix) };
  }
  if (!isCapabilityTag(pattern)) {
    throw new TypeError(`Cannot parse capability pattern: "${pattern}" is malformed`);
  }
  return { source: pattern, matches: (c) => c === pattern };
}
