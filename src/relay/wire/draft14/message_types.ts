/**
 * Draft-14 control message shapes: the {@link ControlMessage} union and one interface per
 * message type.
 *
 * @module
 */
import type { Location } from "../coding/buffer.ts";
import type { Parameters } from "./parameters.ts";

/**
 * A subscription filter (draft-14 §9.7). `absolute_range.endGroup` is the last group
 * included, as on the wire. (@moq/net 0.3.4 writes End Group as a delta from the start
 * group; it never sends AbsoluteRange, so this only matters when we subscribe to it with
 * one. Draft-14 says absolute, and so does this codec.)
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type SubscriptionFilter = draft14.SubscriptionFilter;
 * const f: SubscriptionFilter = { type: "absolute_range", start: { group: 5, object: 0 }, endGroup: 9 };
 * ```
 */
export type SubscriptionFilter =
  | { type: "next_group_start" }
  | { type: "largest_object" }
  | { type: "absolute_start"; start: Location }
  | { type: "absolute_range"; start: Location; endGroup: number };

/** Fields shared by SUBSCRIBE and TRACK_STATUS (§9.7, §9.20). */
export interface SubscribeFields {
  /** The Request ID of this request. */
  requestId: number;
  /** The Track Namespace, one string per tuple field. */
  namespace: string[];
  /** The Track Name. */
  name: string;
  /** 0..255, lower is more important. */
  subscriberPriority: number;
  /** 0 = publisher's order, 1 ascending, 2 descending. */
  groupOrder: number;
  /** The Forward flag: whether the publisher should send objects (false pauses delivery). */
  forward: boolean;
  /** Which objects the subscription starts (and possibly ends) at. */
  filter: SubscriptionFilter;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}

/** Fields shared by SUBSCRIBE_OK and TRACK_STATUS_OK (§9.8, §9.21). */
export interface SubscribeOkFields {
  /** The Request ID of the request this answers. */
  requestId: number;
  /** The Track Alias the publisher's data streams and datagrams carry for this track. */
  trackAlias: number;
  /** Milliseconds; 0 = does not expire. @moq/net drops a subscription whose expires is not 0. */
  expires: number;
  /** 1 ascending or 2 descending. */
  groupOrder: number;
  /** Largest Location; absent means Content Exists = 0. */
  largest?: Location;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}

/** Fields shared by every *_ERROR message. */
export interface RequestErrorFields {
  /** The Request ID of the request this rejects. */
  requestId: number;
  /** The error code, from the message type's error code table. */
  errorCode: number;
  /** At most 1,024 bytes of UTF-8. */
  reason: string;
}

/**
 * CLIENT_SETUP (0x20). @moq/net 0.3.4 sends versions [0xff0dad02, 0xff0dad01, 0xff00000e]
 * and parameters MAX_REQUEST_ID = 42069, 0x40b5a (its SOLICIT extension) = 1 and
 * MOQT_IMPLEMENTATION (0x07) = "moq-lite-js".
 */
export interface ClientSetup {
  /** Discriminant. */
  type: "client_setup";
  /** The protocol versions the client supports. */
  versions: number[];
  /** The setup parameters. */
  parameters: Parameters;
}
/** SERVER_SETUP (0x21). */
export interface ServerSetup {
  /** Discriminant. */
  type: "server_setup";
  /** The version the server selected from the client's list. */
  version: number;
  /** The setup parameters. */
  parameters: Parameters;
}
/** GOAWAY (0x10). An empty URI means "reuse the current one". */
export interface GoAway {
  /** Discriminant. */
  type: "goaway";
  /** The New Session URI, at most {@link MAX_GOAWAY_URI_LENGTH} bytes. */
  newSessionUri: string;
}
/** MAX_REQUEST_ID (0x15): the new maximum Request ID plus 1. */
export interface MaxRequestId {
  /** Discriminant. */
  type: "max_request_id";
  /** The Request ID field as on the wire: the new maximum Request ID plus 1. */
  requestId: number;
}
/** REQUESTS_BLOCKED (0x1A). */
export interface RequestsBlocked {
  /** Discriminant. */
  type: "requests_blocked";
  /** The Maximum Request ID the sender is blocked at. */
  maximumRequestId: number;
}
/** SUBSCRIBE (0x03). */
export interface Subscribe extends SubscribeFields {
  /** Discriminant. */
  type: "subscribe";
}
/** SUBSCRIBE_OK (0x04). */
export interface SubscribeOk extends SubscribeOkFields {
  /** Discriminant. */
  type: "subscribe_ok";
}
/** SUBSCRIBE_ERROR (0x05); codes in `SubscribeErrorCode`. */
export interface SubscribeError extends RequestErrorFields {
  /** Discriminant. */
  type: "subscribe_error";
}
/**
 * SUBSCRIBE_UPDATE (0x02). On the wire End Group is "end group plus 1, 0 = open-ended";
 * here `endGroup` is the last group included and `undefined` means open-ended.
 */
