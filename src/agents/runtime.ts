/**
 * The agent runtime: which agent is bound to which call, and the {@linkcode AgentSession}
 * doing the work. Binds on `POST /v1/calls/{sid}/agent` and on a `transfer {agent}` (the API's
 * or an inbound SIP route's), unbinds on `DELETE`, when the call ends, or when the agent
 * fails; reports `agent`, `turn` and `interruption` events through the call's event hub and
 * status callback.
 *
 * @module
 */
import type { BridgeVia } from "../bridge/mod.ts";
import type { IdempotencyClaim } from "../http/idempotency.ts";
import type { Logger } from "../log/mod.ts";
import type { AgentAdapter } from "./adapter.ts";
import {
  type AgentCall as Call,
  type AgentCalls,
  type AnyCallEvent,
  followed,
  FOLLOWED_TYPES,
} from "./calls_port.ts";
import { createAdapter } from "./adapters.ts";
import type { AgentConfig, AgentsConfig } from "./config.ts";
import { AgentError } from "./error.ts";
import { type AgentRecordings, openRecording } from "./recordings_port.ts";
import { type DialInput, dialLeg, type DialListener } from "./dial_leg.ts";
import { AgentSession, messageOf } from "./session.ts";

/** Options of an {@linkcode AgentRuntime}. */
export interface AgentRuntimeOptions {
  /** The configured agents. */
  readonly agents: AgentsConfig;
  /** Where the calls' tracks are (the relay's origin). */
  readonly via: BridgeVia;
  /** The control plane (the calls service). */
  readonly calls: AgentCalls;
  readonly log: Logger;
  /** Relative `module` paths resolve against this URL [the working directory]. */
  readonly baseUrl?: string;
  /** Where agents' own recordings go (a Fonoster `record` verb) [none: such verbs fail]. */
  readonly recordings?: AgentRecordings;
}

interface Binding {
  readonly agent: string;
  session: AgentSession | undefined;
  /** Set when the runtime itself ends the session (detach, replace, call end). */
  endReason: string | undefined;
  call: Call;
}

/**
 * Binds agents to calls.
 *
 * @example
 * ```ts ignore
 * const agents = new AgentRuntime({ agents: config.agents, via: relay.origin, calls, log });
 * agents.start();
 * await agents.attach("CA…", "support", {});
 * ```
 */
export class AgentRuntime implements AsyncDisposable {
  readonly #options: AgentRuntimeOptions;
  readonly #bindings = new Map<string, Binding>();
  readonly #adapters = new Map<string, Promise<AgentAdapter>>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #pending = new Set<Promise<unknown>>();
  #stop: (() => void) | undefined;
  #closed = false;

  /** Creates the runtime; {@linkcode start} listens to the calls. */
  constructor(options: AgentRuntimeOptions) {
    this.#options = options;
  }

  /** Whether an agent of that name is configured. */
  has(agent: string): boolean {
    return Object.hasOwn(this.#options.agents, agent);
  }

  /** The agent bound to `sid` in this process, if any. */
  boundTo(sid: string): string | undefined {
    return this.#bindings.get(sid)?.agent;
  }

  /** The live session of `sid` (for tests and metrics). */
  session(sid: string): AgentSession | undefined {
    return this.#bindings.get(sid)?.session;
  }

  /** Sizes of the per-call tables: all zero once no call has an agent. A leak check. */
  tables(): { readonly bindings: number; readonly queues: number; readonly pending: number } {
    return {
      bindings: this.#bindings.size,
      queues: this.#queues.size,
      pending: this.#pending.size,
    };
  }

  /** Follows calls: transfers to agents bind, ended calls unbind, DTMF reaches the agent. */
  start(): void {
    this.#stop ??= this.#options.calls.events.onAnyCall(
      (event) => this.#onCallEvent(event),
      FOLLOWED_TYPES,
    );
  }

  /**
   * Binds `agent` to the in-progress call `sid`. With `replace`, an agent already bound is
   * replaced (transfer); without, it is an `already_bound` error.
   *
   * @throws {AgentError} `unknown_agent`, `already_bound`, `call_not_live`, `no_media`.
   */
  attach(
    sid: string,
    agent: string,
    parameters: Readonly<Record<string, unknown>> = {},
    options: { readonly replace?: boolean; readonly claim?: IdempotencyClaim } = {},
  ): Promise<Call> {
    return this.#serial(sid, () => this.#attach(sid, agent, parameters, options));
  }

