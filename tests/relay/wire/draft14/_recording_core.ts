/**
 * A {@linkcode SessionCore} that records the control messages a session half sends, over an
 * in-memory transport pair whose far end (`peer`) the test reads: what the Publisher and
 * Subscriber unit tests drive their half with.
 *
 * @module
 */
import { type Authorize, Origin } from "../../../../src/relay/model/mod.ts";
import type { SessionCore } from "../../../../src/relay/wire/draft14/session_core.ts";
import type { ControlMessage } from "../../../../src/relay/wire/draft14/messages.ts";
import type { MoqErrorKind } from "../../../../src/relay/error.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { memoryTransports } from "../../../_lib/memory_transport.ts";

const log = createLogger({ level: "error" });

/**
 * A recording core. Request ids of ours start at `firstRequestId` and step by 2 (the role's
 * parity); `sent(type, n)` is the `n`th message of `type` sent (0 = first), waiting for it.
 */
export function recordingCore(authorize: Authorize, firstRequestId: 0 | 1) {
  const { client, server } = memoryTransports();
  const origin = new Origin({ subscribeTimeoutMs: 0 });
  const messages: ControlMessage[] = [];
  const waiters: (() => void)[] = [];
  const failures: { kind: MoqErrorKind; reason: string }[] = [];
  let nextId = firstRequestId;
  const core: SessionCore = {
    transport: server,
    origin,
    log,
    authorize,
    maxInFlightGroups: 4,
    send(message) {
      messages.push(message);
      for (const wake of waiters.splice(0)) wake();
    },
    nextRequestId: () => Promise.resolve((nextId += 2) - 2),
    isOurs: (id) => id % 2 === firstRequestId && id < nextId,
    fail: (kind, reason) => void failures.push({ kind, reason }),
  };
  return {
    core,
    origin,
    messages,
    failures,
    /** The far end of the half's transport. */
    peer: client,
    /** Data streams the half opened. */
    get opened(): number {
      return server.opened;
    },
    async sent<T extends ControlMessage["type"]>(
      type: T,
      n = 0,
    ): Promise<Extract<ControlMessage, { type: T }>> {
      for (;;) {
        const found = messages.filter((m) => m.type === type)[n];
        if (found) return found as Extract<ControlMessage, { type: T }>;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}
