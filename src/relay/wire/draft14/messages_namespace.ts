/**
 * Draft-14 namespace message codecs: the PUBLISH_NAMESPACE and SUBSCRIBE_NAMESPACE
 * families, including UNSUBSCRIBE_NAMESPACE.
 *
 * @module
 */
import { BufferReader, type TupleLimits } from "../coding/buffer.ts";
import { readParameters, writeParameters } from "./parameters.ts";
import { varintLengthFromFirstByte } from "../coding/varint.ts";
import { MessageType } from "./message_constants.ts";
import type { CodecsFor } from "./message_codec.ts";
import { readErrorFields, readReason, writeErrorFields, writeReason } from "./message_fields.ts";

const PREFIX_LIMITS: TupleLimits = { minFields: 0 };

/** Codecs for the PUBLISH_NAMESPACE and SUBSCRIBE_NAMESPACE families. */
export const NAMESPACE_CODECS: CodecsFor<
  | "publish_namespace"
  | "publish_namespace_ok"
  | "publish_namespace_error"
  | "publish_namespace_done"
  | "publish_namespace_cancel"
  | "subscribe_namespace"
  | "subscribe_namespace_ok"
  | "subscribe_namespace_error"
  | "unsubscribe_namespace"
> = {
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
