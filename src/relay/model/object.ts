/**
 * One MoQT object: an opaque payload, its timestamp, and the opaque extension headers that
 * travel with it. The relay never looks inside the payload or the headers.
 *
 * @module
 */

/**
 * An object within a group. For ClutchCall tracks one object is one encoded audio frame and
 * `timestamp` its capture time.
 *
 * @example
 * ```ts
 * import type { MoqObject } from "@clutchcall/voice/relay";
 * const obj: MoqObject = { id: 0, payload: new Uint8Array(160), timestamp: 1_700_000_000_000_000 };
 * ```
 */
export interface MoqObject {
  /** Object id within its group, increasing. */
  readonly id: number;
  /** The opaque payload. */
  readonly payload: Uint8Array;
  /**
   * The object's timestamp, in its track's timescale (voice tracks: the capture time in µs
   * since the Unix epoch), as moq-lite's `Frame` has its timestamp. Each wire dialect carries
   * it its own way (draft-14: the TIMESTAMP extension header 0x10).
   */
  readonly timestamp?: number;
  /** The other extension headers, as encoded on the wire, passed through untouched. */
  readonly extensions?: Uint8Array;
  /**
   * The publisher sent it unreliably (a MoQT datagram) rather than on a group stream; a relay
   * forwards it the same way.
   */
  readonly datagram?: boolean;
}
