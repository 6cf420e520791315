/**
 * Draft-14 control messages (draft-ietf-moq-transport-14 §9) as a discriminated union, with
 * their encoders and decoders.
 *
 * Every frame is `Message Type (i), Message Length (16), Message Payload`. (Draft-14's
 * figures for PUBLISH, PUBLISH_OK and PUBLISH_ERROR say `Length (i)`; that contradicts §9
 * and @moq/net 0.3.4 uses 16 bits for every message, as does this codec.)
 *
 * Namespaces and track names are UTF-8 strings. Draft-14 allows arbitrary bytes there; this
 * codec decodes them with fatal UTF-8 and rejects anything else as a PROTOCOL_VIOLATION.
 *
 * Where @moq/net 0.3.4 (our interop peer) departs from the draft text, the deviation is
 * noted on the field: see {@link UnsubscribeNamespace} and {@link SubscribeNamespace}.
 *
 * @module
 */
import { type Location, MAX_FULL_TRACK_NAME_LENGTH, type TupleLimits } from "./buffer.ts";
import { BufferReader, BufferWriter } from "./buffer.ts";
import { type Parameters, readParameters, writeParameters } from "./parameters.ts";
import { MoqParseError } from "../../error.ts";
import type { StreamReader } from "./stream_reader.ts";
import { varintLengthFromFirstByte } from "./varint.ts";

/**
 * The draft-14 version number, 0xff000000 + 14.
 *
 * @example
 * ```ts
 * import { DRAFT14_VERSION } from "./messages.ts";
 * console.log(DRAFT14_VERSION.toString(16)); // "ff00000e"
 * ```
 */
export const DRAFT14_VERSION = 0xff00000e;

/**
 * Control message type codes (draft-14 §9, Table 1).
 *
 * @example
 * ```ts
 * import { MessageType } from "./messages.ts";
 * console.log(MessageType.SUBSCRIBE); // 3
 * ```
 */
export const MessageType = {
  CLIENT_SETUP: 0x20,
  SERVER_SETUP: 0x21,
  GOAWAY: 0x10,
  MAX_REQUEST_ID: 0x15,
  REQUESTS_BLOCKED: 0x1a,
  SUBSCRIBE: 0x03,
  SUBSCRIBE_OK: 0x04,
  SUBSCRIBE_ERROR: 0x05,
  SUBSCRIBE_UPDATE: 0x02,
  UNSUBSCRIBE: 0x0a,
  PUBLISH_DONE: 0x0b,
  PUBLISH: 0x1d,
  PUBLISH_OK: 0x1e,
  PUBLISH_ERROR: 0x1f,
  FETCH: 0x16,
  FETCH_OK: 0x18,
  FETCH_ERROR: 0x19,
  FETCH_CANCEL: 0x17,
  TRACK_STATUS: 0x0d,
  TRACK_STATUS_OK: 0x0e,
  TRACK_STATUS_ERROR: 0x0f,
  PUBLISH_NAMESPACE: 0x06,
  PUBLISH_NAMESPACE_OK: 0x07,
  PUBLISH_NAMESPACE_ERROR: 0x08,
  PUBLISH_NAMESPACE_DONE: 0x09,
  PUBLISH_NAMESPACE_CANCEL: 0x0c,
  SUBSCRIBE_NAMESPACE: 0x11,
  SUBSCRIBE_NAMESPACE_OK: 0x12,
  SUBSCRIBE_NAMESPACE_ERROR: 0x13,
  UNSUBSCRIBE_NAMESPACE: 0x14,
} as const;

/**
 * Group Order values (draft-14 §9.7). PUBLISHER (0) is only legal in requests.
 *
 * @example
 * ```ts
 * import { GroupOrder } from "./messages.ts";
 * console.log(GroupOrder.DESCENDING); // 2
 * ```
 */
export const GroupOrder = { PUBLISHER: 0x0, ASCENDING: 0x1, DESCENDING: 0x2 } as const;

