/**
 * Starting a call's far leg: an originated call is rung at a client or dialed by the
 * gateway, an inbound call is admitted from a gateway; a gateway leg reports through its
 * {@linkcode CallProgress} (the one source of its call's status) and takes DTMF.
 *
 * @module
 */
import { parseAddress } from "./address.ts";
import { type Call, createCall, newSid } from "./call.ts";
import { type CallCore, conflict, type IdempotencyClaim, record, step } from "./core.ts";
import { ring } from "./client_legs.ts";
import {
  CallbackRefusedError,
  CallConflictError,
  CallError,
  GatewayFailedError,
  IllegalCallTransitionError,
} from "./errors.ts";
import type { CallProgress } from "./gateway.ts";
import type { CallStatus } from "./status.ts";
import { UrlRefusedError } from "./url_policy.ts";

/** What `originate` takes. */
export interface OriginateInput {
  readonly to: string;
  readonly from: string;
  readonly statusCallback?: string;
  /** Capability tags the legs may publish [`["voice/opus"]`]. */
  readonly capabilities?: readonly string[];
  /** How long the callee may ring before `no_answer`, ms [the gateway's, or `ringTimeoutMs`]. */
  readonly ringTimeoutMs?: number;
}

/** What `CallService.admitInbound` takes: a caller reaching us through a gateway. */
export interface InboundInput {
  /** The caller (E.164 or `sip:`). */
  readonly from: string;
  /** The number or URI they called. */
  readonly to: string;
  /** Capability tags the gateway's leg publishes, e.g. `["voice/g711_alaw"]`. */
  readonly capabilities: readonly string[];
  readonly statusCallback?: string;
}

/** An admitted inbound call and the handle its gateway drives it with. */
export interface InboundLeg {
  /** The call as created (`direction: "inbound"`, status `dialing`). */
  readonly call: Call;
  /** Report progress exactly as for a dialed call; `signal` aborts when the call ends on our
   * side (hangup via the API, ring timeout). */
  readonly progress: CallProgress;
}

const DEFAULT_CAPABILITIES = ["voice/opus"];

/** Creates an outbound call in `dialing` and starts its far leg (the service's `originate`). */
export async function originate(
  core: CallCore,
  input: OriginateInput,
  claim?: IdempotencyClaim,
): Promise<Call> {
  const address = parseAddress(input.to);
  core.checkDestination(address.kind, address.value);
  if (input.statusCallback !== undefined) await checkCallback(core, input.statusCallback);
  const call = createCall({
    sid: newSid(),
    direction: "outbound",
    from: input.from,
    to: address.value,
    statusCallback: input.statusCallback,
    ringTimeoutMs: input.ringTimeoutMs,
    capabilities: input.capabilities ?? DEFAULT_CAPABILITIES,
  });
  const result = await core.guard.write(() => core.store.putCall(call, null, record(claim, call)));
  if (!result.ok) throw conflict(result.conflict);
  core.emitStatus(call);
  core.track(dispatch(core, call));
  return call;
}

/** Creates an inbound call with its gateway leg (the service's `admitInbound`). */
export async function admitInbound(core: CallCore, input: InboundInput): Promise<InboundLeg> {
  const call = createCall({
    sid: newSid(),
    direction: "inbound",
    from: input.from,
    to: input.to,
    statusCallback: input.statusCallback,
    capabilities: input.capabilities,
  });
  const result = await core.guard.write(() => core.store.putCall(call, null));
  if (!result.ok) throw conflict(result.conflict);
  core.emitStatus(call);
  const leg = new AbortController();
  core.legs.set(call.sid, leg);
  return { call, progress: progress(core, call.sid, leg.signal) };
}

/** Plays DTMF on a gateway leg (the service's `sendDigits`). */
export async function sendDigits(core: CallCore, call: Call, digits: string): Promise<Call> {
  const sid = call.sid;
  if (call.status !== "in_progress") {
    throw new IllegalCallTransitionError(
      sid,
      call.status,
      `Cannot send digits on call "${sid}": it is ${call.status}, not in_progress`,
    );
  }
  if (!core.legs.has(sid) || !core.gateway?.sendDigits) {
    throw new CallConflictError(
      "no_gateway_leg",
      `Cannot send digits on call "${sid}": no gateway leg`,
    );
  }
  try {
    await core.gateway.sendDigits(sid, digits);
  } catch (error) {
    throw gatewayFailed(sid, "Cannot send digits", error);
  }
  return call;
}

/** A gateway's refusal as the domain's error; a SIP status is read from its `status`. */
export function gatewayFailed(sid: string, what: string, error: unknown): GatewayFailedError {
  const status = (error as { status?: unknown })?.status;
  return new GatewayFailedError(
    sid,
    `${what} on call "${sid}": ${error instanceof Error ? error.message : String(error)}`,
    typeof status === "number" ? status : undefined,
    { cause: error },
  );
}

/** Starts a new call's far leg. */
async function dispatch(core: CallCore, call: Call): Promise<void> {
  const address = parseAddress(call.to);
  if (address.kind === "client") {
    if (!await core.guard.read(() => core.store.getClient(address.identity))) {
      await core.advance(call.sid, "failed", "client_not_registered");
      return;
    }
    await ring(core, call.sid, address.identity, call.ringTimeoutMs);
    return;
  }
  if (!core.gateway) {
    await core.advance(call.sid, "failed", "no_sip_gateway");
    return;
  }
  const leg = new AbortController();
  core.legs.set(call.sid, leg);
  core.gateway.dial(call, progress(core, call.sid, leg.signal));
}

/** The progress handle a gateway leg reports through. */
function progress(core: CallCore, sid: string, signal: AbortSignal): CallProgress {
  // Asked per media frame: the hub is asked again only when its listeners changed.
  let seen = -1;
  let wanted = false;
  return {
    signal,
    ringing: async () => void await core.advance(sid, "ringing"),
    answered: async () => void await core.advance(sid, "in_progress"),
    ended: async (reason, detail) => {
      await core.advanceWith(sid, (call) => {
        const status: CallStatus = call.status === "in_progress"
          ? "completed"
          : reason === "no_answer"
          ? "no_answer"
          : reason === "canceled" || reason === "caller_hangup"
          ? "completed"
          : "failed";
        const next = step(call, status, reason);
        return next instanceof CallError || detail?.sipStatus === undefined
          ? next
          : { ...next, sipStatus: detail.sipStatus };
      });
    },
    digits: (digits) =>
      core.events.emitCall({ type: "dtmf", sid, at: new Date().toISOString(), digits }),
    speech: (state, at) => core.events.emitCall({ type: "speech", sid, at, state }),
    speechWanted: () => {
      const version = core.events.version;
      if (version !== seen) {
        seen = version;
        wanted = core.events.wants(sid, "speech");
      }
      return wanted;
    },
  };
}

/** Refuses a callback URL the server must not send to (SSRF). */
async function checkCallback(core: CallCore, url: string): Promise<void> {
  try {
    await core.urlPolicy?.check(url);
  } catch (error) {
    if (!(error instanceof UrlRefusedError)) throw error;
    throw new CallbackRefusedError(error.reason, error.message);
  }
}
