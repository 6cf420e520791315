/**
 * `voice.agents`: bind a configured AI voice agent to a live call, and unbind it.
 *
 * @module
 */
import type { Call } from "../calls/call.ts";
import type { MutationOptions } from "./options.ts";

/** `voice.agents.attach` input. */
export interface AttachAgentParams {
  /** The call. */
  readonly sid: string;
  /** The agent's name in the server's `agents` config. */
  readonly agent: string;
  /** Per-call parameters handed to the agent (media-streams: merged into `customParameters`). */
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

/** The transport the SDK's clients share (`fetch` with the token). */
interface JsonHttp {
  json<T>(method: string, path: string, body?: unknown, key?: string): Promise<T>;
}

/** `voice.agents`. */
export class AgentsClient {
  readonly #http: JsonHttp;

  /** @internal Use `new Voice(…).agents`. */
  constructor(http: JsonHttp) {
    this.#http = http;
  }

  /**
   * Binds `agent` to the call (`POST /v1/calls/{sid}/agent`); resolves with the call, whose
   * `agent` names it. Rejects with a `VoiceApiError` 404 for an unknown agent, 409 for a call
   * that is not in progress or already has an agent.
   *
   * @example
   * ```ts ignore
   * const call = await voice.agents.attach({ sid, agent: "support", parameters: { tier: "gold" } });
   * console.log(call.agent); // support
   * ```
   */
  attach(params: AttachAgentParams, options: MutationOptions = {}): Promise<Call> {
    const { sid, agent, parameters } = params;
    return this.#http.json(
      "POST",
      `/v1/calls/${encodeURIComponent(sid)}/agent`,
      parameters === undefined ? { agent } : { agent, parameters },
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * Unbinds the call's agent (`DELETE /v1/calls/{sid}/agent`); the call goes on.
   *
   * @example
   * ```ts ignore
   * await voice.agents.detach(sid);
   * ```
   */
  detach(sid: string, options: MutationOptions = {}): Promise<Call> {
    return this.#http.json(
      "DELETE",
      `/v1/calls/${encodeURIComponent(sid)}/agent`,
      undefined,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }
}
