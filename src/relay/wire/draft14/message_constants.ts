/**
 * Draft-14 control message constants: the version number, message type codes, Group
 * Order, Filter Type and Fetch Type codes, and wire length limits.
 *
 * @module
 */

/**
 * The draft-14 version number, 0xff000000 + 14.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { DRAFT14_VERSION } = draft14;
 * assertEquals(DRAFT14_VERSION.toString(16), "ff00000e");
 * ```
 */
export const DRAFT14_VERSION = 0xff00000e;

/**
 * Control message type codes (draft-14 §9, Table 1).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { MessageType } = draft14;
 * assertEquals(MessageType.SUBSCRIBE, 3);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { GroupOrder } = draft14;
 * assertEquals(GroupOrder.DESCENDING, 2);
 * ```
 */
export const GroupOrder = { PUBLISHER: 0x0, ASCENDING: 0x1, DESCENDING: 0x2 } as const;

/**
 * Subscription Filter Type codes (draft-14 §9.7).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { FilterType } = draft14;
 * assertEquals(FilterType.LARGEST_OBJECT, 2);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { FetchType } = draft14;
 * assertEquals(FetchType.STANDALONE, 1);
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
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { STREAM_COUNT_UNKNOWN } = draft14;
 * assertEquals(STREAM_COUNT_UNKNOWN === Number.MAX_SAFE_INTEGER, true);
 * ```
 */
export const STREAM_COUNT_UNKNOWN: number = Number.MAX_SAFE_INTEGER;

/** Draft-14 §9: a control message payload is at most 2^16-1 bytes. */
export const MAX_CONTROL_PAYLOAD = 0xffff;
