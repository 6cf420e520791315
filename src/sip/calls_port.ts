/**
 * The gateway's side of its contract with the calls control plane, written as the ports the
 * gateway needs and offers: `src/sip` and `src/calls` stand on the same floor and import
 * nothing of each other. The composition root (`src/server`) plugs the calls service into
 * {@linkcode InboundCalls} and the gateway into the service's gateway slot, and TypeScript
 * checks there, structurally, that the two sides fit.
 *
 * @module
 */

/** Why a SIP leg ended: the calls control plane's end reasons a gateway can report. */
export type SipEndReason =
  | "hangup"
  | "canceled"
  | "caller_hangup"
  | "no_answer"
  | "gateway_error"
  | "busy"
  | "declined"
  | "rejected"
  | "media_timeout"
  | "transferred";

/** A call as the gateway sees it: its sid and both parties. */
export interface GatewayCall {
  readonly sid: string;
  /** The caller (E.164 or `sip:`). */
  readonly from: string;
  /** The callee (E.164, `sip:` or `client:`). */
  readonly to: string;
  /** How long an outbound call may ring, ms [the `sip` section's `ringTimeoutMs`]. */
  readonly ringTimeoutMs?: number;
}

/** How the gateway reports a leg's progress to the control plane (the calls' `CallProgress`). */
export interface LegProgress {
  /** The far end is ringing. */
  ringing(): Promise<void>;
  /** The far end answered and media flows. */
  answered(): Promise<void>;
  /** The leg ended; `sipStatus` is the final response that ended it, when there was one. */
  ended(reason: SipEndReason, detail?: { readonly sipStatus?: number }): Promise<void>;
  /** DTMF digits the far end sent. */
  digits?(digits: string): void;
  /** Speech started or stopped at `at` (ISO 8601). */
  speech?(state: "start" | "stop", at: string): void;
  /**
   * Whether anyone takes `speech` now: asked per uplink frame, so a leg runs its VAD only for
   * calls someone listens to [always, when `speech` is given].
   */
  speechWanted?(): boolean;
  /** Aborted when the call ends on the control plane's side (hangup, cancel, ring timeout);
   * its reason, when given, is the call's end reason. */
  readonly signal: AbortSignal;
}

/**
 * The shape of a control-plane refusal that is temporary (the calls' `StoreUnavailableError`:
 * the store cannot be written now): it says when to try again.
 */
export interface RetryLater {
  /** Seconds after which a retry may succeed. */
  readonly retryAfterSec: number;
}

/**
 * Whether `error` is a temporary refusal ({@linkcode RetryLater}): the gateway answers it
 * with 503 and `Retry-After` (RFC 3261 §21.5.4), as a carrier expects of an overloaded or
 * degraded server, never 500.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isRetryLater } from "./calls_port.ts";
 * const error = Object.assign(new Error("The call store is unavailable"), { retryAfterSec: 5 });
 * assertEquals([isRetryLater(error), isRetryLater(new Error("boom"))], [true, false]);
 * ```
 */
export function isRetryLater(error: unknown): error is RetryLater {
  return typeof error === "object" && error !== null && "retryAfterSec" in error &&
    typeof error.retryAfterSec === "number" && error.retryAfterSec >= 0;
}

/** What the gateway needs of the control plane for inbound calls (the calls service). */
export interface InboundCalls {
  /**
   * Creates an inbound call and returns the progress handle its leg reports through. Rejects
   * with a {@linkcode RetryLater} error when it cannot take calls now (the store fails).
   */
  admitInbound(input: {
    readonly from: string;
    readonly to: string;
    readonly capabilities: readonly string[];
  }): Promise<{ readonly call: GatewayCall; readonly progress: LegProgress }>;
  /** Rings a registered client for the call; false when it cannot be rung. */
  ringClient(sid: string, identity: string): Promise<boolean>;
  /** Hands the call to an agent. */
  transfer(sid: string, input: { readonly agent: string }): Promise<unknown>;
}

/** What the gateway offers the control plane (the calls' `CallGateway`). */
export interface GatewayPort {
  /** Starts dialing `call.to`; progress comes through `progress`. */
  dial(call: GatewayCall, progress: LegProgress): void;
  /** Why `to` will not be dialed, or undefined. */
  refuses?(to: string): string | undefined;
  /** Plays DTMF on a live leg. */
  sendDigits?(sid: string, digits: string): Promise<void>;
  /** Transfers a live leg's far end to `to`. */
  transfer?(sid: string, to: string): Promise<void>;
  /** A client rung for an inbound call answered it. */
  answer?(sid: string): Promise<void>;
}
