/**
 * A SIP leg of a call and its lifecycle, as a discriminated union: what a leg holds depends on
 * its state, so an answered leg without a dialog, or a ringing one with a session, cannot be
 * written down.
 *
 * ```text
 *  offering ──▶ early ──▶ confirmed ──▶ terminated
 *     │           │                        ▲
 *     └───────────┴────────────────────────┘   (rejected, canceled, timed out)
 * ```
 *
 * - `offering` / `early`: the INVITE is not answered yet. An inbound leg holds the server
 *   transaction it must answer and the peer's negotiated offer; an outbound leg holds its
 *   client transaction and its ring timer.
 * - `confirmed`: a dialog (`session`) and the agreed audio exist; a transfer may be under way.
 * - `terminated`: why it ended. Entering it clears the ring timer, detaches every sip.js
 *   delegate (sip.js keeps transactions for up to 64·T1: none of them may hold the leg) and
 *   aborts {@linkcode SipLeg.ended}, so every task waiting on the leg settles.
 *
 * @module
 */
import type { Core } from "sip.js";
import type { LegProgress, SipEndReason } from "./calls_port.ts";
import type { TrunkConfig } from "./config.ts";
import type { MediaLeg } from "./media.ts";
import type { NegotiatedAudio, SdpDirection } from "./sdp.ts";

/** The name of a SIP leg's state (see the module diagram). */
export type SipLegStateName = SipLegState["name"];

/** What an unanswered leg holds, by direction. */
export type PendingInvite =
  | {
    readonly direction: "inbound";
    /** The INVITE server transaction to answer. */
    readonly invite: Core.IncomingInviteRequest;
    /** The peer's offer, negotiated against our codecs. */
    readonly offer: NegotiatedAudio;
  }
  | {
    readonly direction: "outbound";
    /** Our INVITE client transaction (CANCEL goes through it). */
    readonly outgoing: Core.OutgoingInviteRequest;
    /** Fires `no_answer` after the ring timeout; cleared when the leg leaves ringing. */
    readonly ringTimer?: ReturnType<typeof setTimeout>;
  };

/** A transfer under way on a confirmed leg. */
export type LegTransfer =
  | { readonly kind: "refer" }
  | { readonly kind: "b2bua"; readonly target?: SipLeg };

/** A SIP leg's state, with what the leg holds in it. */
export type SipLegState =
  | { readonly name: "offering"; readonly pending: PendingInvite }
  | { readonly name: "early"; readonly pending: PendingInvite }
  | {
    readonly name: "confirmed";
    readonly session: Core.Session;
    /** The agreed audio (re-INVITEs and UPDATEs replace it). */
    readonly audio: NegotiatedAudio;
    /** Our direction as answered. */
    readonly localDirection: SdpDirection;
    readonly transfer?: LegTransfer;
  }
  | { readonly name: "terminated"; readonly reason: SipEndReason };

const EDGES: Readonly<Record<SipLegStateName, readonly SipLegStateName[]>> = {
  offering: ["offering", "early", "confirmed", "terminated"],
  early: ["early", "confirmed", "terminated"],
  // confirmed → confirmed: a re-INVITE's new audio, a transfer starting or ending.
  confirmed: ["confirmed", "terminated"],
  terminated: [],
};

/** A move {@linkcode SipLeg.transition} refuses. */
export class IllegalLegTransitionError extends Error {
  /** Names the leg and both states. */
  constructor(readonly sid: string, readonly from: SipLegStateName, readonly to: SipLegStateName) {
    super(`Cannot move SIP leg ${sid} from "${from}" to "${to}"`);
    this.name = "IllegalLegTransitionError";
  }
}

/** What a {@linkcode SipLeg} is made from. */
export interface SipLegInit {
  readonly sid: string;
  readonly callId: string;
  readonly progress: LegProgress;
  readonly media: MediaLeg;
  readonly pending: PendingInvite;
  /** The far end's identity (E.164 or `sip:`). */
  readonly remoteIdentity: string;
  /** Our Contact for this leg's dialog (REFER carries it, RFC 3515 §2.4.1). */
  readonly contact: string;
  readonly trunk?: TrunkConfig;
  /** Which of the call's tracks the media publishes and plays (a transfer target's leg). */
  readonly tracks?: { readonly publish: string; readonly play: string };
  /** The o= session id of our SDP, when an offer already went out with it [a new one]. */
  readonly sdpSession?: string;
}

/** A fresh SDP o= session id. */
export function newSdpSession(): string {
  return String(Math.floor(Math.random() * 1e9));
}

/**
 * One SIP leg: identity fields fixed at creation, the state as a union, one
 * {@linkcode transition} that refuses illegal edges, and progress reports kept in order.
 *
 * @example
 * ```ts ignore
 * import { assertEquals } from "@std/assert";
 * const leg = new SipLeg({ sid, callId, progress, media, pending: { direction: "inbound", invite, offer }, remoteIdentity: "+14155550100", contact });
 * leg.transition({ name: "early", pending: leg.pending! });
 * leg.transition({ name: "terminated", reason: "canceled" });
 * assertEquals(leg.ended.aborted, true);
 * ```
 */
