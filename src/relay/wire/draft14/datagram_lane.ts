/**
 * The opt-in datagram lane of a track, negotiated per subscription with a version-specific
 * message parameter (an even type, so a number, from a range draft-14 does not assign; peers
 * that do not know it skip it, §9.2.2, and so never opt in).
 *
 * - In PUBLISH and SUBSCRIBE_OK, from the publisher: "this track's objects go out as
 *   OBJECT_DATAGRAMs" (PUBLISH: offered; SUBSCRIBE_OK: will be, because the SUBSCRIBE accepted).
 * - In SUBSCRIBE and PUBLISH_OK, from the subscriber: "I accept this track as datagrams".
 *
 * A publisher sends a track as datagrams to one subscriber only when it offers the lane and
 * that subscriber accepted it; every other subscriber gets the reliable, ordered group streams.
 *
 * @module
 */
import type { Parameters } from "./parameters.ts";

/** Parameter type of the datagram lane (even: its value is a number, 1 = on). */
export const DATAGRAM_LANE_PARAMETER = 0x3c6;

/**
 * `params` with the datagram lane set when `on` (a copy; `params` is not changed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { readDatagramLane, withDatagramLane } = draft14;
 * assertEquals(readDatagramLane(withDatagramLane(new Map(), true)), true);
 * assertEquals(withDatagramLane(new Map(), false).size, 0);
 * ```
 */
export function withDatagramLane(params: Parameters, on: boolean | undefined): Parameters {
  const out: Parameters = new Map(params);
  if (on) out.set(DATAGRAM_LANE_PARAMETER, 1);
  return out;
}

/**
 * Whether `params` carries the datagram lane (value 1; anything else is off).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { DATAGRAM_LANE_PARAMETER, readDatagramLane } = draft14;
 * assertEquals(readDatagramLane(new Map([[DATAGRAM_LANE_PARAMETER, 2]])), false);
 * ```
 */
export function readDatagramLane(params: Parameters): boolean {
  return params.get(DATAGRAM_LANE_PARAMETER) === 1;
}