/**
 * Subscription Filter Type codes (draft-14 §9.7).
 *
 * @example
 * ```ts
 * import { FilterType } from "./messages.ts";
 * console.log(FilterType.LARGEST_OBJECT); // 2
 * ```
 */
export const FilterType = {
  NEXT_GROUP_START: 0x1,
  LARGEST_OBJECT: 0x2,
  ABSOLUTE_START: 0x3,
  ABSOLUTE_RANGE: 0x4,
} as const;

/**
 * Fetch Type codes (draft-14 §9.16, Table 3).
 *
 * @example
 * ```ts
 * import { FetchType } from "./messages.ts";
 * console.log(FetchType.STANDALONE); // 1
 * ```
 */
export const FetchType = { STANDALONE: 0x1, RELATIVE_JOINING: 0x2, ABSOLUTE_JOINING: 0x3 } as const;

/** Draft-14 §1.4.3: a reason phrase is at most 1,024 bytes. */
export const MAX_REASON_LENGTH = 1024;
/** Draft-14 §9.4: a GOAWAY New Session URI is at most 8,192 bytes. */
export const MAX_GOAWAY_URI_LENGTH = 8192;
/**
 * PUBLISH_DONE Stream Count meaning "unknown" (2^62-1 on the wire, §9.12), represented as
 * `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { STREAM_COUNT_UNKNOWN } from "./messages.ts";
 * console.log(STREAM_COUNT_UNKNOWN === Number.MAX_SAFE_INTEGER); // true
 * ```
 */
export const STREAM_COUNT_UNKNOWN: number = Number.MAX_SAFE_INTEGER;

/** Draft-14 §9: a control message payload is at most 2^16-1 bytes. */
export const MAX_CONTROL_PAYLOAD = 0xffff;

export type { Location };