  /**
   * Unbinds the call's agent; the call goes on.
   *
   * @throws {AgentError} `not_bound` when it has none.
   */
  detach(sid: string, claim?: IdempotencyClaim): Promise<Call> {
    return this.#serial(sid, async () => {
      const binding = this.#bindings.get(sid);
      const call = await this.#options.calls.get(sid);
      if (!binding && call.agent === undefined) {
        throw new AgentError("not_bound", `Call "${sid}" has no agent`);
      }
      const outcome = await this.#options.calls.bindAgent(
        sid,
        undefined,
        call.agent,
        claim,
      );
      if (binding) await this.#end(sid, binding, "api");
      return outcome;
    });
  }

  /** Ends every session and stops listening. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop?.();
    for (const [sid, binding] of [...this.#bindings]) {
      await this.#end(sid, binding, "server_shutdown");
    }
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals -----------------------------------------------------------------------------

  async #attach(
    sid: string,
    agent: string,
    parameters: Readonly<Record<string, unknown>>,
    { replace = false, claim }: { replace?: boolean; claim?: IdempotencyClaim },
  ): Promise<Call> {
    const { calls, log } = this.#options;
    const config = this.#config(agent);
    const current = await calls.get(sid);
    if (current.status !== "in_progress") {
      throw new AgentError(
        "call_not_live",
        `Cannot attach agent "${agent}" to call "${sid}": it is ${current.status}, not in_progress`,
      );
    }
    const previous = this.#bindings.get(sid);
    if ((previous || current.agent !== undefined) && !replace) {
      throw new AgentError(
        "already_bound",
        `Call "${sid}" already has agent "${previous?.agent ?? current.agent}"`,
      );
    }
    const legCodec = current.capabilities[0]?.replace(/^voice\//, "");
    const adapter = await this.#adapter(agent, config, legCodec).catch((error) => {
      throw new AgentError("unavailable", `Agent "${agent}" is unavailable: ${messageOf(error)}`, {
        cause: error,
      });
    });
    const outcome = await calls.bindAgent(sid, agent, current.agent, claim);
    if (previous) await this.#end(sid, previous, "replaced");
    const binding: Binding = {
      agent,
      session: undefined,
      endReason: undefined,
      call: outcome,
    };
    this.#bindings.set(sid, binding);
    try {
      binding.session = await AgentSession.open({
        via: this.#options.via,
        sid,
        agent,
        adapter,
        call: { from: current.from, to: current.to, direction: current.direction },
        parameters,
        turn: config.turn,
        bargeIn: config.bargeIn,
        log: log.child({ component: "agent", sid, agent }),
        reports: this.#reports(sid, binding),
      });
    } catch (error) {
      this.#bindings.delete(sid);
      await calls.bindAgent(sid, undefined, agent).catch((cause) =>
        log.warn("Cannot unbind an agent that failed to attach", { sid, error: cause })
      );
      this.#emit(binding, { state: "failed", reason: `cannot attach media: ${messageOf(error)}` });
      throw new AgentError(
        "no_media",
        `Cannot attach agent "${agent}" to call "${sid}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    this.#emit(binding, { state: "attached" });
    return outcome;
  }

  #config(agent: string): AgentConfig {
    if (!this.has(agent)) {
      throw new AgentError("unknown_agent", `No agent "${agent}" is configured`);
    }
    return this.#options.agents[agent];
  }

  #adapter(agent: string, config: AgentConfig, legCodec?: string): Promise<AgentAdapter> {
    // Realtime agents default to the leg's codec: one adapter per agent and leg codec.
    const key = config.type === "openai-realtime" ? `${agent}\n${legCodec}` : agent;
    let adapter = this.#adapters.get(key);
    if (!adapter) {
      adapter = createAdapter(agent, config, { baseUrl: this.#options.baseUrl, legCodec });
      // A module that fails to load is retried on the next attach.
      adapter.catch(() => this.#adapters.delete(key));
      this.#adapters.set(key, adapter);
    }
    return adapter;
  }

  #reports(sid: string, binding: Binding) {
    const { calls, log } = this.#options;
    const iso = (us: number) => new Date(us / 1000).toISOString();
    const now = () => new Date().toISOString();
    return {
      turn: (state: "start" | "end", startedAt: number, endedAt?: number) =>
        calls.emitEvent(binding.call, {
          type: "turn",
          sid,
          at: now(),
          agent: binding.agent,
          state,
          startedAt: iso(startedAt),
          ...(endedAt === undefined ? {} : { endedAt: iso(endedAt) }),
        }),
      interruption: (report: { playedMs: number; words?: string; heardMs?: number }) =>
        calls.emitEvent(binding.call, {
          type: "interruption",
          sid,
          at: now(),
          agent: binding.agent,
          playedMs: report.playedMs,
          ...(report.words === undefined ? {} : { words: report.words }),
          ...(report.heardMs === undefined ? {} : { heardMs: report.heardMs }),
        }),
      ended: (reason: string, failed: boolean) => {
        if (binding.endReason !== undefined) return;
        // The agent ended on its own (it failed, or the bot hung up): unbind, the call goes on.
        binding.endReason = reason;
        if (this.#bindings.get(sid) === binding) this.#bindings.delete(sid);
        // Unbound in the store first, so the call reads without the agent once the event is out.
        this.#track(
          this.#serial(sid, async () => {
            const call = await calls.get(sid);
            if (call.agent === binding.agent && call.endReason === undefined) {
              await calls.bindAgent(sid, undefined, binding.agent);
            }
          }).catch((error) => log.warn("Cannot unbind a failed agent", { sid, error }))
            .finally(() => this.#emit(binding, { state: failed ? "failed" : "detached", reason })),
        );
      },
      hangup: async () => void await calls.hangup(sid),
      digits: async (digits: string) => void await calls.sendDigits(sid, digits),
      transfer: async (target: { readonly agent: string } | { readonly to: string }) =>
        void await calls.transfer(sid, target),
      record: (name: string, sampleRate: number) => {
        const { recordings } = this.#options;
        if (!recordings) {
          return Promise.reject(new Error("no recordings directory is configured"));
        }
        return openRecording(recordings, name, sampleRate);
      },
      dial: (input: DialInput, listener: DialListener) =>
        dialLeg({ calls, via: this.#options.via, log }, input, listener),
    };
  }

  /** Ends a binding the runtime decided to end; emits `agent detached`. */
  async #end(sid: string, binding: Binding, reason: string): Promise<void> {
    if (binding.endReason !== undefined) return;
    binding.endReason = reason;
    if (this.#bindings.get(sid) === binding) this.#bindings.delete(sid);
    await binding.session?.close(reason);
    this.#emit(binding, { state: "detached", reason });
  }

  #emit(
    binding: Binding,
    what: { state: "attached" | "detached" | "failed"; reason?: string },
  ): void {
    this.#options.calls.emitEvent(binding.call, {
      type: "agent",
      sid: binding.call.sid,
      at: new Date().toISOString(),
      agent: binding.agent,
      ...what,
    });
  }

  #onCallEvent(event: AnyCallEvent): void {
    if (!followed(event)) return;
    const { log } = this.#options;
    const sid = event.sid;
    if (event.type === "transfer" && event.transfer.agent !== undefined) {
      const agent = event.transfer.agent;
      this.#track(
        this.attach(sid, agent, {}, { replace: true }).catch((error) => {
          log.warn("Cannot bind the agent a call was transferred to", { sid, agent, error });
          if (error instanceof AgentError && error.kind !== "no_media") {
            // (no_media already reported `agent failed` itself)
            this.#options.calls.emitEvent(event.call, {
              type: "agent",
              sid,
              at: new Date().toISOString(),
              agent,
              state: "failed",
              reason: error.message,
            });
          }
        }),
      );
      return;
    }
    const binding = this.#bindings.get(sid);
    if (!binding) return;
    if (event.type === "status") {
      binding.call = event.call;
      if (event.call.endReason !== undefined) {
        this.#track(this.#end(sid, binding, "call_ended"));
      }
    } else if (event.type === "transfer" && event.transfer.to !== undefined) {
      // The far end went to a person or a number: the agent steps out.
      binding.call = event.call;
      this.#track(
        this.#serial(sid, async () => {
          await this.#end(sid, binding, "transferred");
          await this.#options.calls.bindAgent(sid, undefined, binding.agent);
        }).catch((error) => log.warn("Cannot unbind on transfer", { sid, error })),
      );
    } else if (event.type === "transcript") {
      // What a recognizer heard of the caller: module agents' turns carry it.
      if (event.track === "uplink") binding.session?.transcript(event);
    } else if (event.type === "dtmf") {
      const at = Date.parse(event.at) * 1000;
      for (const digit of event.digits) binding.session?.dtmf(digit, at);
    }
  }

  /** Runs `work` after the sid's earlier operations: binds on one call never interleave. */
  #serial<T>(sid: string, work: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(sid) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.then(() => {}, () => {});
    this.#queues.set(sid, settled);
    settled.then(() => {
      if (this.#queues.get(sid) === settled) this.#queues.delete(sid);
    });
    return run;
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.#options.log.error("Agent task failed", { error }));
    this.#pending.add(tracked);
    tracked.finally(() => this.#pending.delete(tracked));
  }
}
