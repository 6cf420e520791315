/**
 * What happens to a call, as events: status changes, media (a leg's track appearing or
 * ending) and transfers. The {@linkcode EventHub} fans them out in process to SSE streams
 * and the webhook sender; rings for `client:` identities go through the same hub.
 *
 * @module
 */
import type { Call, CallTransfer } from "./call.ts";
import type { AsrEvent, TranscriptEvent } from "../voice/transcript.ts";
import type { AgentEvent, InterruptionEvent, TurnEvent } from "../api/agent_events.ts";

export type { AgentEvent, AsrEvent, InterruptionEvent, TranscriptEvent, TurnEvent };

/** A status change; `call` is the call after it. */
export interface StatusEvent {
  /** Discriminant. */
  readonly type: "status";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The call after the change. */
  readonly call: Call;
}

/** A leg's track appeared in the relay or ended. */
export interface MediaEvent {
  /** Discriminant. */
  readonly type: "media";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** Which of the call's two tracks. */
  readonly track: "uplink" | "downlink";
  /** Whether the track was published or ended. */
  readonly state: "published" | "ended";
  /** The track's capability tag, when known. */
  readonly capability?: string;
}

/** The far end was handed to another party. */
export interface TransferEvent {
  /** Discriminant. */
  readonly type: "transfer";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The transfer. */
  readonly transfer: CallTransfer;
  /** The call after the transfer. */
  readonly call: Call;
}

/** DTMF digits received from the far end (RFC 4733 telephone-events). */
export interface DtmfEvent {
  /** Discriminant. */
  readonly type: "dtmf";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The digits received. */
  readonly digits: string;
}

/**
 * Speech started or stopped on the caller's side, as the on-box voice-activity detector of a
 * SIP leg hears it (calls on the gateway's RTP path, with or without a bridge attached).
 */
export interface SpeechEvent {
  /** Discriminant. */
  readonly type: "speech";
  /** The call id. */
  readonly sid: string;
  /** When the speech run started or ended: its first frame's capture time (ISO 8601). */
  readonly at: string;
  /** Whether speech started or stopped. */
  readonly state: "start" | "stop";
}

/**
 * Any call event. `transcript` and `asr` come from a speech recognizer tapping the call's
 * tracks (the `asr-tap` plugin); see `src/voice/transcript.ts`.
 */
export type CallEvent =
  | StatusEvent
  | MediaEvent
  | TransferEvent
  | DtmfEvent
  | SpeechEvent
  | AgentEvent
  | TurnEvent
  | InterruptionEvent
  | TranscriptEvent
  | AsrEvent;

/** What a registered client's incoming stream carries. */
export type IncomingEvent =
  | { readonly type: "ring"; readonly call: Call }
  /** The call stopped ringing (answered elsewhere, canceled or timed out). */
  | { readonly type: "cancel"; readonly call: Call };

/**
 * In-process fan-out of call events (per sid) and incoming events (per client identity).
 * Listeners run synchronously; one that throws does not stop the others.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { EventHub } from "./events.ts";
 * const hub = new EventHub();
 * const seen: string[] = [];
 * const stop = hub.onCall("CA1", (event) => seen.push(event.type));
 * const at = new Date().toISOString();
 * hub.emitCall({ type: "media", sid: "CA1", at, track: "uplink", state: "published" });
 * hub.emitCall({ type: "media", sid: "CA2", at, track: "uplink", state: "published" });
 * stop();
 * hub.emitCall({ type: "media", sid: "CA1", at, track: "uplink", state: "ended" });
 * assertEquals(seen, ["media"]); // CA1's event, synchronously; not CA2's, nothing after stop()
 * ```
 */
export class EventHub {
  readonly #calls = new Map<string, Set<(event: CallEvent) => void>>();
  readonly #all = new Set<(event: CallEvent) => void>();
  /** The event types each {@linkcode onAnyCall} listener asked for (absent: every type). */
  readonly #allTypes = new Map<(event: CallEvent) => void, ReadonlySet<string>>();
  /** Bumped whenever a call listener comes or goes (see {@linkcode EventHub.version}). */
  #version = 0;
  readonly #incoming = new Map<string, Set<(event: IncomingEvent) => void>>();
  readonly #allIncoming = new Set<(identity: string, event: IncomingEvent) => void>();