/**
 * A subscription filter (draft-14 §9.7). `absolute_range.endGroup` is the last group
 * included, as on the wire. (@moq/net 0.3.4 writes End Group as a delta from the start
 * group; it never sends AbsoluteRange, so this only matters when we subscribe to it with
 * one. Draft-14 says absolute, and so does this codec.)
 *
 * @example
 * ```ts
 * import type { SubscriptionFilter } from "./messages.ts";
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
 * import type { ControlMessage } from "./messages.ts";
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

const PREFIX_LIMITS: TupleLimits = { minFields: 0 };

// ---------------------------------------------------------------------------------------
// Shared field helpers

function readFullTrackName(r: BufferReader): { namespace: string[]; name: string } {
  const namespace = r.tuple();
  const nameBytes = r.lengthPrefixedBytes();
  let total = nameBytes.length;
  for (const field of namespace) total += utf8Length(field);
  if (total > MAX_FULL_TRACK_NAME_LENGTH) {
    throw r.error(`full track name is longer than ${MAX_FULL_TRACK_NAME_LENGTH} bytes`);
  }
  return { namespace, name: r.utf8(nameBytes) };
}

const encoder = new TextEncoder();
function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

function writeFullTrackName(w: BufferWriter, namespace: readonly string[], name: string): void {
  w.tuple(namespace);
  const nameBytes = encoder.encode(name);
  let total = nameBytes.length;
  for (const field of namespace) total += utf8Length(field);
  if (total > MAX_FULL_TRACK_NAME_LENGTH) {
    throw new RangeError(
      `Cannot encode full track name: longer than ${MAX_FULL_TRACK_NAME_LENGTH} bytes`,
    );
  }
  w.lengthPrefixedBytes(nameBytes);
}

function readGroupOrder(r: BufferReader, allowPublisher: boolean): number {
  const v = r.u8();
  if (v > 2 || (v === 0 && !allowPublisher)) {
    throw r.error(`invalid group order ${v}`);
  }
  return v;
}

function checkGroupOrder(v: number, allowPublisher: boolean): number {
  if (!Number.isInteger(v) || v < (allowPublisher ? 0 : 1) || v > 2) {
    throw new RangeError(`Cannot encode group order: ${v} is not valid here`);
  }
  return v;
}

function readFilter(r: BufferReader): SubscriptionFilter {
  const t = r.varint();
  switch (t) {
    case FilterType.NEXT_GROUP_START:
      return { type: "next_group_start" };
    case FilterType.LARGEST_OBJECT:
      return { type: "largest_object" };
    case FilterType.ABSOLUTE_START:
      return { type: "absolute_start", start: r.location() };
    case FilterType.ABSOLUTE_RANGE: {
      const start = r.location();
      const endGroup = r.varint();
      if (endGroup < start.group) {
        throw r.error(`end group ${endGroup} is before start group ${start.group}`);
      }
      return { type: "absolute_range", start, endGroup };
    }
    default:
      throw r.error(`unknown filter type ${t}`);
  }
}

function writeFilter(w: BufferWriter, f: SubscriptionFilter): void {
  switch (f.type) {
    case "next_group_start":
      w.varint(FilterType.NEXT_GROUP_START);
      break;
    case "largest_object":
      w.varint(FilterType.LARGEST_OBJECT);
      break;
    case "absolute_start":
      w.varint(FilterType.ABSOLUTE_START).location(f.start);
      break;
    case "absolute_range":
      if (f.endGroup < f.start.group) {
        throw new RangeError("Cannot encode filter: end group is before the start group");
      }
      w.varint(FilterType.ABSOLUTE_RANGE).location(f.start).varint(f.endGroup);
      break;
    default:
      throw new TypeError(`Cannot encode filter: unknown type ${(f as { type: string }).type}`);
  }
}

function readReason(r: BufferReader): string {
  return r.string(MAX_REASON_LENGTH);
}

function writeReason(w: BufferWriter, reason: string): void {
  w.string(reason, MAX_REASON_LENGTH);
}

function readLargest(r: BufferReader): Location | undefined {
  return r.flag("Content Exists") ? r.location() : undefined;
}

function writeLargest(w: BufferWriter, largest: Location | undefined): void {
  if (largest) w.flag(true).location(largest);
  else w.flag(false);
}

// ---------------------------------------------------------------------------------------
// Per-message payload codecs

function readSubscribeFields(r: BufferReader): SubscribeFields {
  const requestId = r.varint();
  const { namespace, name } = readFullTrackName(r);
  const subscriberPriority = r.u8();
  const groupOrder = readGroupOrder(r, true);
  const forward = r.flag("Forward");
  const filter = readFilter(r);
  const parameters = readParameters(r, "message");
  return {
    requestId,
    namespace,
    name,
    subscriberPriority,
    groupOrder,
    forward,
    filter,
    parameters,
  };
}

function writeSubscribeFields(w: BufferWriter, m: SubscribeFields): void {
  w.varint(m.requestId);
  writeFullTrackName(w, m.namespace, m.name);
  w.u8(m.subscriberPriority).u8(checkGroupOrder(m.groupOrder, true)).flag(m.forward);
  writeFilter(w, m.filter);
  writeParameters(w, m.parameters);
}

function readSubscribeOkFields(r: BufferReader): SubscribeOkFields {
  const requestId = r.varint();
  const trackAlias = r.varint();
  const expires = r.varint();
  const groupOrder = readGroupOrder(r, false);
  const largest = readLargest(r);
  const parameters = readParameters(r, "message");
  const m: SubscribeOkFields = { requestId, trackAlias, expires, groupOrder, parameters };
  if (largest) m.largest = largest;
  return m;
}

function writeSubscribeOkFields(w: BufferWriter, m: SubscribeOkFields): void {
  w.varint(m.requestId).varint(m.trackAlias).varint(m.expires);
  w.u8(checkGroupOrder(m.groupOrder, false));
  writeLargest(w, m.largest);
  writeParameters(w, m.parameters);
}

function readErrorFields(r: BufferReader): RequestErrorFields {
  const requestId = r.varint();
  const errorCode = r.varint();
  const reason = readReason(r);
  return { requestId, errorCode, reason };
}

function writeErrorFields(w: BufferWriter, m: RequestErrorFields): void {
  w.varint(m.requestId).varint(m.errorCode);
  writeReason(w, m.reason);
}

function readFetch(r: BufferReader): Fetch {
  const requestId = r.varint();
  const subscriberPriority = r.u8();
  const groupOrder = readGroupOrder(r, true);
  const fetchType = r.varint();
  let fetch: FetchRange;
  switch (fetchType) {
    case FetchType.STANDALONE: {
      const { namespace, name } = readFullTrackName(r);
      const start = r.location();
      const end = r.location();
      fetch = { type: "standalone", namespace, name, start, end };
      break;
    }
    case FetchType.RELATIVE_JOINING:
    case FetchType.ABSOLUTE_JOINING: {
      const joiningRequestId = r.varint();
      const joiningStart = r.varint();
      fetch = {
        type: fetchType === FetchType.RELATIVE_JOINING ? "relative_joining" : "absolute_joining",
        joiningRequestId,
        joiningStart,
      };
      break;
    }
    default:
      throw r.error(`unknown fetch type ${fetchType}`);
  }
  const parameters = readParameters(r, "message");
  return { type: "fetch", requestId, subscriberPriority, groupOrder, fetch, parameters };
}

function writeFetch(w: BufferWriter, m: Fetch): void {
  w.varint(m.requestId).u8(m.subscriberPriority).u8(checkGroupOrder(m.groupOrder, true));
  const f = m.fetch;
  switch (f.type) {
    case "standalone":
      w.varint(FetchType.STANDALONE);
      writeFullTrackName(w, f.namespace, f.name);
      w.location(f.start).location(f.end);
      break;
    case "relative_joining":
    case "absolute_joining":
      w.varint(
        f.type === "relative_joining" ? FetchType.RELATIVE_JOINING : FetchType.ABSOLUTE_JOINING,
      );
      w.varint(f.joiningRequestId).varint(f.joiningStart);
      break;
    default:
      throw new TypeError(
        `Cannot encode FETCH: unknown fetch type ${(f as { type: string }).type}`,
      );
  }
  writeParameters(w, m.parameters);
}

interface Codec<M extends ControlMessage> {
  code: number;
  name: string;
  read(r: BufferReader): M;
  write(w: BufferWriter, m: M): void;
}

type CodecTable = { [K in ControlMessageKind]: Codec<Extract<ControlMessage, { type: K }>> };

const CODECS: CodecTable = {
  client_setup: {
    code: MessageType.CLIENT_SETUP,
    name: "CLIENT_SETUP",
    read(r) {
      const count = r.varint();
      if (count === 0 || count > r.remaining) {
        throw r.error(`invalid number of supported versions ${count}`);
      }
      const versions: number[] = [];
      for (let i = 0; i < count; i++) versions.push(r.varint());
      return { type: "client_setup", versions, parameters: readParameters(r, "setup") };
    },
    write(w, m) {
      if (m.versions.length === 0) {
        throw new RangeError("Cannot encode CLIENT_SETUP: no versions");
      }
      w.varint(m.versions.length);
      for (const v of m.versions) w.varint(v);
      writeParameters(w, m.parameters);
    },
  },
  server_setup: {
    code: MessageType.SERVER_SETUP,
    name: "SERVER_SETUP",
    read: (r) => ({
      type: "server_setup",
      version: r.varint(),
      parameters: readParameters(r, "setup"),
    }),
    write(w, m) {
      w.varint(m.version);
      writeParameters(w, m.parameters);
    },
  },
  goaway: {
    code: MessageType.GOAWAY,
    name: "GOAWAY",
    read: (r) => ({ type: "goaway", newSessionUri: r.string(MAX_GOAWAY_URI_LENGTH) }),
    write: (w, m) => void w.string(m.newSessionUri, MAX_GOAWAY_URI_LENGTH),
  },
  max_request_id: {
    code: MessageType.MAX_REQUEST_ID,
    name: "MAX_REQUEST_ID",
    read: (r) => ({ type: "max_request_id", requestId: r.varint() }),
    write: (w, m) => void w.varint(m.requestId),
  },
  requests_blocked: {
    code: MessageType.REQUESTS_BLOCKED,
    name: "REQUESTS_BLOCKED",
    read: (r) => ({ type: "requests_blocked", maximumRequestId: r.varint() }),
    write: (w, m) => void w.varint(m.maximumRequestId),
  },
  subscribe: {
    code: MessageType.SUBSCRIBE,
    name: "SUBSCRIBE",
    read: (r) => ({ type: "subscribe", ...readSubscribeFields(r) }),
    write: writeSubscribeFields,
  },
  subscribe_ok: {
    code: MessageType.SUBSCRIBE_OK,
    name: "SUBSCRIBE_OK",
    read: (r) => ({ type: "subscribe_ok", ...readSubscribeOkFields(r) }),
    write: writeSubscribeOkFields,
  },
  subscribe_error: {
    code: MessageType.SUBSCRIBE_ERROR,
    name: "SUBSCRIBE_ERROR",
    read: (r) => ({ type: "subscribe_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  subscribe_update: {
    code: MessageType.SUBSCRIBE_UPDATE,
    name: "SUBSCRIBE_UPDATE",
    read(r) {
      const requestId = r.varint();
      const subscriptionRequestId = r.varint();
      const start = r.location();
      const endPlusOne = r.varint();
      const subscriberPriority = r.u8();
      const forward = r.flag("Forward");
      const parameters = readParameters(r, "message");
      if (endPlusOne !== 0 && endPlusOne - 1 < start.group) {
        throw r.error(`end group ${endPlusOne - 1} is before start group ${start.group}`);
      }
      const m: SubscribeUpdate = {
        type: "subscribe_update",
        requestId,
        subscriptionRequestId,
        start,
        subscriberPriority,
        forward,
        parameters,
      };
      if (endPlusOne !== 0) m.endGroup = endPlusOne - 1;
      return m;
    },
    write(w, m) {
      w.varint(m.requestId).varint(m.subscriptionRequestId).location(m.start);
      w.varint(m.endGroup === undefined ? 0 : m.endGroup + 1);
      w.u8(m.subscriberPriority).flag(m.forward);
      writeParameters(w, m.parameters);
    },
  },
  unsubscribe: {
    code: MessageType.UNSUBSCRIBE,
    name: "UNSUBSCRIBE",
    read: (r) => ({ type: "unsubscribe", requestId: r.varint() }),
    write: (w, m) => void w.varint(m.requestId),
  },
  publish_done: {
    code: MessageType.PUBLISH_DONE,
    name: "PUBLISH_DONE",
    read(r) {
      const requestId = r.varint();
      const statusCode = r.varint();
      // 2^62-1 ("unknown") does not fit a safe integer: cap it rather than fail.
      const streamCount = readVarintCapped(r);
      const reason = readReason(r);
      return { type: "publish_done", requestId, statusCode, streamCount, reason };
    },
    write(w, m) {
      w.varint(m.requestId).varint(m.statusCode);
      if (m.streamCount === STREAM_COUNT_UNKNOWN) w.bytes(MAX_WIRE_VARINT);
      else w.varint(m.streamCount);
      writeReason(w, m.reason);
    },
  },
  publish: {
    code: MessageType.PUBLISH,
    name: "PUBLISH",
    read(r) {
      const requestId = r.varint();
      const { namespace, name } = readFullTrackName(r);
      const trackAlias = r.varint();
      const groupOrder = readGroupOrder(r, false);
      const largest = readLargest(r);
      const forward = r.flag("Forward");
      const parameters = readParameters(r, "message");
      const m: Publish = {
        type: "publish",
        requestId,
        namespace,
        name,
        trackAlias,
        groupOrder,
        forward,
        parameters,
      };
      if (largest) m.largest = largest;
      return m;
    },
    write(w, m) {
      w.varint(m.requestId);
      writeFullTrackName(w, m.namespace, m.name);
      w.varint(m.trackAlias).u8(checkGroupOrder(m.groupOrder, false));
      writeLargest(w, m.largest);
      w.flag(m.forward);
      writeParameters(w, m.parameters);
    },
  },
  publish_ok: {
    code: MessageType.PUBLISH_OK,
    name: "PUBLISH_OK",
    read(r) {
      const requestId = r.varint();
      const forward = r.flag("Forward");
      const subscriberPriority = r.u8();
      const groupOrder = readGroupOrder(r, false);
      const filter = readFilter(r);
      const parameters = readParameters(r, "message");
      return {
        type: "publish_ok",
        requestId,
        forward,
        subscriberPriority,
        groupOrder,
        filter,
        parameters,
      };
    },
    write(w, m) {
      w.varint(m.requestId).flag(m.forward).u8(m.subscriberPriority);
      w.u8(checkGroupOrder(m.groupOrder, false));
      writeFilter(w, m.filter);
      writeParameters(w, m.parameters);
    },
  },
  publish_error: {
    code: MessageType.PUBLISH_ERROR,
    name: "PUBLISH_ERROR",
    read: (r) => ({ type: "publish_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  fetch: { code: MessageType.FETCH, name: "FETCH", read: readFetch, write: writeFetch },
  fetch_ok: {
    code: MessageType.FETCH_OK,
    name: "FETCH_OK",
    read(r) {
      const requestId = r.varint();
      const groupOrder = readGroupOrder(r, false);
      const endOfTrack = r.flag("End Of Track");
      const end = r.location();
      const parameters = readParameters(r, "message");
      return { type: "fetch_ok", requestId, groupOrder, endOfTrack, end, parameters };
    },
    write(w, m) {
      w.varint(m.requestId).u8(checkGroupOrder(m.groupOrder, false)).flag(m.endOfTrack);
      w.location(m.end);
      writeParameters(w, m.parameters);
    },
  },
  fetch_error: {
    code: MessageType.FETCH_ERROR,
    name: "FETCH_ERROR",
    read: (r) => ({ type: "fetch_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  fetch_cancel: {
    code: MessageType.FETCH_CANCEL,
    name: "FETCH_CANCEL",
    read: (r) => ({ type: "fetch_cancel", requestId: r.varint() }),
    write: (w, m) => void w.varint(m.requestId),
  },
  track_status: {
    code: MessageType.TRACK_STATUS,
    name: "TRACK_STATUS",
    read: (r) => ({ type: "track_status", ...readSubscribeFields(r) }),
    write: writeSubscribeFields,
  },
  track_status_ok: {
    code: MessageType.TRACK_STATUS_OK,
    name: "TRACK_STATUS_OK",
    read: (r) => ({ type: "track_status_ok", ...readSubscribeOkFields(r) }),
    write: writeSubscribeOkFields,
  },
  track_status_error: {
    code: MessageType.TRACK_STATUS_ERROR,
    name: "TRACK_STATUS_ERROR",
    read: (r) => ({ type: "track_status_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  publish_namespace: {
    code: MessageType.PUBLISH_NAMESPACE,
    name: "PUBLISH_NAMESPACE",
    read(r) {
      const requestId = r.varint();
      const namespace = r.tuple();
      return {
        type: "publish_namespace",
        requestId,
        namespace,
        parameters: readParameters(r, "message"),
      };
    },
    write(w, m) {
      w.varint(m.requestId).tuple(m.namespace);
      writeParameters(w, m.parameters);
    },
  },
  publish_namespace_ok: {
    code: MessageType.PUBLISH_NAMESPACE_OK,
    name: "PUBLISH_NAMESPACE_OK",
    read: (r) => ({ type: "publish_namespace_ok", requestId: r.varint() }),
    write: (w, m) => void w.varint(m.requestId),
  },
  publish_namespace_error: {
    code: MessageType.PUBLISH_NAMESPACE_ERROR,
    name: "PUBLISH_NAMESPACE_ERROR",
    read: (r) => ({ type: "publish_namespace_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  publish_namespace_done: {
    code: MessageType.PUBLISH_NAMESPACE_DONE,
    name: "PUBLISH_NAMESPACE_DONE",
    read: (r) => ({ type: "publish_namespace_done", namespace: r.tuple() }),
    write: (w, m) => void w.tuple(m.namespace),
  },
  publish_namespace_cancel: {
    code: MessageType.PUBLISH_NAMESPACE_CANCEL,
    name: "PUBLISH_NAMESPACE_CANCEL",
    read(r) {
      const namespace = r.tuple();
      const errorCode = r.varint();
      const reason = readReason(r);
      return { type: "publish_namespace_cancel", namespace, errorCode, reason };
    },
    write(w, m) {
      w.tuple(m.namespace).varint(m.errorCode);
      writeReason(w, m.reason);
    },
  },
  subscribe_namespace: {
    code: MessageType.SUBSCRIBE_NAMESPACE,
    name: "SUBSCRIBE_NAMESPACE",
    read(r) {
      const requestId = r.varint();
      const namespacePrefix = r.tuple(PREFIX_LIMITS);
      return {
        type: "subscribe_namespace",
        requestId,
        namespacePrefix,
        parameters: readParameters(r, "message"),
      };
    },
    write(w, m) {
      w.varint(m.requestId).tuple(m.namespacePrefix, PREFIX_LIMITS);
      writeParameters(w, m.parameters);
    },
  },
  subscribe_namespace_ok: {
    code: MessageType.SUBSCRIBE_NAMESPACE_OK,
    name: "SUBSCRIBE_NAMESPACE_OK",
    read: (r) => ({ type: "subscribe_namespace_ok", requestId: r.varint() }),
    write: (w, m) => void w.varint(m.requestId),
  },
  subscribe_namespace_error: {
    code: MessageType.SUBSCRIBE_NAMESPACE_ERROR,
    name: "SUBSCRIBE_NAMESPACE_ERROR",
    read: (r) => ({ type: "subscribe_namespace_error", ...readErrorFields(r) }),
    write: writeErrorFields,
  },
  unsubscribe_namespace: {
    code: MessageType.UNSUBSCRIBE_NAMESPACE,
    name: "UNSUBSCRIBE_NAMESPACE",
    read(r) {
      // A payload that is exactly one varint is @moq/net's Request ID form (see the type).
      const rest = r.rest();
      if (rest.length === 0) throw r.error("empty payload");
      const inner = new BufferReader(rest, "UNSUBSCRIBE_NAMESPACE");
      if (varintLengthFromFirstByte(rest[0]) === rest.length) {
        return { type: "unsubscribe_namespace", requestId: inner.varint() };
      }
      const namespacePrefix = inner.tuple();
      inner.expectEnd();
      return { type: "unsubscribe_namespace", namespacePrefix };
    },
    write(w, m) {
      if ((m.namespacePrefix === undefined) === (m.requestId === undefined)) {
        throw new TypeError(
          "Cannot encode UNSUBSCRIBE_NAMESPACE: set exactly one of namespacePrefix and requestId",
        );
      }
      if (m.requestId !== undefined) w.varint(m.requestId);
      else w.tuple(m.namespacePrefix!);
    },
  },
};

function readVarintCapped(r: BufferReader): number {
  try {
    return r.varint();
  } catch (err) {
    if (err instanceof MoqParseError && /MAX_SAFE_INTEGER/.test(err.message)) {
      r.bytes(8); // only an 8-byte varint can be that large
      return STREAM_COUNT_UNKNOWN;
    }
    throw err;
  }
}

const MAX_WIRE_VARINT = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

const BY_CODE = new Map<number, Codec<ControlMessage>>();
for (const codec of Object.values(CODECS)) {
  BY_CODE.set(codec.code, codec as unknown as Codec<ControlMessage>);
}

/**
 * The wire type code of a message kind.
 *
 * @example
 * ```ts
 * import { messageTypeCode } from "./messages.ts";
 * console.log(messageTypeCode("subscribe_ok")); // 4
 * ```
 */
