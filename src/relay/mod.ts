/**
 * The MoQT relay: a media-agnostic publish/subscribe core speaking
 * draft-ietf-moq-transport-14 over WebTransport and raw QUIC. It knows namespaces, tracks,
 * groups, objects and an opaque capability tag per track, and never decodes media.
 *
 * - {@linkcode Relay}: the server side, one shared origin for every session.
 * - {@linkcode MoqClient}: a Deno client over raw QUIC (publish, publishNamespace, subscribe).
 * - The protocol-neutral model (`Origin`, `TrackProducer`, `TrackConsumer`, groups, objects,
 *   capability routing) and the transports.
 *
 * @example
 * ```ts ignore
 * import { MoqClient } from "@clutchcall/voice/relay";
 * await using client = await MoqClient.connect({ hostname: "127.0.0.1", port: 4443, caCerts: [certPem] });
 * const uplink = await client.publish({ namespace: ["voice", "CA1"], name: "uplink", capability: "voice/pcm16" });
 * const group = uplink.appendGroup();
 * group.write({ id: 0, payload: new Uint8Array(640) });
 * ```
 *
 * @module
 */
export * from "./model/mod.ts";
export * from "./transport/mod.ts";
export {
  MoqError,
  type MoqErrorKind,
  type MoqErrorOptions,
  MoqParseError,
  type MoqParseErrorKind,
} from "./error.ts";
export { SessionErrorCode, sessionErrorCode } from "./wire/draft14/error_codes.ts";
export { Relay, type RelayOptions } from "./relay.ts";
export { MoqClient, type MoqClientOptions } from "./client.ts";
export { type CachedSession, SessionCache } from "./session_cache.ts";
export type { Parameters, ParameterValue } from "./wire/draft14/parameters.ts";
export { Session, type SessionOptions } from "./wire/draft14/session.ts";
export type { SessionState } from "./wire/draft14/session_state.ts";
export type { ForwarderStats, TrackForwarder } from "./wire/draft14/track_forwarder.ts";
export type { RelayTally } from "../metrics/tally.ts";
export * as draft14 from "./wire/draft14/mod.ts";
export { CAPABILITY_PARAMETER } from "./wire/draft14/capability_parameter.ts";
