/**
 * One MoQT object: an opaque payload and the opaque extension headers that travel with
 * it. The relay never looks inside either.
 *
 * @module
 */

/**
 * An object within a group. For ClutchCall tracks one object is one encoded audio frame,
 * and the capture timestamp travels in `extensions`.
 *
 * @example
 * ```ts
 * import type { MoqObject } from "./object.ts";
 * const obj: MoqObject = { id: 0, payload: new Uint8Array(160) };
 * ```
 */
export interface MoqObject {
  /** Object id within its group, increasing. */
  readonly id: number;
  /** The opaque payload. */
  readonly payload: Uint8Array;
  /** Extension headers as encoded on the wire, passed through untouched. */
  readonly extensions?: Uint8Array;
  /**
   * The publisher sent it unreliably (a MoQT datagram) rather than on a group stream; a relay
   * forwards it the same way.
   */
  readonly datagram?: boolean;
}
