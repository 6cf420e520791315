/**
 * The `Call` record: what the control plane stores and returns. Plain JSON (timestamps are
 * ISO 8601 strings) so the same type serves the store, the HTTP API and the SDK.
 *
 * @module
 */
import {
  type CallStatus,
  type EndReason,
  IllegalTransitionError,
  isTerminal,
  transition,
} from "./status.ts";

/** Who started the call: the API (`outbound`) or a caller reaching us (`inbound`). */
export type CallDirection = "outbound" | "inbound";

/** When the call entered each status it went through. */
export type CallTimes = { readonly [S in CallStatus]?: string };

/** A transfer of the far end to another party; the sid stays. */
export interface CallTransfer {
  /** An address (`client:…`, E.164, `sip:…`) or, for agents, undefined. */
  readonly to?: string;
  /** The agent the call was handed to. */
  readonly agent?: string;
  /** When. */
  readonly at: string;
}

/** A call. */
export interface Call {
  /** The call id; also the MoQT namespace `["voice", sid]`. */
  readonly sid: string;
  /** Who started the call. */
  readonly direction: CallDirection;
  /** The calling party's address. */
  readonly from: string;
  /** The called party's address (E.164 number, `sip:` URI or `client:<identity>`). */
  readonly to: string;
  /** The call's current status. */
  readonly status: CallStatus;
  /** Creation time (same as `times.dialing`). */
  readonly createdAt: string;
  /** When each status was entered. */
  readonly times: CallTimes;
  /** Set once the call reached a terminal status. */
  readonly endReason?: EndReason;
  /** For SIP legs that ended on a SIP final response: its status code (e.g. 486). */
  readonly sipStatus?: number;
  /** The status callback URL given at originate. */
  readonly statusCallback?: string;
  /** The ring timeout given at originate, ms (else the gateway's or the service's). */
  readonly ringTimeoutMs?: number;
  /** The call's two tracks, full names (`voice/<sid>/uplink`). */
  readonly tracks: { readonly uplink: string; readonly downlink: string };
  /** Capability tags the legs may publish, e.g. `["voice/opus"]`. */
  readonly capabilities: readonly string[];
  /** Transfers so far, oldest first. */
  readonly transfers: readonly CallTransfer[];
  /** The agent bound to the call now (`POST /v1/calls/{sid}/agent`), if any. */
  readonly agent?: string;
}

/** What a new call needs. */
export interface NewCall {
  readonly sid: string;
  readonly direction: CallDirection;
  readonly from: string;
  readonly to: string;
  readonly statusCallback?: string;
  readonly ringTimeoutMs?: number;
  readonly capabilities: readonly string[];
  readonly now?: Date;
}

/**
 * A new call in `dialing`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createCall } from "./call.ts";
 * const call = createCall({ sid: "CA1", direction: "outbound", from: "+14155550100", to: "client:alice", capabilities: ["voice/opus"] });
 * assertEquals([call.status, call.tracks.uplink], ["dialing", "voice/CA1/uplink"]);
 * ```
 */
export function createCall(init: NewCall): Call {
  const at = (init.now ?? new Date()).toISOString();
  return {
    sid: init.sid,
    direction: init.direction,
    from: init.from,
    to: init.to,
    status: "dialing",
    createdAt: at,
    times: { dialing: at },
    ...(init.statusCallback ? { statusCallback: init.statusCallback } : {}),
    ...(init.ringTimeoutMs ? { ringTimeoutMs: init.ringTimeoutMs } : {}),
    tracks: { uplink: `voice/${init.sid}/uplink`, downlink: `voice/${init.sid}/downlink` },
    capabilities: [...init.capabilities],
    transfers: [],
  };
}

/**
 * The call after moving to `to` (the state machine's edge is checked); a terminal status
 * needs an end reason.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { advanceCall, createCall } from "./call.ts";
 * const call = createCall({ sid: "CA1", direction: "outbound", from: "+14155550100", to: "client:alice", capabilities: [] });
 * const ended = advanceCall(call, "failed", "client_not_registered");
 * assertEquals(ended.endReason, "client_not_registered");
 * ```
 */
export function advanceCall(
  call: Call,
  to: CallStatus,
  endReason?: EndReason,
  now: Date = new Date(),
): Call {
  const status = transition(call.status, to);
  if (isTerminal(status) && !endReason) {
    throw new IllegalTransitionError(call.status, to);
  }
  return {
    ...call,
    status,
    times: { ...call.times, [status]: now.toISOString() },
    ...(isTerminal(status) ? { endReason } : {}),
  };
}

/**
 * A new call sid: `CA` and 32 hex digits from the platform's CSPRNG.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { newSid } from "./call.ts";
 * assertEquals(/^CA[0-9a-f]{32}$/.test(newSid()), true);
 * ```
 */
export function newSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "CA" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
