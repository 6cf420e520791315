/**
 * What the publisher and subscriber halves of a draft-14 session need from the session:
 * sending control messages, request ids, the shared origin and policy hooks.
 *
 * @module
 */
import type { Origin, TrackErrorReason } from "../../model/mod.ts";
import type { MoqTransport } from "../../transport/transport.ts";
import type { Logger } from "../../../log/mod.ts";
import type { ControlMessage } from "./messages.ts";
import { SubscribeErrorCode } from "../../error.ts";

/** What a peer asks to do with a namespace; the `authorize` hook decides. */
export type Operation = "publish" | "subscribe";

/**
 * Decides whether this session's peer may `operation` in `namespace`. Returning false
 * refuses the request with the draft's UNAUTHORIZED code.
 */
export type Authorize = (operation: Operation, namespace: readonly string[]) => boolean;

/** @internal The session as its halves see it. */
export interface SessionCore {
  readonly transport: MoqTransport;
  readonly origin: Origin;
  readonly log: Logger;
  readonly authorize: Authorize;
  readonly maxInFlightGroups: number;
  /** Sends a control message (queued in order). */
  send(message: ControlMessage): void;
  /** Allocates the next request id of ours, waiting for MAX_REQUEST_ID when blocked. */
  nextRequestId(): Promise<number>;
  /** True when `requestId` has the peer's parity and was already used by us (a late reply). */
  isOurs(requestId: number): boolean;
  /** Closes the whole session with a draft-14 error. */
  fail(code: number, reason: string): void;
}

/** The draft-14 request error code for a protocol-neutral reason (SUBSCRIBE_ERROR table). */
export function subscribeErrorCode(reason: TrackErrorReason): number {
  switch (reason) {
    case "unauthorized":
      return SubscribeErrorCode.UNAUTHORIZED;
    case "timeout":
      return SubscribeErrorCode.TIMEOUT;
    case "not_found":
      return SubscribeErrorCode.TRACK_DOES_NOT_EXIST;
    default:
      return SubscribeErrorCode.INTERNAL_ERROR;
  }
}
