/**
 * What the publisher and subscriber halves of a draft-14 session need from the session:
 * sending control messages, request ids, the shared origin and policy hooks.
 *
 * @module
 */
import type { Authorize, Origin } from "../../model/mod.ts";
import type { MoqTransport } from "../../transport/transport.ts";
import type { Logger } from "../../../log/mod.ts";
import type { ControlMessage } from "./messages.ts";
import type { MoqErrorKind } from "../../error.ts";
import type { RelayTally } from "../../../metrics/tally.ts";

/** @internal The session as its halves see it. */
export interface SessionCore {
  readonly transport: MoqTransport;
  readonly origin: Origin;
  readonly log: Logger;
  readonly authorize: Authorize;
  readonly maxInFlightGroups: number;
  /** Where the session's forwarders count what they send (a relay's session only). */
  readonly tally?: RelayTally;
  /** Sends a control message (queued in order). */
  send(message: ControlMessage): void;
  /** Allocates the next request id of ours, waiting for MAX_REQUEST_ID when blocked. */
  nextRequestId(): Promise<number>;
  /** True when `requestId` has the peer's parity and was already used by us (a late reply). */
  isOurs(requestId: number): boolean;
  /** Closes the whole session for a protocol-neutral reason. */
  fail(kind: MoqErrorKind, reason: string): void;
}