export function messageTypeCode(kind: ControlMessageKind): number {
  return CODECS[kind].code;
}

/**
 * Encodes the payload of a control message (without type and length).
 *
 * @throws {RangeError | TypeError} If a field cannot be carried on the wire
 * @example
 * ```ts
 * import { encodeControlPayload } from "./messages.ts";
 * console.log(encodeControlPayload({ type: "unsubscribe", requestId: 4 })); // Uint8Array [4]
 * ```
 */
export function encodeControlPayload(msg: ControlMessage): Uint8Array {
  const codec = CODECS[msg.type] as unknown as Codec<ControlMessage> | undefined;
  if (!codec) throw new TypeError(`Cannot encode control message: unknown type ${msg.type}`);
  const w = new BufferWriter(64);
  codec.write(w, msg);
  return w.finish();
}

/**
 * Encodes a full control message frame: type varint, 16-bit length, payload.
 *
 * @throws {RangeError} If the payload is longer than 65,535 bytes or a field is out of range
 * @throws {TypeError} If a field has the wrong kind
 * @example
 * ```ts
 * import { encodeControlMessage } from "./messages.ts";
 * console.log(encodeControlMessage({ type: "max_request_id", requestId: 10 }));
 * // Uint8Array [0x15, 0x00, 0x01, 0x0a]
 * ```
 */
