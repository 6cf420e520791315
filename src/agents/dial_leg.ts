/**
 * A second leg an agent places and bridges to its caller (a Fonoster app's `dial` verb): a
 * new outbound call through the calls control plane (so through the SIP gateway for a
 * number or `sip:` URI), followed by its `status` events, and once it is answered an
 * {@linkcode AudioBridge} on it (8 kHz PCM16) that carries the agent's caller to it and the
 * callee back.
 *
 * ```text
 * dialing ──▶ ringing ──▶ in_progress ──▶ completed
 *    │           │                          (ended: the callee hung up, or closed)
 *    └───────────┴──▶ no_answer | failed | completed (never answered)
 * ```
 *
 * @module
 */
import { attach, type AudioBridge, type BridgeVia } from "../bridge/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AgentCall, AgentCalls, AnyCallEvent, FollowedCallEvent } from "./calls_port.ts";

/** The rate of a dial leg's audio (as the agent's Fonoster streams). */
const RATE = 8000;
/** Oldest a callee frame may be when read before the bridge drops it, ms. */
const MAX_LATENCY_MS = 1000;

/** What a dial leg needs of the runtime. */
export interface DialDeps {
  readonly calls: Pick<AgentCalls, "originate" | "hangup" | "events">;
  readonly via: BridgeVia;
  readonly log: Logger;
}

/** What to dial. */
export interface DialInput {
  readonly from: string;
  readonly to: string;
  /** How long it may ring, ms [the gateway's]. */
  readonly ringTimeoutMs?: number;
}

/** How a dial leg goes: its call's statuses, in order, and the callee's audio. */
export interface DialListener {
  /** The leg's call reached `status` (`endReason` once it ended). */
  status(status: string, endReason: string | undefined): void;
  /** 20 ms of the callee's audio (8 kHz). */
  audio(pcm: Int16Array): void;
}

/** A placed leg. */
export interface DialLeg extends AsyncDisposable {
  /** Its call. */
  readonly sid: string;
  /** Sends 20 ms of the caller's audio (8 kHz) to the callee, once answered. */
  write(pcm: Int16Array): void;
  /** Hangs the leg up (when it still runs) and releases its bridge; a second close is a no-op. */
  close(): Promise<void>;
}

/**
 * Places the leg; rejects when the control plane refuses it (no gateway, a destination
 * the policy forbids).
 *
 * @example
 * ```ts ignore
 * const leg = await dialLeg(deps, { from: "+14155550100", to: "+14155550123" }, listener);
 * ```
 */
export async function dialLeg(
  deps: DialDeps,
  input: DialInput,
  listener: DialListener,
): Promise<DialLeg> {
  // Listening before the call exists: its first events may come before originate returns.
  const early: StatusEvent[] = [];
  const placed: { leg?: Leg } = {};
  const stop = deps.calls.events.onAnyCall((event: AnyCallEvent) => {
    if (event.type !== "status") return;
    const status = event as StatusEvent;
    const leg = placed.leg;
    if (leg) {
      if (status.sid === leg.sid) leg.onStatus(status.call);
    } else if (early.length < 64) early.push(status);
  }, ["status"]);
  let call: AgentCall;
  try {
    call = await deps.calls.originate(input);
  } catch (error) {
    stop();
    throw error;
  }
  const leg = new Leg(deps, call.sid, listener, stop);
  placed.leg = leg;
  for (const event of early) if (event.sid === call.sid) leg.onStatus(event.call);
  return leg;
}

type StatusEvent = Extract<FollowedCallEvent, { type: "status" }>;

class Leg implements DialLeg {
  readonly sid: string;
  readonly #deps: DialDeps;
  readonly #listener: DialListener;
  readonly #stop: () => void;
  #status = "dialing";
  #bridge: AudioBridge | undefined;
  #ended = false;
  #closed = false;

  constructor(deps: DialDeps, sid: string, listener: DialListener, stop: () => void) {
    this.#deps = deps;
    this.sid = sid;
    this.#listener = listener;
    this.#stop = stop;
  }

  onStatus(call: AgentCall): void {
    if (this.#closed || this.#ended || call.status === this.#status) return;
    this.#status = call.status;
    if (call.endReason !== undefined) {
      this.#ended = true;
      this.#stop();
      this.#bridge?.close();
    } else if (call.status === "in_progress") {
      this.#attach();
    }
    this.#listener.status(call.status, call.endReason);
  }

  write(pcm: Int16Array): void {
    this.#bridge?.write(pcm);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    this.#bridge?.close();
    if (!this.#ended) {
      await this.#deps.calls.hangup(this.sid).catch((error) =>
        this.#deps.log.debug("Dialed leg hangup failed", { sid: this.sid, error })
      );
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #attach(): void {
    attach(this.#deps.via, {
      sid: this.sid,
      codec: "pcm16",
      sampleRate: RATE,
      maxLatencyMs: MAX_LATENCY_MS,
    }).then(async (bridge) => {
      if (this.#closed || this.#ended) return bridge.close();
      this.#bridge = bridge;
      for await (const frame of bridge) {
        if (frame.samples && !frame.concealed) this.#listener.audio(frame.samples);
      }
    }).catch((error) =>
      this.#deps.log.warn("Cannot bridge the dialed leg", { sid: this.sid, error })
    );
  }
}
