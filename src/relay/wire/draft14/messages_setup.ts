/**
 * Draft-14 session setup and flow-control message codecs: CLIENT_SETUP, SERVER_SETUP,
 * GOAWAY, MAX_REQUEST_ID and REQUESTS_BLOCKED.
 *
 * @module
 */
import { readParameters, writeParameters } from "./parameters.ts";
import { MAX_GOAWAY_URI_LENGTH, MessageType } from "./message_constants.ts";
import type { CodecsFor } from "./message_codec.ts";

/** Codecs for the setup and flow-control messages. */
export const SETUP_CODECS: CodecsFor<
  "client_setup" | "server_setup" | "goaway" | "max_request_id" | "requests_blocked"
> = {
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
};
