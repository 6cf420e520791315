/**
 * Draft-14 publish message codecs: PUBLISH, PUBLISH_OK, PUBLISH_ERROR and PUBLISH_DONE.
 *
 * @module
 */
import type { BufferReader } from "../coding/buffer.ts";
import { readParameters, writeParameters } from "./parameters.ts";
import { MoqParseError } from "../../error.ts";
import { MessageType, STREAM_COUNT_UNKNOWN } from "./message_constants.ts";
import type { Publish } from "./message_types.ts";
import type { CodecsFor } from "./message_codec.ts";
import {
  checkGroupOrder,
  readErrorFields,
  readFilter,
  readFullTrackName,
  readGroupOrder,
  readLargest,
  readReason,
  writeErrorFields,
  writeFilter,
  writeFullTrackName,
  writeLargest,
  writeReason,
} from "./message_fields.ts";

/** Codecs for PUBLISH_DONE and the PUBLISH family. */
export const PUBLISH_CODECS: CodecsFor<
  "publish_done" | "publish" | "publish_ok" | "publish_error"
> = {
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
