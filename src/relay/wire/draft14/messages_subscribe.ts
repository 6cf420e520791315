/**
 * Draft-14 subscription message codecs: SUBSCRIBE, SUBSCRIBE_OK, SUBSCRIBE_ERROR,
 * SUBSCRIBE_UPDATE, UNSUBSCRIBE and the TRACK_STATUS family laid out like them.
 *
 * @module
 */
import type { BufferReader, BufferWriter } from "../coding/buffer.ts";
import { readParameters, writeParameters } from "./parameters.ts";
import { MessageType } from "./message_constants.ts";
import type { SubscribeFields, SubscribeOkFields, SubscribeUpdate } from "./message_types.ts";
import type { CodecsFor } from "./message_codec.ts";
import {
  checkGroupOrder,
  readErrorFields,
  readFilter,
  readFullTrackName,
  readGroupOrder,
  readLargest,
  writeErrorFields,
  writeFilter,
  writeFullTrackName,
  writeLargest,
} from "./message_fields.ts";

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

/** Codecs for the SUBSCRIBE and TRACK_STATUS families. */
export const SUBSCRIBE_CODECS: CodecsFor<
  | "subscribe"
  | "subscribe_ok"
  | "subscribe_error"
  | "subscribe_update"
  | "unsubscribe"
  | "track_status"
  | "track_status_ok"
  | "track_status_error"
> = {
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
};
