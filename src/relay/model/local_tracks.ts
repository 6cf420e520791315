/**
 * {@linkcode LocalTracks}: publishing and subscribing to tracks from inside the relay's
 * process, the one interface an {@linkcode Origin}, a plugin's context and a bridge share.
 *
 * @module
 */
import type { TrackConsumer, TrackInfo, TrackProducer } from "./track.ts";

/** Options for a subscription in this process ({@linkcode LocalTracks.subscribe}). */
export interface SubscribeOptions {
  /** Overrides the origin's wait bound for this request. */
  readonly timeoutMs?: number;
  /** Aborts the wait. */
  readonly signal?: AbortSignal;
}

/**
 * Tracks published and subscribed in this process. {@linkcode Origin} implements it, a
 * plugin's context extends it, and `attach()` accepts it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type LocalTracks, Origin } from "@clutchcall/voice/relay";
 *
 * const tracks: LocalTracks = new Origin();
 * const uplink = tracks.publishTrack({ namespace: ["voice", "CA1"], name: "uplink" });
 * const reader = await tracks.subscribe(["voice", "CA1"], "uplink");
 * uplink.appendGroup().write({ id: 0, payload: Uint8Array.of(7) });
 * assertEquals((await (await reader.nextGroup())?.readObject())?.payload, Uint8Array.of(7));
 * ```
 */
export interface LocalTracks {
  /** Publishes a track pushed from this process, tagged with its capability. */
  publishTrack(info: TrackInfo): TrackProducer;
  /** Subscribes to a track; waits for it to appear within the origin's bound. */
  subscribe(
    namespace: readonly string[],
    name: string,
    options?: SubscribeOptions,
  ): Promise<TrackConsumer>;
}
