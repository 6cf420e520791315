/**
 * What the end of a peer's control stream means. Draft-14 (§3.3) makes a closed control
 * stream a protocol violation, but that is how a peer going away normally looks from here:
 *
 * - A browser ends a WebTransport session (`WebTransport.close()`, a page closed or left)
 *   by ending the session's streams; Chromium keeps the HTTP/3 connection open for reuse, and
 *   Deno 2.9.6 does not surface the CLOSE_WEBTRANSPORT_SESSION capsule (its `closed` did not
 *   resolve within a second of a page close, observed in tests/browser/webtransport_test.ts).
 *   So a WebTransport peer's control stream ending is that peer's clean close.
 * - A raw QUIC peer closes its connection, and the stream's end often arrives first: it is a
 *   clean close (with the connection's own code) when the connection closes too, and a
 *   protocol violation only when the connection stays up.
 *
 * @module
 */
import { MoqError } from "../../error.ts";

/** What the session knows when the peer's control stream ends. */
export interface ControlStreamEnd {
  /** The transport the session runs on. */
  readonly transport: "quic" | "webtransport";
  /** The connection closed too (within the session's grace period). */
  readonly connectionClosed: boolean;
}

/**
 * Classifies the end of the peer's control stream: `undefined` when the connection's own
 * close ends the session (with the peer's code), else the error to close the session with.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { controlStreamEndError } from "./control_end.ts";
 *
 * assertEquals(controlStreamEndError({ transport: "webtransport", connectionClosed: false })?.kind, "no_error");
 * assertEquals(controlStreamEndError({ transport: "quic", connectionClosed: true }), undefined);
 * assertEquals(controlStreamEndError({ transport: "quic", connectionClosed: false })?.kind, "protocol_violation");
 * ```
 */
export function controlStreamEndError(end: ControlStreamEnd): MoqError | undefined {
  if (end.connectionClosed) return undefined;
  if (end.transport === "webtransport") {
    return new MoqError("no_error", "The peer closed its WebTransport session");
  }
  return MoqError.protocolViolation(
    "The peer closed the control stream but not its connection",
  );
}
