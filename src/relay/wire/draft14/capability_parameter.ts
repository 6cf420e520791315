/**
 * How a track's capability tag travels in draft-14: as a version-specific message
 * parameter of PUBLISH and SUBSCRIBE_OK, with an odd type (so its value is length-prefixed
 * bytes) from a range draft-14 does not assign. Draft-14 peers skip parameters they do not
 * know (§9.2.2), so `@moq/net` and other implementations ignore it.
 *
 * @module
 */
import type { Parameters } from "./parameters.ts";

/** Parameter type of the capability tag (odd: a length-prefixed UTF-8 value). */
export const CAPABILITY_PARAMETER = 0x3c5;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parameters carrying `capability`, or empty when there is none.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { capabilityParameters, readCapability } from "./capability_parameter.ts";
 * assertEquals(readCapability(capabilityParameters("voice/opus")), "voice/opus");
 * ```
 */
export function capabilityParameters(capability: string | undefined): Parameters {
  const params: Parameters = new Map();
  if (capability) params.set(CAPABILITY_PARAMETER, encoder.encode(capability));
  return params;
}

/** The capability tag in `params`, or undefined when absent or not valid UTF-8. */
export function readCapability(params: Parameters): string | undefined {
  const value = params.get(CAPABILITY_PARAMETER);
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    return decoder.decode(value);
  } catch {
    return undefined; // not UTF-8: a capability we cannot read is no capability
  }
}