  /** Listens to one call's events; returns the function that stops listening. */
  onCall(sid: string, listener: (event: CallEvent) => void): () => void {
    this.#version++;
    const stop = add(this.#calls, sid, listener);
    return () => {
      this.#version++;
      stop();
    };
  }

  /**
   * Listens to every call's events. `types`, when given, says which event types the listener
   * acts on (it still receives all): events nobody wants need not be produced at all (see
   * {@linkcode EventHub.wants}: a leg runs its VAD only while someone wants `speech`).
   */
  onAnyCall(
    listener: (event: CallEvent) => void,
    types?: readonly CallEvent["type"][],
  ): () => void {
    // (A listener added twice is one listener, as before: its last `types` count.)
    this.#all.add(listener);
    if (types) this.#allTypes.set(listener, new Set(types));
    else this.#allTypes.delete(listener);
    this.#version++;
    return () => {
      if (!this.#all.delete(listener)) return;
      this.#allTypes.delete(listener);
      this.#version++;
    };
  }

  /**
   * Whether anyone listens for `type` events of call `sid` now: a listener of that call, or an
   * {@linkcode onAnyCall} listener that did not narrow its types or named this one.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { EventHub } from "./events.ts";
   * const hub = new EventHub();
   * const stop = hub.onAnyCall(() => {}, ["status"]);
   * assertEquals(hub.wants("CA1", "speech"), false);
   * const stopCall = hub.onCall("CA1", () => {});
   * assertEquals([hub.wants("CA1", "speech"), hub.wants("CA2", "speech")], [true, false]);
   * stopCall();
   * stop();
   * ```
   */
  wants(sid: string, type: CallEvent["type"]): boolean {
    if (this.#calls.has(sid)) return true;
    for (const listener of this.#all) {
      const types = this.#allTypes.get(listener);
      if (!types || types.has(type)) return true;
    }
    return false;
  }

  /**
   * A number that changes whenever a call-event listener is added or removed: a caller
   * polling {@linkcode EventHub.wants} often (per media frame) asks again only when it moved.
   */
  get version(): number {
    return this.#version;
  }

  /** Listens for rings to `identity`. */
  onIncoming(identity: string, listener: (event: IncomingEvent) => void): () => void {
    return add(this.#incoming, identity, listener);
  }

  /** Calls (sids) and identities with listeners now: a leak check. */
  get listening(): { readonly calls: number; readonly incoming: number } {
    return { calls: this.#calls.size, incoming: this.#incoming.size };
  }

  /** Number of open incoming listeners for `identity`. */
  incomingListeners(identity: string): number {
    return this.#incoming.get(identity)?.size ?? 0;
  }

  /** Delivers a call event. */
  emitCall(event: CallEvent): void {
    for (const listener of [...this.#calls.get(event.sid) ?? [], ...this.#all]) {
      safely(listener, event);
    }
  }

  /** Delivers an incoming event to `identity`'s listeners. */
  /**
   * Delivers an event another node emitted (cluster mode) to this node's listeners of its call
   * only (SSE streams): never to {@linkcode onAnyCall} listeners, which act on this node's own
   * calls (logs, metrics, plugins, agents) and must not act twice.
   */
  emitRemote(event: CallEvent): void {
    for (const listener of [...this.#calls.get(event.sid) ?? []]) safely(listener, event);
  }

  emitIncoming(identity: string, event: IncomingEvent): void {
    for (const listener of [...this.#incoming.get(identity) ?? []]) safely(listener, event);
    for (const listener of [...this.#allIncoming]) {
      try {
        listener(identity, event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Listens to this node's incoming-call events for every identity (cluster mode: to publish
   * them to the other nodes). Returns the function that stops it.
   */
  onAnyIncoming(listener: (identity: string, event: IncomingEvent) => void): () => void {
    this.#allIncoming.add(listener);
    return () => void this.#allIncoming.delete(listener);
  }

  /**
   * Delivers an incoming-call event another node emitted (cluster mode) to this node's
   * listeners of `identity` (their `/incoming` streams), never to {@linkcode onAnyIncoming}.
   */
  emitIncomingRemote(identity: string, event: IncomingEvent): void {
    for (const listener of [...this.#incoming.get(identity) ?? []]) safely(listener, event);
  }
}

function add<T>(map: Map<string, Set<T>>, key: string, listener: T): () => void {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}

function safely<T>(listener: (event: T) => void, event: T): void {
  try {
    listener(event);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
