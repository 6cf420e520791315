/**
 * The plug point for legs that are not SDK clients: the SIP gateway implements
 * {@linkcode CallGateway} to dial E.164 numbers and `sip:` URIs.
 *
 * @module
 */
import type { Call } from "./call.ts";
import type { EndReason } from "./status.ts";

/** How a gateway reports a dialed call's progress back to the control plane. */
export interface CallProgress {
  /** The far end is ringing. */
  ringing(): Promise<void>;
  /** The far end answered; its leg publishes on the call's tracks. */
  answered(): Promise<void>;
  /** The call could not be completed, or the far end hung up; `sipStatus` is the SIP final
   * response that ended it, when there was one. */
  ended(reason: EndReason, detail?: { readonly sipStatus?: number }): Promise<void>;
  /** DTMF digits the far end sent (RFC 4733), surfaced as `dtmf` call events. */
  digits?(digits: string): void;
  /** The leg's voice-activity detector heard speech start or stop at `at` (ISO 8601). */
  speech?(state: "start" | "stop", at: string): void;
  /**
   * Whether anyone takes `speech` now: asked per uplink frame, so a leg runs its VAD only for
   * calls someone listens to [always, when `speech` is given].
   */
  speechWanted?(): boolean;
  /** Aborted when the call ends on our side (hangup, cancel, ring timeout), with the call's
   * end reason as the abort reason. */
  readonly signal: AbortSignal;
}

/**
 * Dials calls to the PSTN or SIP.
 *
 * An implementation MUST return from `dial` promptly (dialing continues in the background),
 * MUST report through `progress` only (never write the store), and MUST tear its leg down
 * when `progress.signal` aborts.
 */
export interface CallGateway {
  /** Starts dialing `call.to`. */
  dial(call: Call, progress: CallProgress): void;
  /**
   * Why the gateway will not dial `to` (E.164 or `sip:`), or undefined when it will: checked
   * before a call is created or transferred, so the API refuses the request (422) instead of
   * creating a call that fails. E.g. a `sip:` host that is neither a trunk nor allowed.
   */
  refuses?(to: string): string | undefined;
  /** Plays DTMF digits to the far end of a live leg; rejects when there is no such leg. */
  sendDigits?(sid: string, digits: string): Promise<void>;
  /** Hands the far end of a live leg to `to` (E.164 or `sip:`), e.g. by SIP REFER. */
  transfer?(sid: string, to: string): Promise<void>;
  /**
   * A client rung for an inbound call the gateway admitted answered it: the gateway answers
   * its leg (SIP 200) and reports `answered` through that call's progress once media flows.
   * Rejects when the call has no ringing leg there.
   */
  answer?(sid: string): Promise<void>;
}
