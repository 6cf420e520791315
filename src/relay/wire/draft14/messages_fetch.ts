/**
 * Draft-14 fetch message codecs: FETCH, FETCH_OK, FETCH_ERROR and FETCH_CANCEL.
 *
 * @module
 */
import type { BufferReader, BufferWriter } from "../coding/buffer.ts";
import { readParameters, writeParameters } from "./parameters.ts";
import { FetchType, MessageType } from "./message_constants.ts";
import type { Fetch, FetchRange } from "./message_types.ts";
import type { CodecsFor } from "./message_codec.ts";
import {
  checkGroupOrder,
  readErrorFields,
  readFullTrackName,
  readGroupOrder,
  writeErrorFields,
  writeFullTrackName,
} from "./message_fields.ts";

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

/** Codecs for the FETCH family. */
export const FETCH_CODECS: CodecsFor<"fetch" | "fetch_ok" | "fetch_error" | "fetch_cancel"> = {
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
};
