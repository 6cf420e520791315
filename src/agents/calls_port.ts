/**
 * The agent runtime's side of its contract with the calls control plane, written as the
 * port it needs: `src/agents` and `src/calls` stand on the same floor and import nothing of
 * each other. The composition root (`src/server`) hands the calls service in as
 * {@linkcode AgentCalls}, and TypeScript checks there, structurally, that it fits (as
 * `src/sip/calls_port.ts` does for the gateway).
 *
 * @module
 */
import type { AgentEvent, InterruptionEvent, TurnEvent } from "../api/agent_events.ts";
import type { IdempotencyClaim } from "../http/idempotency.ts";

/** A call as the agent runtime sees it (the calls' `Call` has these fields and more). */
export interface AgentCall {
  readonly sid: string;
  /** `inbound` or `outbound`. */
  readonly direction: string;
  readonly from: string;
  readonly to: string;
  /** The call's status (`in_progress` while an agent may be bound). */
  readonly status: string;
  /** Set once the call reached a terminal status: the call is over. */
  readonly endReason?: string;
  /** Capability tags of its legs, the leg's codec first (e.g. `["voice/g711_ulaw"]`). */
  readonly capabilities: readonly string[];
  /** The agent bound to it now, if any. */
  readonly agent?: string;
}

/** The call events the runtime follows; {@linkcode followed} picks them out of all events. */
export type FollowedCallEvent =
  | { readonly type: "status"; readonly sid: string; readonly at: string; readonly call: AgentCall }
  | {
    readonly type: "transfer";
    readonly sid: string;
    readonly at: string;
    readonly call: AgentCall;
    readonly transfer: { readonly to?: string; readonly agent?: string };
  }
  | { readonly type: "dtmf"; readonly sid: string; readonly at: string; readonly digits: string }
  | {
    readonly type: "transcript";
    readonly sid: string;
    readonly at: string;
    /** `uplink` (the caller) or `downlink`. */
    readonly track: string;
    readonly kind: string;
    readonly text: string;
  };

/** The events the runtime reports on a call (the calls' `agent`, `turn` and `interruption`). */
export type AgentCallEvent = AgentEvent | TurnEvent | InterruptionEvent;

/** Any call event, as the listener receives them (the calls' `CallEvent`s). */
export interface AnyCallEvent {
  readonly type: string;
  readonly sid: string;
}

/**
 * The call event types the runtime follows (what it asks the calls' events for).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { FOLLOWED_TYPES } from "./calls_port.ts";
 * assertEquals(FOLLOWED_TYPES.includes("dtmf"), true);
 * ```
 */
export const FOLLOWED_TYPES = ["status", "transfer", "dtmf", "transcript"] as const;
const FOLLOWED: ReadonlySet<string> = new Set(FOLLOWED_TYPES);

/**
 * Whether `event` is one the runtime follows. The calls' events of these types have these
 * shapes (the contract this port states); the others are ignored.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { followed } from "./calls_port.ts";
 * assertEquals([followed({ type: "dtmf", sid: "CA1" }), followed({ type: "turn", sid: "CA1" })], [true, false]);
 * ```
 */
export function followed(event: AnyCallEvent): event is FollowedCallEvent {
  return FOLLOWED.has(event.type);
}

/** What the agent runtime needs of the control plane (the calls service). */
export interface AgentCalls {
  /** The call `sid`; rejects (a calls domain error) when there is none. */
  get(sid: string): Promise<AgentCall>;
  /**
   * Records the agent bound to the in-progress call `sid` (`undefined` unbinds), only when
   * the one bound now is `expect`; `claim` is written with it in the same store write.
   */
  bindAgent(
    sid: string,
    agent: string | undefined,
    expect: string | undefined,
    claim?: IdempotencyClaim,
  ): Promise<AgentCall>;
  /** Delivers an event about `call` to its listeners (SSE) and its status callback. */
  emitEvent(call: AgentCall, event: AgentCallEvent): void;
  /** Hangs the call up. */
  hangup(sid: string): Promise<unknown>;
  /**
   * Places a new outbound call (a second leg an agent bridges to its caller); resolves with
   * it in `dialing`, its progress comes as `status` events.
   */
  originate(input: {
    readonly from: string;
    readonly to: string;
    /** How long the callee may ring before `no_answer`, ms [the gateway's]. */
    readonly ringTimeoutMs?: number;
  }): Promise<AgentCall>;
  /** Plays DTMF digits to the far end of the call's gateway leg (SIP: RFC 4733). */
  sendDigits(sid: string, digits: string): Promise<unknown>;
  /** Hands the caller to another agent or an address. */
  transfer(
    sid: string,
    target: { readonly agent: string } | { readonly to: string },
  ): Promise<unknown>;
  /** Every call's events. */
  readonly events: {
    /**
     * Listens to every call's events; returns the unsubscribe. `types`: the event types the
     * listener acts on (events nobody wants, e.g. a leg's VAD `speech`, are then not made).
     */
    onAnyCall(listener: (event: AnyCallEvent) => void, types?: readonly string[]): () => void;
  };
}