export interface SubscribeUpdate {
  /** Discriminant. */
  type: "subscribe_update";
  /** The Request ID of this update. */
  requestId: number;
  /** The Request ID of the SUBSCRIBE being updated. */
  subscriptionRequestId: number;
  /** The new Start Location. */
  start: Location;
  /** The last group included; `undefined` means open-ended. */
  endGroup?: number;
  /** 0..255, lower is more important. */
  subscriberPriority: number;
  /** The Forward flag: whether the publisher should send objects. */
  forward: boolean;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** UNSUBSCRIBE (0x0A). */
export interface Unsubscribe {
  /** Discriminant. */
  type: "unsubscribe";
  /** The Request ID of the subscription to end. */
  requestId: number;
}
/**
 * PUBLISH_DONE (0x0B); codes in `PublishDoneCode`. A Stream Count of 2^62-1 ("unknown")
 * decodes as {@link STREAM_COUNT_UNKNOWN} and encodes back as 2^62-1.
 */
export interface PublishDone {
  /** Discriminant. */
  type: "publish_done";
  /** The Request ID of the subscription that is done. */
  requestId: number;
  /** The status code, from `PublishDoneCode`. */
  statusCode: number;
  /** How many data streams the publisher opened for the subscription. */
  streamCount: number;
  /** At most 1,024 bytes of UTF-8. */
  reason: string;
}
/** PUBLISH (0x1D). `largest` absent means Content Exists = 0. */
export interface Publish {
  /** Discriminant. */
  type: "publish";
  /** The Request ID of this request. */
  requestId: number;
  /** The Track Namespace, one string per tuple field. */
  namespace: string[];
  /** The Track Name. */
  name: string;
  /** The Track Alias the publisher's data streams and datagrams will carry. */
  trackAlias: number;
  /** 1 ascending or 2 descending. */
  groupOrder: number;
  /** Largest Location; absent means Content Exists = 0. */
  largest?: Location;
  /** The Forward flag: whether the publisher is sending objects. */
  forward: boolean;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** PUBLISH_OK (0x1E). */
export interface PublishOk {
  /** Discriminant. */
  type: "publish_ok";
  /** The Request ID of the PUBLISH this accepts. */
  requestId: number;
  /** The Forward flag: whether the publisher should send objects. */
  forward: boolean;
  /** 0..255, lower is more important. */
  subscriberPriority: number;
  /** 1 ascending or 2 descending. */
  groupOrder: number;
  /** Which objects the subscriber wants. */
  filter: SubscriptionFilter;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** PUBLISH_ERROR (0x1F); codes in `PublishErrorCode`. */
export interface PublishError extends RequestErrorFields {
  /** Discriminant. */
  type: "publish_error";
}
/**
 * Which objects a FETCH asks for (§9.16). `end` of a standalone fetch is as on the wire:
 * the end Location plus one object, where object 0 means the whole end group.
 */
export type FetchRange =
  | { type: "standalone"; namespace: string[]; name: string; start: Location; end: Location }
  | { type: "relative_joining"; joiningRequestId: number; joiningStart: number }
  | { type: "absolute_joining"; joiningRequestId: number; joiningStart: number };
/** FETCH (0x16). */
export interface Fetch {
  /** Discriminant. */
  type: "fetch";
  /** The Request ID of this request. */
  requestId: number;
  /** 0..255, lower is more important. */
  subscriberPriority: number;
  /** 0 = publisher's order, 1 ascending, 2 descending. */
  groupOrder: number;
  /** The fetch type and the objects it asks for. */
  fetch: FetchRange;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** FETCH_OK (0x18). `end` as on the wire (see §9.17). */
export interface FetchOk {
  /** Discriminant. */
  type: "fetch_ok";
  /** The Request ID of the FETCH this answers. */
  requestId: number;
  /** 1 ascending or 2 descending. */
  groupOrder: number;
  /** The End Of Track flag: the fetch covers the track's final object. */
  endOfTrack: boolean;
  /** The End Location, as on the wire. */
  end: Location;
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** FETCH_ERROR (0x19); codes in `FetchErrorCode`. */
export interface FetchError extends RequestErrorFields {
  /** Discriminant. */
  type: "fetch_error";
}
/** FETCH_CANCEL (0x17). */
export interface FetchCancel {
  /** Discriminant. */
  type: "fetch_cancel";
  /** The Request ID of the FETCH to cancel. */
  requestId: number;
}
/**
 * TRACK_STATUS (0x0D), laid out as SUBSCRIBE.
 */
export interface TrackStatus extends SubscribeFields {
  /** Discriminant. */
  type: "track_status";
}
/**
 * TRACK_STATUS_OK (0x0E), laid out as SUBSCRIBE_OK with Track Alias 0. @moq/net 0.3.4
 * answers TRACK_STATUS with a pre-draft-13 layout (namespace, name, status, group, object)
 * under this type, which this decoder rejects: do not send TRACK_STATUS to @moq/net peers.
 */
export interface TrackStatusOk extends SubscribeOkFields {
  /** Discriminant. */
  type: "track_status_ok";
}
/** TRACK_STATUS_ERROR (0x0F), laid out as SUBSCRIBE_ERROR. */
export interface TrackStatusError extends RequestErrorFields {
  /** Discriminant. */
  type: "track_status_error";
}
/** PUBLISH_NAMESPACE (0x06). */
export interface PublishNamespace {
  /** Discriminant. */
  type: "publish_namespace";
  /** The Request ID of this request. */
  requestId: number;
  /** The Track Namespace being published, one string per tuple field. */
  namespace: string[];
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** PUBLISH_NAMESPACE_OK (0x07). */
export interface PublishNamespaceOk {
  /** Discriminant. */
  type: "publish_namespace_ok";
  /** The Request ID of the PUBLISH_NAMESPACE this accepts. */
  requestId: number;
}
/** PUBLISH_NAMESPACE_ERROR (0x08); codes in `PublishNamespaceErrorCode`. */
export interface PublishNamespaceError extends RequestErrorFields {
  /** Discriminant. */
  type: "publish_namespace_error";
}
/** PUBLISH_NAMESPACE_DONE (0x09). */
export interface PublishNamespaceDone {
  /** Discriminant. */
  type: "publish_namespace_done";
  /** The Track Namespace no longer published. */
  namespace: string[];
}
/** PUBLISH_NAMESPACE_CANCEL (0x0C); codes in `PublishNamespaceErrorCode`. */
export interface PublishNamespaceCancel {
  /** Discriminant. */
  type: "publish_namespace_cancel";
  /** The Track Namespace whose publication is cancelled. */
  namespace: string[];
  /** The error code, from `PublishNamespaceErrorCode`. */
  errorCode: number;
  /** At most 1,024 bytes of UTF-8. */
  reason: string;
}
/**
 * SUBSCRIBE_NAMESPACE (0x11). Draft-14 requires 1..32 prefix fields; this codec accepts an
 * empty prefix (0 fields) because @moq/net 0.3.4 sends one to mean "everything".
 */
export interface SubscribeNamespace {
  /** Discriminant. */
  type: "subscribe_namespace";
  /** The Request ID of this request. */
  requestId: number;
  /** The Track Namespace Prefix to match, one string per tuple field. */
  namespacePrefix: string[];
  /** The message's Key-Value-Pair parameters. */
  parameters: Parameters;
}
/** SUBSCRIBE_NAMESPACE_OK (0x12). */
export interface SubscribeNamespaceOk {
  /** Discriminant. */
  type: "subscribe_namespace_ok";
  /** The Request ID of the SUBSCRIBE_NAMESPACE this accepts. */
  requestId: number;
}
/** SUBSCRIBE_NAMESPACE_ERROR (0x13); codes in `SubscribeNamespaceErrorCode`. */
export interface SubscribeNamespaceError extends RequestErrorFields {
  /** Discriminant. */
  type: "subscribe_namespace_error";
}
/**
 * UNSUBSCRIBE_NAMESPACE (0x14). Draft-14 carries the Track Namespace Prefix; @moq/net
 * 0.3.4 instead sends the SUBSCRIBE_NAMESPACE's Request ID (the draft-15 layout) on
 * draft-14 sessions. The two are told apart by length (a payload that is exactly one
 * varint is a Request ID; a prefix tuple is always longer), so exactly one of the two
 * fields is set on decode, and the encoder writes whichever is set. The prefix form needs
 * at least one field (as draft-14 requires): an empty tuple would be the single byte 0x00,
 * which reads as Request ID 0.
 */
export interface UnsubscribeNamespace {
  /** Discriminant. */
  type: "unsubscribe_namespace";
  /** The Track Namespace Prefix of the subscription to end (the draft-14 layout). */
  namespacePrefix?: string[];
  /** The Request ID of the SUBSCRIBE_NAMESPACE to end (the @moq/net 0.3.4 layout). */
  requestId?: number;
}

/**
 * Every draft-14 control message, discriminated by `type`.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type ControlMessage = draft14.ControlMessage;
 * const msg: ControlMessage = { type: "unsubscribe", requestId: 4 };
 * ```
 */
export type ControlMessage =
  | ClientSetup
  | ServerSetup
  | GoAway
  | MaxRequestId
  | RequestsBlocked
  | Subscribe
  | SubscribeOk
  | SubscribeError
  | SubscribeUpdate
  | Unsubscribe
  | PublishDone
  | Publish
  | PublishOk
  | PublishError
  | Fetch
  | FetchOk
  | FetchError
  | FetchCancel
  | TrackStatus
  | TrackStatusOk
  | TrackStatusError
  | PublishNamespace
  | PublishNamespaceOk
  | PublishNamespaceError
  | PublishNamespaceDone
  | PublishNamespaceCancel
  | SubscribeNamespace
  | SubscribeNamespaceOk
  | SubscribeNamespaceError
  | UnsubscribeNamespace;

/** The `type` string of a {@link ControlMessage}. */
export type ControlMessageKind = ControlMessage["type"];
