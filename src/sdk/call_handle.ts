/**
 * The `Call` handle `voice.calls.originate()` and `voice.calls.get()` return: one call, keyed
 * by its sid, with its latest snapshot (`status`, `from`, `to`, times, … as own properties, so
 * it reads like the plain JSON call, {@linkcode CallJson}) and the operations on it, including
 * `call.agent.attach()`. `await using` ends what the handle opened: the bridge legs it
 * attached, the event streams it opened, and — for a call it originated — the call itself when
 * it has not ended. List results stay plain JSON.
 *
 * @module
 */
import type { Call as CallJson } from "../calls/call.ts";
import type { CallEvent } from "../calls/events.ts";
import type { AttachOptions, AudioBridge, Bridge } from "../bridge/audio_bridge.ts";
import type { MutationOptions } from "./options.ts";
import { VoiceApiError } from "./error.ts";

export type { CallJson };

/** What a handle needs of `voice.calls` and `voice.agents` (by sid). */
export interface CallOperations {
  /** `GET /v1/calls/{sid}`, as JSON. */
  fetch(sid: string): Promise<CallJson>;
  /** `POST /v1/calls/{sid}/hangup`. */
  hangup(sid: string, options?: MutationOptions): Promise<CallJson>;
  /** `POST /v1/calls/{sid}/answer`. */
  answer(sid: string, options?: MutationOptions): Promise<CallJson>;
  /** `POST /v1/calls/{sid}/transfer`. */
  transfer(
    sid: string,
    target: { to: string } | { agent: string },
    options?: MutationOptions,
  ): Promise<CallJson>;
  /** `POST /v1/calls/{sid}/digits`. */
  sendDigits(sid: string, digits: string, options?: MutationOptions): Promise<CallJson>;
  /** `GET /v1/calls/{sid}/events`. */
  events(sid: string, options?: { signal?: AbortSignal }): AsyncGenerator<CallEvent>;
  /** `POST /v1/calls/{sid}/agent`. */
  attachAgent(
    sid: string,
    agent: string,
    options?: AgentAttachOptions,
  ): Promise<CallJson>;
  /** `DELETE /v1/calls/{sid}/agent`. */
  detachAgent(sid: string, options?: MutationOptions): Promise<CallJson>;
}

/** `call.agent.attach()` options. */
export interface AgentAttachOptions extends MutationOptions {
  /** Per-call parameters handed to the agent (media-streams: merged into `customParameters`). */
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * `call.agent`: the AI voice agent bound to the call (its `name`, as the JSON call's `agent`
 * field says), and binding or unbinding one.
 *
 * @example
 * ```ts ignore
 * await using call = await voice.calls.get(sid);
 * await call.agent.attach("support", { parameters: { tier: "gold" } });
 * console.log(call.agent.name); // support
 * await call.agent.detach();
 * ```
 */
export interface CallAgent {
  /** The agent bound to the call now, as of the handle's snapshot; undefined: none. */
  readonly name: string | undefined;
  /**
   * Binds the configured agent `name` (`POST /v1/calls/{sid}/agent`, scope `agents:write`);
   * resolves with the handle, updated. Rejects with a `VoiceApiError` 404 for an unknown
   * agent, 409 for a call not in progress or that has an agent already.
   */
  attach(name: string, options?: AgentAttachOptions): Promise<Call>;
  /** Unbinds the call's agent (`DELETE /v1/calls/{sid}/agent`); the call goes on. */
  detach(options?: MutationOptions): Promise<Call>;
}

const TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "no_answer"]);

// The snapshot's fields are own properties of the handle (assigned on every update), typed by
// merging the handle's class with the JSON `Call` it mirrors.
/**
 * The handle's snapshot fields: every field of the JSON call ({@linkcode CallJson}), as of the
 * last response or status event the handle saw; `agent` is {@linkcode CallAgent} (its `name`
 * is the JSON `agent`).
 */
export interface Call extends Omit<CallJson, "agent"> {}

/**
 * One call: its latest snapshot plus `refresh()`, `hangup()`, `answer()`, `transfer()`,
 * `sendDigits()`, `events()`, `agent.attach()` / `agent.detach()` and, with a bridge,
 * `attach()` / `attachCaller()`.
 *
 * @example
 * ```ts ignore
 * import { assertEquals } from "@std/assert";
 * await using call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
 * for await (const event of call.events()) {
 *   if (event.type === "status" && event.call.status === "in_progress") break;
 * }
 * await using leg = await call.attach({ codec: "pcm16", sampleRate: 16000 });
 * assertEquals(call.status, "in_progress"); // the snapshot follows the events it saw
 * ```
 */
export class Call implements AsyncDisposable {
  readonly #ops: CallOperations;
  #agentName: string | undefined;
  readonly #bridge: Bridge | undefined;
  readonly #originated: boolean;
  readonly #legs = new Set<AudioBridge>();
  readonly #streams = new Set<AbortController>();
  #initialized = false;
  #disposed: Promise<void> | undefined;

