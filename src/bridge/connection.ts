/**
 * The one small interface a bridge needs from whatever carries its tracks: publish one,
 * subscribe to one. A remote {@linkcode MoqClient} (raw QUIC or WebTransport) has exactly
 * this shape; an in-process {@linkcode Origin} or a plugin's `PluginContext` is adapted.
 *
 * @module
 */
import type { LocalTracks, TrackConsumer, TrackInfo, TrackProducer } from "../relay/model/mod.ts";

/**
 * Publishes and subscribes tracks for a bridge.
 *
 * An implementation MUST resolve `publish` with a producer whose groups reach subscribers
 * of the track and MUST end the track when the producer is closed; it MUST resolve
 * `subscribe` once the track is accepted, with the publisher's capability in
 * `consumer.info.capability` (rejecting with a `TrackError` of reason `"not_found"` when
 * the track does not exist), and MUST stop the subscription when the consumer is closed.
 *
 * @example
 * ```ts ignore
 * import type { BridgeConnection } from "./connection.ts";
 * import type { MoqClient } from "../relay/client.ts";
 * declare const client: MoqClient;
 * const connection: BridgeConnection = client; // a MoqClient is one as it is
 * ```
 */
export interface BridgeConnection {
  /** Publishes a track with its capability. */
  publish(info: TrackInfo): Promise<TrackProducer>;
  /** Subscribes to a track; an implementation may stop waiting when `signal` aborts. */
  subscribe(
    namespace: readonly string[],
    name: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<TrackConsumer>;
}

/**
 * An in-process track host: an `Origin`, or the `PluginContext` a plugin gets; the relay
 * model's {@linkcode LocalTracks}, named here for the bridge's callers.
 *
 * @example
 * ```ts
 * import type { InProcessTracks } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 * const tracks: InProcessTracks = new Origin();
 * ```
 */
export type InProcessTracks = LocalTracks;

/**
 * What a bridge can run over: a remote connection or an in-process track host.
 *
 * @example
 * ```ts
 * import type { BridgeVia } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 * const via: BridgeVia = new Origin();
 * ```
 */
export type BridgeVia = BridgeConnection | InProcessTracks;

/**
 * Adapts what a bridge runs over to a {@linkcode BridgeConnection}.
 *
 * @throws {TypeError} when `via` is neither shape.
 *
 * @example
 * ```ts
 * import { bridgeConnectionOf } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 * const connection = bridgeConnectionOf(new Origin());
 * const track = await connection.publish({ namespace: ["voice", "CA1"], name: "uplink" });
 * track.close();
 * ```
 */
export function bridgeConnectionOf(via: BridgeVia): BridgeConnection {
  if (typeof (via as BridgeConnection)?.publish === "function") return via as BridgeConnection;
  const tracks = via as InProcessTracks;
  if (typeof tracks?.publishTrack !== "function" || typeof tracks.subscribe !== "function") {
    throw new TypeError(
      "Cannot attach: expected a MoqClient, an Origin or a PluginContext to carry the tracks",
    );
  }
  return {
    publish: (info) => Promise.resolve().then(() => tracks.publishTrack(info)),
    subscribe: (namespace, name, options) => tracks.subscribe(namespace, name, options),
  };
}