export class SipLeg {
  readonly sid: string;
  readonly callId: string;
  readonly direction: "inbound" | "outbound";
  readonly progress: LegProgress;
  readonly media: MediaLeg;
  readonly remoteIdentity: string;
  readonly contact: string;
  readonly trunk: TrunkConfig | undefined;
  readonly tracks: { readonly publish: string; readonly play: string } | undefined;
  /** The o= session id of our SDP. */
  readonly sdpSession: string;
  /** The o= version of our SDP: bumped when our answer changes. */
  sdpVersion = 1;
  readonly #ended = new AbortController();
  #state: SipLegState;
  #reports: Promise<void> = Promise.resolve();

  /** A new leg in `offering`. */
  constructor(init: SipLegInit) {
    this.sid = init.sid;
    this.callId = init.callId;
    this.direction = init.pending.direction;
    this.progress = init.progress;
    this.media = init.media;
    this.remoteIdentity = init.remoteIdentity;
    this.contact = init.contact;
    this.trunk = init.trunk;
    this.tracks = init.tracks;
    this.sdpSession = init.sdpSession ?? newSdpSession();
    this.#state = { name: "offering", pending: init.pending };
  }

  /** The current state. */
  get state(): SipLegState {
    return this.#state;
  }

  /** The unanswered INVITE, while `offering` or `early`. */
  get pending(): PendingInvite | undefined {
    const state = this.#state;
    return state.name === "offering" || state.name === "early" ? state.pending : undefined;
  }

  /** The dialog, while `confirmed`. */
  get session(): Core.Session | undefined {
    return this.#state.name === "confirmed" ? this.#state.session : undefined;
  }

  /** True once `terminated`. */
  get isTerminated(): boolean {
    return this.#state.name === "terminated";
  }

  /** Aborted when the leg terminates (the reason: its end reason): what waits on the leg listens
   * here and settles. */
  get ended(): AbortSignal {
    return this.#ended.signal;
  }

  /**
   * Moves to `next`; throws {@linkcode IllegalLegTransitionError} on an edge the diagram does
   * not have. Leaving the unanswered states clears the ring timer; `terminated` detaches
   * sip.js delegates and aborts {@linkcode ended}.
   */
  transition(next: SipLegState): void {
    const from = this.#state;
    if (!EDGES[from.name].includes(next.name)) {
      throw new IllegalLegTransitionError(this.sid, from.name, next.name);
    }
    this.#state = next;
    const leavingPending = (from.name === "offering" || from.name === "early") &&
      next.name !== "offering" && next.name !== "early";
    if (leavingPending && from.pending.direction === "outbound") {
      clearTimeout(from.pending.ringTimer);
    }
    if (next.name !== "terminated") return;
    if (from.name === "offering" || from.name === "early") {
      if (from.pending.direction === "inbound") from.pending.invite.delegate = undefined;
    } else if (from.name === "confirmed") {
      from.session.delegate = undefined;
    }
    // The end reason as the abort reason: an abort without one builds a DOMException (a stack
    // capture per call, measurable at 200 calls/s).
    this.#ended.abort(next.reason);
  }

  /** Runs a progress report after the leg's earlier ones (an ACK's `answered` lands before
   * a quick BYE's `ended`); `onError` gets a report's failure. */
  report(run: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
    this.#reports = this.#reports.then(run).catch(onError);
    return this.#reports;
  }
}

/** The gateway's legs by sid and by Call-ID. */
export class LegTable {
  readonly #bySid = new Map<string, SipLeg>();
  readonly #byCallId = new Map<string, SipLeg>();

  /** Legs by sid (a transfer target's leg shares its caller's sid and is not counted). */
  get size(): number {
    return this.#bySid.size;
  }

  /** Legs by Call-ID. */
  get callIds(): number {
    return this.#byCallId.size;
  }

  /** Adds `leg`; a transfer target's leg (it has `tracks`) goes by Call-ID only. */
  add(leg: SipLeg): void {
    if (!leg.tracks) this.#bySid.set(leg.sid, leg);
    this.#byCallId.set(leg.callId, leg);
  }

  /** The call's own leg. */
  bySid(sid: string): SipLeg | undefined {
    return this.#bySid.get(sid);
  }

  /** A leg by its dialog's Call-ID. */
  byCallId(callId: string): SipLeg | undefined {
    return this.#byCallId.get(callId);
  }

  /** Forgets `leg`. */
  delete(leg: SipLeg): void {
    if (this.#bySid.get(leg.sid) === leg) this.#bySid.delete(leg.sid);
    if (this.#byCallId.get(leg.callId) === leg) this.#byCallId.delete(leg.callId);
  }

  /** Every leg (by Call-ID: transfer targets too). */
  all(): SipLeg[] {
    return [...this.#byCallId.values()];
  }
}