  /** @internal Use `voice.calls.originate()` or `voice.calls.get()`. */
  constructor(
    snapshot: CallJson,
    init: { ops: CallOperations; bridge?: Bridge; originated?: boolean },
  ) {
    this.#ops = init.ops;
    this.#bridge = init.bridge;
    this.#originated = init.originated ?? false;
    this.#update(snapshot);
  }

  /** The latest snapshot as plain JSON (what `JSON.stringify(call)` writes). */
  toJSON(): CallJson {
    const json = { ...this } as unknown as CallJson;
    return this.#agentName === undefined ? json : { ...json, agent: this.#agentName };
  }

  /** The agent bound to the call, and `attach()` / `detach()` for one. */
  get agent(): CallAgent {
    const sid = this.sid;
    const ops = this.#ops;
    const name = this.#agentName;
    const update = (snapshot: CallJson) => {
      this.#update(snapshot);
      return this;
    };
    return {
      name,
      attach: async (agent, options) => update(await ops.attachAgent(sid, agent, options)),
      detach: async (options) => update(await ops.detachAgent(sid, options)),
    };
  }

  /** Fetches the call again; resolves with this handle, updated. */
  async refresh(): Promise<this> {
    this.#update(await this.#ops.fetch(this.sid));
    return this;
  }

  /** Hangs up (or cancels a call not answered yet); resolves with the handle, updated. */
  async hangup(options?: MutationOptions): Promise<this> {
    this.#update(await this.#ops.hangup(this.sid, options));
    return this;
  }

  /** Answers a call ringing a client. */
  async answer(options?: MutationOptions): Promise<this> {
    this.#update(await this.#ops.answer(this.sid, options));
    return this;
  }

  /** Hands the far end to another number, client or agent; the sid stays. */
  async transfer(
    target: { to: string } | { agent: string },
    options?: MutationOptions,
  ): Promise<this> {
    this.#update(await this.#ops.transfer(this.sid, target, options));
    return this;
  }

  /** Plays DTMF digits to the far end of a SIP leg (RFC 4733). */
  async sendDigits(digits: string, options?: MutationOptions): Promise<this> {
    this.#update(await this.#ops.sendDigits(this.sid, digits, options));
    return this;
  }

  /**
   * The call's events (its current status first), typed; the snapshot follows every status
   * event. Ends after the call ends, when `signal` aborts, or when the handle is disposed.
   */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<CallEvent> {
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    this.#streams.add(stop);
    try {
      for await (const event of this.#ops.events(this.sid, { signal })) {
        if (event.type === "status") this.#update(event.call);
        yield event;
      }
    } finally {
      this.#streams.delete(stop);
      stop.abort();
    }
  }

  /** The server side of the call's media (reads `uplink`, writes `downlink`); needs a bridge. */
  attach(options: Omit<AttachOptions, "sid"> = {}): Promise<AudioBridge> {
    return this.#open((bridge) => bridge.attach({ ...options, sid: this.sid }));
  }

  /** The caller side (publishes `uplink`, reads `downlink`); answers a ringing call. */
  attachCaller(options: Omit<AttachOptions, "sid"> = {}): Promise<AudioBridge> {
    return this.#open((bridge) => bridge.attachCaller({ ...options, sid: this.sid }));
  }

  /**
   * Ends what the handle opened: its event streams, the call (hung up) when the handle
   * originated it and it has not ended, then its bridge legs. A second call returns the same promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#disposed ??= (async () => {
      for (const stream of this.#streams) stream.abort();
      // The call first, so it ends as hung up by its owner, not as a caller leg leaving.
      if (this.#originated && !TERMINAL.has(this.status)) {
        try {
          await this.hangup();
        } catch (error) {
          // The call ended meanwhile (409 from the server): nothing left to end.
          if (!(error instanceof VoiceApiError && error.status === 409)) throw error;
        }
      }
      await Promise.all([...this.#legs].map((leg) => leg[Symbol.asyncDispose]()));
      this.#legs.clear();
    })();
  }

  async #open(open: (bridge: Bridge) => Promise<AudioBridge>): Promise<AudioBridge> {
    if (!this.#bridge) {
      throw new TypeError(
        "Cannot attach to the call: pass `bridge: createBridge(connection)` to new Voice()",
      );
    }
    const leg = await open(this.#bridge);
    this.#legs.add(leg);
    return leg;
  }

  #update(snapshot: CallJson): void {
    // Only forward: a late snapshot never takes the status back (CallStatus only moves on).
    if (this.#initialized && TERMINAL.has(this.status) && !TERMINAL.has(snapshot.status)) {
      return;
    }
    const { agent, ...fields } = snapshot;
    Object.assign(this, fields);
    this.#agentName = agent;
    this.#initialized = true;
  }
}

/**
 * The handle's former name.
 *
 * @deprecated Use {@linkcode Call}: the handle is named as the product says.
 */
export const CallHandle: typeof Call = Call;
/**
 * The handle's former name.
 *
 * @deprecated Use {@linkcode Call}.
 */
export type CallHandle = Call;
