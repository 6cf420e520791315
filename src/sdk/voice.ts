/**
 * The typed SDK for the Calls API: `fetch` only, no Deno APIs, so it runs in Deno and in a
 * browser bundle.
 *
 * @module
 */
import type { Call, CallDirection } from "../calls/call.ts";
import type { CallStatus } from "../calls/status.ts";
import type { CallEvent, IncomingEvent } from "../calls/events.ts";
import type { ClientRegistration } from "../calls/store.ts";
import type { Transcript } from "../calls/transcripts.ts";
import type { Bridge } from "../bridge/audio_bridge.ts";
import { type Problem, VoiceApiError } from "./error.ts";
import { readSse } from "./sse.ts";
import { AgentsClient } from "./agents.ts";
import type { MutationOptions } from "./options.ts";
import { Call as CallHandle, type CallOperations } from "./call_handle.ts";

// The plain JSON call (list results, events, what `call.toJSON()` writes) is `CallJson` at the
// SDK's entry, where `Call` is the handle (src/sdk/call_handle.ts).
export type { Call as CallJson } from "../calls/call.ts";
export type { Call, CallDirection, CallEvent, CallStatus, ClientRegistration, IncomingEvent };

/** Options for {@linkcode Voice}. */
export interface VoiceOptions {
  /** The server's HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  /** A bearer token (JWT) with the scopes the calls need. */
  readonly token?: string;
  /** Media: `createBridge(connection)` from `@clutchcall/voice`, exposed as `voice.bridge`. */
  readonly bridge?: Bridge;
  /** The fetch to use [globalThis.fetch]. */
  readonly fetch?: typeof fetch;
}

/** `voice.calls.originate` input. */
export interface OriginateParams {
  /** E.164 number, `sip:` URI or `client:<identity>`. */
  readonly to: string;
  /** The caller ID to present: an E.164 number, `sip:` URI or `client:<identity>`. */
  readonly from: string;
  /** Where signed status callbacks go. */
  readonly statusCallback?: string;
  /** Capability tags the legs may publish [`["voice/opus"]`]. */
  readonly capabilities?: readonly string[];
}

/** `voice.calls.list` filters. */
export interface ListParams {
  /** Only calls in this status. */
  readonly status?: CallStatus;
  /** Only calls in this direction. */
  readonly direction?: CallDirection;
  /** Only calls created at or after this time (a `Date` or an ISO 8601 string). */
  readonly createdAfter?: Date | string;
  /** Only calls created before this time (a `Date` or an ISO 8601 string). */
  readonly createdBefore?: Date | string;
  /** Page size, 1 to 100 [50, set by the server]. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export type { MutationOptions } from "./options.ts";

/** Options for event streams. */
export interface StreamOptions {
  /** Stops the stream. */
  readonly signal?: AbortSignal;
}

class Http {
  constructor(readonly options: VoiceOptions) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    idempotencyKey?: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(new URL(path, this.options.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new VoiceApiError({
        type: "about:blank",
        title: "Network error",
        status: 0,
        detail: cause instanceof Error ? cause.message : String(cause),
      }, { cause });
    }
    if (!response.ok) {
      let problem: Problem;
      try {
        problem = await response.json();
      } catch {
        problem = { type: "about:blank", title: response.statusText, status: response.status };
      }
      throw new VoiceApiError({ ...problem, status: response.status });
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    return await (await this.request(method, path, body, key)).json() as T;
  }

  async *events<T>(path: string, signal?: AbortSignal): AsyncGenerator<T> {
    const response = await this.request("GET", path, undefined, undefined, signal);
    if (!response.body) return;
    for await (const message of readSse(response.body)) yield JSON.parse(message.data) as T;
  }
}

/** `voice.calls`. */
export class CallsClient {
  readonly #http: Http;
  readonly #bridge: Bridge | undefined;
  readonly #ops: CallOperations;

