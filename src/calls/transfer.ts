/**
 * Who holds a live call's far end: a transfer hands it to a number, a `sip:` URI, a client
 * or an agent (the sid and the caller's leg stay); agent binding records which agent the
 * agent runtime attached, compare-and-set against the one it believes is bound.
 *
 * @module
 */
import { parseAddress } from "./address.ts";
import type { Call, CallTransfer } from "./call.ts";
import { type CallCore, type IdempotencyClaim, unwrap } from "./core.ts";
import { CallConflictError, IllegalCallTransitionError } from "./errors.ts";

/** What `transfer` takes: exactly one of the two. */
export type TransferInput = { readonly to: string } | { readonly agent: string };

/** Hands the far end of an `in_progress` call to another party (the service's `transfer`). */
export async function transfer(
  core: CallCore,
  sid: string,
  input: TransferInput,
  claim?: IdempotencyClaim,
): Promise<Call> {
  const at = new Date().toISOString();
  let transfer: CallTransfer;
  if ("to" in input) {
    const address = parseAddress(input.to);
    if (address.kind !== "client" && !core.gateway) {
      throw new CallConflictError("no_gateway", "Cannot transfer: no SIP gateway is configured");
    }
    core.checkDestination(address.kind, address.value);
    transfer = { to: address.value, at };
  } else {
    transfer = { agent: input.agent, at };
  }
  const call = unwrap(
    await core.update(sid, claim, (call) => {
      if (call.status !== "in_progress") {
        return new IllegalCallTransitionError(
          sid,
          call.status,
          `Cannot transfer call "${sid}": it is ${call.status}, not in_progress`,
        );
      }
      return { ...call, transfers: [...call.transfers, transfer] };
    }, transfer),
  );
  if (transfer.to && !transfer.to.startsWith("client:") && core.legs.has(sid)) {
    core.track(
      core.gateway?.transfer?.(sid, transfer.to).catch((error) =>
        core.log.warn("Gateway transfer failed", { sid, error })
      ) ?? Promise.resolve(),
    );
  }
  return call;
}

/** Records which agent is bound to an `in_progress` call (the service's `bindAgent`). */
export async function bindAgent(
  core: CallCore,
  sid: string,
  agent: string | undefined,
  expect: string | undefined,
  claim?: IdempotencyClaim,
): Promise<Call> {
  return unwrap(
    await core.update(sid, claim, (call) => {
      if (agent !== undefined && call.status !== "in_progress") {
        return new IllegalCallTransitionError(
          sid,
          call.status,
          `Cannot bind an agent to call "${sid}": it is ${call.status}, not in_progress`,
        );
      }
      if (call.agent !== expect) {
        return new CallConflictError(
          "concurrent_change",
          call.agent === undefined
            ? `Call "${sid}" has no agent`
            : `Call "${sid}" already has agent "${call.agent}"`,
        );
      }
      const { agent: _previous, ...rest } = call;
      return agent === undefined ? rest : { ...rest, agent };
    }),
  );
}
