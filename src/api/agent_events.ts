/**
 * The call events the agent runtime reports (`agent`, `turn`, `interruption`): the one
 * definition the producer (`src/agents`, through its calls port) and the consumers (the
 * Calls event hub, SSE, webhooks, the SDK) share. `src/agents` and `src/calls` stand on the
 * same floor and import nothing of each other, so the contract lives here, on the ground
 * floor beside the problem details. Types only: no I/O, no imports.
 *
 * @module
 */

/** An agent was bound to the call, unbound, or failed (`reason` says why). */
export interface AgentEvent {
  /** Discriminant. */
  readonly type: "agent";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The agent's configured name. */
  readonly agent: string;
  /** What happened to the binding. */
  readonly state: "attached" | "detached" | "failed";
  /**
   * Why it was detached or failed, e.g. `"api"`, `"replaced"`, `"call_ended"`,
   * `"bot closed the connection (code 1011)"`.
   */
  readonly reason?: string;
}

/** A caller turn started or ended, as the agent runtime's endpointing hears it. */
export interface TurnEvent {
  /** Discriminant. */
  readonly type: "turn";
  /** The call id. */
  readonly sid: string;
  /** When it was detected (ISO 8601). */
  readonly at: string;
  /** The agent listening. */
  readonly agent: string;
  /** Whether the turn started or ended. */
  readonly state: "start" | "end";
  /** Capture time of the turn's first voiced frame (ISO 8601). */
  readonly startedAt: string;
  /** For `end`: capture time of the end of its last voiced frame (ISO 8601). */
  readonly endedAt?: string;
}

/** The caller interrupted the agent: its reply was cut. */
export interface InterruptionEvent {
  /** Discriminant. */
  readonly type: "interruption";
  /** The call id. */
  readonly sid: string;
  /** When the reply was cut (ISO 8601). */
  readonly at: string;
  /** The agent interrupted. */
  readonly agent: string;
  /** Milliseconds of the interrupted reply actually played to the caller. */
  readonly playedMs: number;
  /** For text replies: the words played before the cut. */
  readonly words?: string;
  /** Milliseconds of caller speech heard when the interruption was committed. */
  readonly heardMs?: number;
}