export function encodeControlMessage(msg: ControlMessage): Uint8Array {
  const codec = CODECS[msg.type] as unknown as Codec<ControlMessage> | undefined;
  if (!codec) throw new TypeError(`Cannot encode control message: unknown type ${msg.type}`);
  const w = new BufferWriter(64);
  w.varint(codec.code);
  const lengthAt = w.length;
  w.u16(0);
  codec.write(w, msg);
  const payload = w.length - lengthAt - 2;
  if (payload > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`Cannot encode ${codec.name}: payload of ${payload} bytes exceeds 65535`);
  }
  w.patchU16(lengthAt, payload);
  return w.finish();
}

/**
 * Decodes a control message payload of the given type. The payload must be consumed
 * exactly.
 *
 * @throws {MoqParseError} For an unknown type, malformed payload, trailing bytes or
 *   out-of-range enum values (PROTOCOL_VIOLATION unless stated otherwise)
 * @example
 * ```ts
 * import { decodeControlMessage, MessageType } from "./messages.ts";
 * console.log(decodeControlMessage(MessageType.UNSUBSCRIBE, new Uint8Array([4])));
 * // { type: "unsubscribe", requestId: 4 }
 * ```
 */
export function decodeControlMessage(type: number, payload: Uint8Array): ControlMessage {
  const codec = BY_CODE.get(type);
  if (!codec) {
    throw new MoqParseError(
      `Cannot decode control message: unknown message type 0x${type.toString(16)}`,
    );
  }
  const r = new BufferReader(payload, codec.name);
  const msg = codec.read(r);
  r.expectEnd();
  return msg;
}

/**
 * Reads the next control message from a control stream.
 *
 * @returns The message, or `undefined` if the stream ended cleanly between messages
 * @throws {MoqParseError} For truncated frames or malformed messages
 * @example
 * ```ts
 * import { encodeControlMessage, readControlMessage } from "./messages.ts";
 * import { StreamReader } from "./stream_reader.ts";
 *
 * const bytes = encodeControlMessage({ type: "goaway", newSessionUri: "" });
 * const reader = new StreamReader(new ReadableStream({
 *   start(c) { c.enqueue(bytes); c.close(); },
 * }));
 * console.log(await readControlMessage(reader)); // { type: "goaway", newSessionUri: "" }
 * console.log(await readControlMessage(reader)); // undefined
 * ```
 */
export async function readControlMessage(
  reader: StreamReader,
): Promise<ControlMessage | undefined> {
  const type = await reader.varintOrEnd();
  if (type === undefined) return undefined;
  const length = await reader.u16();
  const payload = await reader.bytes(length);
  return decodeControlMessage(type, payload);
}