  /** @internal Use `new Voice(…).calls`. */
  constructor(http: Http, bridge?: Bridge) {
    this.#http = http;
    this.#bridge = bridge;
    this.#ops = {
      fetch: (sid) => this.#http.json("GET", `/v1/calls/${encodeURIComponent(sid)}`),
      hangup: (sid, options) => this.hangup(sid, options),
      answer: (sid, options) => this.answer(sid, options),
      transfer: (sid, target, options) => this.transfer(sid, target, options),
      sendDigits: (sid, digits, options) => this.sendDigits(sid, digits, options),
      events: (sid, options) => this.events(sid, options),
      attachAgent: (sid, agent, options = {}) =>
        this.#http.json(
          "POST",
          `/v1/calls/${encodeURIComponent(sid)}/agent`,
          options.parameters === undefined ? { agent } : { agent, parameters: options.parameters },
          options.idempotencyKey ?? crypto.randomUUID(),
        ),
      detachAgent: (sid, options = {}) =>
        this.#http.json(
          "DELETE",
          `/v1/calls/${encodeURIComponent(sid)}/agent`,
          undefined,
          options.idempotencyKey ?? crypto.randomUUID(),
        ),
    };
  }

  /**
   * Originates a call; resolves with its `Call` handle in `dialing` (disposing the
   * handle hangs the call up unless it ended).
   *
   * @example
   * ```ts ignore
   * const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
   * console.log(call.sid, call.status); // CA… dialing
   * ```
   */
  async originate(params: OriginateParams, options: MutationOptions = {}): Promise<CallHandle> {
    const call = await this.#http.json<Call>(
      "POST",
      "/v1/calls",
      params,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
    return new CallHandle(call, { ops: this.#ops, bridge: this.#bridge, originated: true });
  }

  /**
   * A call by sid, as a `Call` handle (disposing it leaves the call alone).
   *
   * @example
   * ```ts ignore
   * const call = await voice.calls.get("CA0123");
   * console.log(call.status, call.times);
   * ```
   */
  async get(sid: string): Promise<CallHandle> {
    return new CallHandle(await this.#ops.fetch(sid), { ops: this.#ops, bridge: this.#bridge });
  }

  /**
   * Where the call's MoQT legs connect: the relay shard the server placed the call on and that
   * shard's WebTransport URL (`GET /v1/relay/placement/{sid}`; a server with one relay answers
   * shard 0 and its only URL). Connecting there keeps the call's media on one shard; another
   * shard still serves it, at one crossing per object. Needs the `media:subscribe` scope.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { Voice } from "@clutchcall/voice/sdk";
   *
   * const voice = new Voice({
   *   baseUrl: "http://127.0.0.1:8080",
   *   token: "a token",
   *   fetch: () =>
   *     Promise.resolve(Response.json({ sid: "CA1", shard: 1, url: "https://127.0.0.1:4444/moq" })),
   * });
   * const { shard, url } = await voice.calls.relay("CA1");
   * assertEquals([shard, url], [1, "https://127.0.0.1:4444/moq"]);
   * ```
   */
  relay(sid: string): Promise<{ sid: string; shard: number; url: string }> {
    return this.#http.json("GET", `/v1/relay/placement/${encodeURIComponent(sid)}`);
  }

  /**
   * The call's transcript: the finals a speech recognizer (the `builtin:asr-tap` plugin)
   * produced so far, in order. Live results arrive as `transcript` call events.
   *
   * @example
   * ```ts ignore
   * const { finals } = await voice.calls.transcript("CA0123");
   * console.log(finals.map((f) => `${f.track} ${f.start}–${f.end} ms: ${f.text}`).join("\n"));
   * ```
   */
  transcript(sid: string): Promise<Transcript> {
    return this.#http.json("GET", `/v1/calls/${encodeURIComponent(sid)}/transcript`);
  }

  /**
   * One page of calls, newest first; pass `nextCursor` back as `cursor` for the next.
   *
   * @example
   * ```ts ignore
   * const { calls, nextCursor } = await voice.calls.list({ status: "in_progress", limit: 20 });
   * ```
   */
  list(params: ListParams = {}): Promise<{ calls: Call[]; nextCursor?: string }> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined) continue;
      query.set(key, value instanceof Date ? value.toISOString() : String(value));
    }
    const qs = query.size > 0 ? `?${query}` : "";
    return this.#http.json("GET", `/v1/calls${qs}`);
  }

  /**
   * Every call matching `params`, across pages.
   *
   * @example
   * ```ts ignore
   * for await (const call of voice.calls.all({ direction: "outbound" })) console.log(call.sid);
   * ```
   */
  async *all(params: Omit<ListParams, "cursor"> = {}): AsyncGenerator<Call> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...params, cursor });
      yield* page.calls;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /**
   * Hands the far end to another number, client or agent; the sid stays.
   *
   * @example
   * ```ts ignore
   * await voice.calls.transfer(sid, { agent: "support-bot" });
   * ```
   */
  transfer(
    sid: string,
    target: { to: string } | { agent: string },
    options: MutationOptions = {},
  ): Promise<Call> {
    return this.#http.json(
      "POST",
      `/v1/calls/${encodeURIComponent(sid)}/transfer`,
      target,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * Plays DTMF digits (`0-9`, `*`, `#`, `A-D`) to the far end of a SIP leg (RFC 4733).
   * Digits the far end sends arrive as `dtmf` call events.
   *
   * @example
   * ```ts ignore
   * await voice.calls.sendDigits(sid, "1234#");
   * ```
   */
  sendDigits(sid: string, digits: string, options: MutationOptions = {}): Promise<Call> {
    return this.#http.json(
      "POST",
      `/v1/calls/${encodeURIComponent(sid)}/digits`,
      { digits },
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * Hangs up (or cancels a call not yet answered); both tracks end.
   *
   * @example
   * ```ts ignore
   * const ended = await voice.calls.hangup(sid);
   * console.log(ended.status, ended.endReason); // completed hangup
   * ```
   */
  hangup(sid: string, options: MutationOptions = {}): Promise<Call> {
    return this.#http.json(
      "POST",
      `/v1/calls/${encodeURIComponent(sid)}/hangup`,
      undefined,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * Answers a ringing call explicitly (attaching with `attachCaller` also answers).
   *
   * @example
   * ```ts ignore
   * await voice.calls.answer(sid);
   * ```
   */
  answer(sid: string, options: MutationOptions = {}): Promise<Call> {
    return this.#http.json(
      "POST",
      `/v1/calls/${encodeURIComponent(sid)}/answer`,
      undefined,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * The call's events (current status first, then status, media and transfer events);
   * ends after the call ends.
   *
   * @example
   * ```ts ignore
   * for await (const event of voice.calls.events(sid)) {
   *   if (event.type === "status") console.log(event.call.status);
   * }
   * ```
   */
  events(sid: string, options: StreamOptions = {}): AsyncGenerator<CallEvent> {
    return this.#http.events(`/v1/calls/${encodeURIComponent(sid)}/events`, options.signal);
  }
}

/** A call ringing a registered client. */
export interface IncomingCall {
  /** The call that is ringing. */
  readonly call: Call;
}

/** `voice.clients`. */
export class ClientsClient {
  readonly #http: Http;

  /** @internal Use `new Voice(…).clients`. */
  constructor(http: Http) {
    this.#http = http;
  }

  /**
   * Registers `identity` and yields each call that rings `client:<identity>` until
   * `signal` aborts. Answer by attaching: `voice.bridge.attachCaller({ sid: call.sid, … })`.
   *
   * @example
   * ```ts ignore
   * for await (const { call } of voice.clients.register("alice", { signal })) {
   *   await using phone = await voice.bridge.attachCaller({ sid: call.sid, codec: "opus" });
   * }
   * ```
   */
  async *register(identity: string, options: StreamOptions = {}): AsyncGenerator<IncomingCall> {
    const path = `/v1/clients/${encodeURIComponent(identity)}`;
    await this.#http.json("POST", `${path}/register`, undefined, crypto.randomUUID());
    for await (
      const event of this.#http.events<IncomingEvent>(`${path}/incoming`, options.signal)
    ) {
      if (event.type === "ring") yield { call: event.call };
    }
  }

  /**
   * Registers `identity` without listening (calls to it then ring its incoming stream).
   *
   * @example
   * ```ts ignore
   * await voice.clients.add("alice");
   * ```
   */
  add(identity: string, options: MutationOptions = {}): Promise<ClientRegistration> {
    return this.#http.json(
      "POST",
      `/v1/clients/${encodeURIComponent(identity)}/register`,
      undefined,
      options.idempotencyKey ?? crypto.randomUUID(),
    );
  }

  /**
   * Ring and cancel events for `identity` (already registered).
   *
   * @example
   * ```ts ignore
   * for await (const event of voice.clients.incoming("alice")) console.log(event.type, event.call.sid);
   * ```
   */
  incoming(identity: string, options: StreamOptions = {}): AsyncGenerator<IncomingEvent> {
    return this.#http.events(
      `/v1/clients/${encodeURIComponent(identity)}/incoming`,
      options.signal,
    );
  }
}

/**
 * The ClutchCall Voice SDK.
 *
 * @example
 * ```ts ignore
 * import { createBridge, MoqClient, Voice } from "@clutchcall/voice";
 * const voice = new Voice({ baseUrl: "http://127.0.0.1:8080", token });
 * const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
 * ```
 */
export class Voice {
  /** Calls: originate, get, list, transfer, hangup, answer, events. */
  readonly calls: CallsClient;
  /** Registered clients: register and ring. */
  readonly clients: ClientsClient;
  /** AI voice agents: attach to a call, detach. */
  readonly agents: AgentsClient;
  readonly #bridge: Bridge | undefined;

  /** Creates a client; nothing is sent until a method is called. */
  constructor(options: VoiceOptions) {
    if (!options.baseUrl) throw new TypeError("Cannot create Voice: baseUrl is required");
    const http = new Http(options);
    this.calls = new CallsClient(http, options.bridge);
    this.clients = new ClientsClient(http);
    this.agents = new AgentsClient(http);
    this.#bridge = options.bridge;
  }

  /**
   * Media on a call's tracks: `attach` (server side) and `attachCaller` (the caller), from
   * the `bridge` option.
   *
   * @example
   * ```ts ignore
   * const voice = new Voice({ baseUrl, token, bridge: createBridge(moqClient) });
   * await using phone = await voice.bridge.attachCaller({ sid, codec: "opus" });
   * ```
   */
  get bridge(): Bridge {
    if (!this.#bridge) {
      throw new TypeError(
        "Cannot use voice.bridge: pass `bridge: createBridge(connection)` to new Voice()",
      );
    }
    return this.#bridge;
  }
}
