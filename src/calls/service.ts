/**
 * The Calls service: originate, get, list, answer, transfer, hang up, ring registered
 * clients, follow the legs' tracks in the relay, and reconcile after a restart. Transport
 * neutral: the HTTP API ({@linkcode createCallsApi}) is a thin layer over it.
 *
 * @module
 */
import type { Origin } from "../relay/model/origin.ts";
import type { Registration } from "../relay/model/origin.ts";
import { sidOf } from "../voice/track.ts";
import type { Logger } from "../log/mod.ts";
import { parseAddress } from "./address.ts";
import { advanceCall, type Call, type CallTransfer, createCall, newSid } from "./call.ts";
import { EventHub } from "./events.ts";
import type { CallGateway, CallProgress } from "./gateway.ts";
import { ProblemError } from "./problem.ts";
import { type CallStatus, type EndReason, IllegalTransitionError, isTerminal } from "./status.ts";
import type {
  CallFilter,
  CallPage,
  CallStore,
  ClientRegistration,
  IdempotencyRecord,
} from "./store.ts";
import type { WebhookSender } from "./webhook.ts";
import { type OutboundUrlPolicy, UrlRefusedError } from "./url_policy.ts";

/** An `Idempotency-Key` already checked against the store: its record is written with the
 * request's effect, in the same atomic write. */
export interface IdempotencyClaim {
  readonly key: string;
  readonly fingerprint: string;
}

/** A mutating operation's outcome, as replayed for a repeated idempotency key. */
export interface Outcome<T> {
  readonly status: number;
  readonly body: T;
}

/** What `originate` takes. */
export interface OriginateInput {
  readonly to: string;
  readonly from: string;
  readonly statusCallback?: string;
  /** Capability tags the legs may publish [`["voice/opus"]`]. */
  readonly capabilities?: readonly string[];
}

/** What {@linkcode CallService.admitInbound} takes: a caller reaching us through a gateway. */
export interface InboundInput {
  /** The caller (E.164 or `sip:`). */
  readonly from: string;
  /** The number or URI they called. */
  readonly to: string;
  /** Capability tags the gateway's leg publishes, e.g. `["voice/g711_alaw"]`. */
  readonly capabilities: readonly string[];
  readonly statusCallback?: string;
}

/** An admitted inbound call and the handle its gateway drives it with. */
export interface InboundLeg {
  /** The call as created (`direction: "inbound"`, status `dialing`). */
  readonly call: Call;
  /** Report progress exactly as for a dialed call; `signal` aborts when the call ends on our
   * side (hangup via the API, ring timeout). */
  readonly progress: CallProgress;
}

/** What `transfer` takes: exactly one of the two. */
export type TransferInput = { readonly to: string } | { readonly agent: string };

/** Options for a {@linkcode CallService}. */
export interface CallServiceOptions {
  readonly store: CallStore;
  /** The relay's origin: legs' tracks are watched here and closed on hangup. */
  readonly origin: Origin;
  readonly log: Logger;
  readonly webhooks?: WebhookSender;
  /** Checks `statusCallback` URLs before a call is created (no check when unset). */
  readonly urlPolicy?: OutboundUrlPolicy;
  /** Dials E.164 and `sip:` destinations; without one such calls fail (`no_sip_gateway`). */
  readonly gateway?: CallGateway;
  /** How long a client is rung before `no_answer`, in ms [30000]. */
  readonly ringTimeoutMs?: number;
  /** After a restart, how long live calls' legs get to reappear in the relay, in ms [3000]. */
  readonly reconcileGraceMs?: number;
}

const DEFAULT_CAPABILITIES = ["voice/opus"];

/**
 * The control plane's core.
 *
 * @example
 * ```ts ignore
 * import { CallService, KvCallStore } from "./mod.ts";
 * await using calls = new CallService({ store: await KvCallStore.open(), origin, log });
 * await calls.start();
 * const { body: call } = await calls.originate({ from: "+14155550100", to: "client:alice" });
 * ```
 */
export class CallService implements AsyncDisposable {
  /** Fan-out of call and incoming events (SSE streams listen here). */
  readonly events: EventHub = new EventHub();
  readonly #store: CallStore;
  readonly #origin: Origin;
  readonly #log: Logger;
  readonly #webhooks: WebhookSender | undefined;
  readonly #urlPolicy: OutboundUrlPolicy | undefined;
  readonly #gateway: CallGateway | undefined;
  readonly #ringTimeoutMs: number;
  readonly #reconcileGraceMs: number;
  readonly #ringTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Inbound calls ringing a `client:` identity (their `to` is the dialed number). */
  readonly #ringingClients = new Map<string, string>();
  readonly #legs = new Map<string, AbortController>();
  readonly #liveTracks = new Map<string, Set<string>>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #closing = new AbortController();
  #route: Registration | undefined;
  #reconcileTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Creates the service; call {@linkcode start} before use. */
  constructor(options: CallServiceOptions) {
    this.#store = options.store;
    this.#origin = options.origin;
    this.#log = options.log;
    this.#webhooks = options.webhooks;
    this.#urlPolicy = options.urlPolicy;
    this.#gateway = options.gateway;
    this.#ringTimeoutMs = options.ringTimeoutMs ?? 30_000;
    this.#reconcileGraceMs = options.reconcileGraceMs ?? 3000;
  }

  /**
   * Sizes of the per-call tables kept in memory (call records live in the store): all zero
   * once every call has ended and its background work finished. A leak check.
   */
  tables(): {
    readonly legs: number;
    readonly liveTracks: number;
    readonly ringTimers: number;
    readonly ringingClients: number;
    readonly pending: number;
    readonly callListeners: number;
  } {
    return {
      legs: this.#legs.size,
      liveTracks: this.#liveTracks.size,
      ringTimers: this.#ringTimers.size,
      ringingClients: this.#ringingClients.size,
      pending: this.#pending.size,
      callListeners: this.events.listening.calls,
    };
  }

  /** Aborted when the service closes: long-lived streams end on it. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** The store (for the HTTP layer's idempotency lookups). */
  get store(): CallStore {
    return this.#store;
  }

  /**
   * Starts following tracks in the relay and reconciles calls left live by a previous run
   * (in the background: after the grace period, calls whose legs did not come back end
   * with `server_restart`). Resolves once reconciliation is scheduled.
   */
  async start(): Promise<void> {
    this.#route = this.#origin.route("voice/*", (track) => {
      const info = track.info;
      track.close();
      this.#onTrack(info.namespace, info.name, info.capability, track.closed);
    });
    const live = await this.#store.liveCalls();
    if (live.length === 0) return;
    this.#log.info("Reconciling calls left live by the previous run", { count: live.length });
    this.#reconcileTimer = setTimeout(
      () => this.#track(this.#reconcile(live)),
      this.#reconcileGraceMs,
    );
  }

  /** Originates a call; resolves with it in `dialing` (201). */
  async originate(input: OriginateInput, claim?: IdempotencyClaim): Promise<Outcome<Call>> {
    const address = parseAddress(input.to);
    this.#checkDestination(address.kind, address.value);
    if (input.statusCallback !== undefined) await this.#checkCallback(input.statusCallback);
    const call = createCall({
      sid: newSid(),
      direction: "outbound",
      from: input.from,
      to: address.value,
      statusCallback: input.statusCallback,
      capabilities: input.capabilities ?? DEFAULT_CAPABILITIES,
    });
    const outcome = { status: 201, body: call };
    const result = await this.#store.putCall(call, null, record(claim, outcome));
    if (!result.ok) throw conflict(result.conflict);
    this.#emitStatus(call);
    this.#track(this.#dispatch(call));
    return outcome;
  }

  /**
   * Admits a call that reached a gateway (e.g. a SIP INVITE from a trunk): creates it with
   * `direction: "inbound"` and its own sid in `dialing`, and returns the progress handle the
   * gateway reports through (`ringing`, `answered`, `ended`, like a dialed call). Routing is
   * the gateway's: it may {@linkcode ringClient}, or answer for an agent or plugin.
   *
   * @example
   * ```ts ignore
   * const { call, progress } = await calls.admitInbound({ from: "+14155550100", to: "+14155550199", capabilities: ["voice/g711_ulaw"] });
   * await progress.answered(); // in_progress
   * await progress.ended("caller_hangup"); // completed
   * ```
   */
  async admitInbound(input: InboundInput): Promise<InboundLeg> {
    const call = createCall({
      sid: newSid(),
      direction: "inbound",
      from: input.from,
      to: input.to,
      statusCallback: input.statusCallback,
      capabilities: input.capabilities,
    });
    const result = await this.#store.putCall(call, null);
    if (!result.ok) throw conflict(result.conflict);
    this.#emitStatus(call);
    const leg = new AbortController();
    this.#legs.set(call.sid, leg);
    return { call, progress: this.#progress(call.sid, leg.signal) };
  }

  /**
   * Rings `client:<identity>` for an inbound call: `ringing`, an incoming `ring` event, and
   * `no_answer` after the ring timeout. The client answers with {@linkcode answer}. Returns
   * false (and fails the call with `client_not_registered`) when nobody registered it.
   */
  async ringClient(sid: string, identity: string): Promise<boolean> {
    if (!await this.#store.getClient(identity)) {
      await this.#advance(sid, "failed", "client_not_registered");
      return false;
    }
    this.#ringingClients.set(sid, identity);
    const ringing = await this.#advance(sid, "ringing");
    if (!ringing) {
      this.#ringingClients.delete(sid);
      return false;
    }
    this.#ringTimers.set(
      sid,
      setTimeout(() => {
        this.#ringTimers.delete(sid);
        this.#track(this.#advance(sid, "no_answer", "no_answer"));
      }, this.#ringTimeoutMs),
    );
    this.events.emitIncoming(identity, { type: "ring", call: ringing });
    return true;
  }

  /**
   * Plays DTMF digits to the far end of a gateway leg (SIP: RFC 4733). 409 when the call is
   * not in progress or has no gateway leg.
   */
  async sendDigits(sid: string, digits: string): Promise<Call> {
    const call = await this.get(sid);
    if (call.status !== "in_progress") {
      throw new ProblemError(
        409,
        "illegal-transition",
        `Cannot send digits on call "${sid}": it is ${call.status}, not in_progress`,
        { currentStatus: call.status },
      );
    }
    if (!this.#legs.has(sid) || !this.#gateway?.sendDigits) {
      throw new ProblemError(
        409,
        "conflict",
        `Cannot send digits on call "${sid}": no gateway leg`,
      );
    }
    await this.#gateway.sendDigits(sid, digits);
    return call;
  }

  /** A call, or a 404 problem. */
  async get(sid: string): Promise<Call> {
    const found = await this.#store.getCall(sid);
    if (!found) throw notFound(sid);
    return found.call;
  }

  /** A page of calls, newest first. */
  list(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage> {
    return this.#store.listCalls(filter, limit, cursor);
  }

  /**
   * Hangs up: `in_progress` → `completed` (`hangup`), `dialing`/`ringing` → `completed`
   * (`canceled`); both tracks are ended in the relay. A terminal call is a 409 problem.
   */
  async hangup(sid: string, claim?: IdempotencyClaim): Promise<Outcome<Call>> {
    const outcome = await this.#update(sid, claim, (call) => {
      const reason: EndReason = call.status === "in_progress" ? "hangup" : "canceled";
      return advanceCall(call, "completed", reason);
    });
    return outcome;
  }

  /** Answers a ringing call (the client's leg is expected on the tracks). */
  answer(sid: string, claim?: IdempotencyClaim): Promise<Outcome<Call>> {
    return this.#update(sid, claim, (call) => advanceCall(call, "in_progress"));
  }

  /**
   * Hands the far end of an `in_progress` call to another party; the sid and the caller's
   * leg stay. A `client:` target is rung on its incoming stream; an agent target is recorded
   * and announced (`transfer` event) for the agent runtime to pick up.
   */
  transfer(sid: string, input: TransferInput, claim?: IdempotencyClaim): Promise<Outcome<Call>> {
    const at = new Date().toISOString();
    let transfer: CallTransfer;
    if ("to" in input) {
      const address = parseAddress(input.to);
      if (address.kind !== "client" && !this.#gateway) {
        throw new ProblemError(409, "conflict", "Cannot transfer: no SIP gateway is configured");
      }
      this.#checkDestination(address.kind, address.value);
      transfer = { to: address.value, at };
    } else {
      transfer = { agent: input.agent, at };
    }
    return this.#update(sid, claim, (call) => {
      if (call.status !== "in_progress") {
        throw new ProblemError(
          409,
          "illegal-transition",
          `Cannot transfer call "${sid}": it is ${call.status}, not in_progress`,
          { currentStatus: call.status },
        );
      }
      return { ...call, transfers: [...call.transfers, transfer] };
    }, transfer).then((outcome) => {
      if (transfer.to && !transfer.to.startsWith("client:") && this.#legs.has(sid)) {
        this.#track(
          this.#gateway?.transfer?.(sid, transfer.to).catch((error) =>
            this.#log.warn("Gateway transfer failed", { sid, error })
          ) ?? Promise.resolve(),
        );
      }
      return outcome;
    });
  }

  /** Registers `identity` so that `client:<identity>` can be rung. */
  async registerClient(
    identity: string,
    claim?: IdempotencyClaim,
  ): Promise<Outcome<ClientRegistration>> {
    const registration = { identity, registeredAt: new Date().toISOString() };
    const outcome = { status: 200, body: registration };
    const result = await this.#store.putClient(registration, record(claim, outcome));
    if (!result.ok) throw conflict(result.conflict);
    return outcome;
  }

  /** The registration of `identity`, or a 404 problem. */
  async getClient(identity: string): Promise<ClientRegistration> {
    const found = await this.#store.getClient(identity);
    if (!found) {
      throw new ProblemError(404, "not-found", `No client registered as "${identity}"`);
    }
    return found;
  }

  /** Calls now ringing `identity` (delivered first on a new incoming stream). */
  async ringing(identity: string): Promise<Call[]> {
    const calls: Call[] = [];
    for (const sid of this.#ringTimers.keys()) {
      const found = await this.#store.getCall(sid);
      const rung = found?.call.to === `client:${identity}` ||
        this.#ringingClients.get(sid) === identity;
      if (found?.call.status === "ringing" && rung) {
        calls.push(found.call);
      }
    }
    return calls;
  }

  /** Stops timers and watchers and waits for background work. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#reconcileTimer);
    this.#route?.close();
    for (const timer of this.#ringTimers.values()) clearTimeout(timer);
    this.#ringTimers.clear();
    for (const leg of this.#legs.values()) leg.abort();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals -----------------------------------------------------------------------------

  /** Refuses (422) a destination the gateway will not dial (e.g. a `sip:` host no trunk names). */
  #checkDestination(kind: string, to: string): void {
    if (kind === "client") return;
    const refusal = this.#gateway?.refuses?.(to);
    if (refusal !== undefined) {
      throw new ProblemError(422, "destination-not-allowed", refusal, { to });
    }
  }

  /** Refuses (422) a callback URL the server must not send to (SSRF). */
  async #checkCallback(url: string): Promise<void> {
    try {
      await this.#urlPolicy?.check(url);
    } catch (error) {
      if (!(error instanceof UrlRefusedError)) throw error;
      throw new ProblemError(422, "url-not-allowed", error.message, { reason: error.reason });
    }
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.#log.error("Call task failed", { error }));
    this.#pending.add(tracked);
    tracked.finally(() => this.#pending.delete(tracked));
  }

  /** Starts a new call's far leg. */
  async #dispatch(call: Call): Promise<void> {
    const address = parseAddress(call.to);
    if (address.kind === "client") {
      if (!await this.#store.getClient(address.identity)) {
        await this.#advance(call.sid, "failed", "client_not_registered");
        return;
      }
      const ringing = await this.#advance(call.sid, "ringing");
      if (!ringing) return;
      this.#ringTimers.set(
        call.sid,
        setTimeout(() => {
          this.#ringTimers.delete(call.sid);
          this.#track(this.#advance(call.sid, "no_answer", "no_answer"));
        }, this.#ringTimeoutMs),
      );
      this.events.emitIncoming(address.identity, { type: "ring", call: ringing });
      return;
    }
    if (!this.#gateway) {
      await this.#advance(call.sid, "failed", "no_sip_gateway");
      return;
    }
    const leg = new AbortController();
    this.#legs.set(call.sid, leg);
    this.#gateway.dial(call, this.#progress(call.sid, leg.signal));
  }

  /** The progress handle a gateway leg reports through. */
  #progress(sid: string, signal: AbortSignal): CallProgress {
    return {
      signal,
      ringing: async () => void await this.#advance(sid, "ringing"),
      answered: async () => void await this.#advance(sid, "in_progress"),
      ended: async (reason, detail) => {
        const current = await this.#store.getCall(sid);
        if (!current || isTerminal(current.call.status)) return;
        const status: CallStatus = current.call.status === "in_progress"
          ? "completed"
          : reason === "no_answer"
          ? "no_answer"
          : reason === "canceled" || reason === "caller_hangup"
          ? "completed"
          : "failed";
        await this.#advance(sid, status, reason, detail?.sipStatus);
      },
      digits: (digits) =>
        this.events.emitCall({ type: "dtmf", sid, at: new Date().toISOString(), digits }),
      speech: (state, at) => this.events.emitCall({ type: "speech", sid, at, state }),
    };
  }

  /**
   * Moves a call by an internal event (no idempotency, illegal edges ignored: e.g. a track
   * ending after a hangup). Returns the new call, or undefined when nothing changed.
   */
  async #advance(
    sid: string,
    to: CallStatus,
    reason?: EndReason,
    sipStatus?: number,
  ): Promise<Call | undefined> {
    try {
      return (await this.#update(sid, undefined, (call) => {
        const next = advanceCall(call, to, reason);
        return sipStatus === undefined ? next : { ...next, sipStatus };
      })).body;
    } catch (error) {
      if (error instanceof ProblemError && error.status === 409) return undefined;
      if (error instanceof ProblemError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Read, change, conditional write (retried on a concurrent change), then side effects. */
  async #update(
    sid: string,
    claim: IdempotencyClaim | undefined,
    change: (call: Call) => Call,
    transfer?: CallTransfer,
  ): Promise<Outcome<Call>> {
    for (let attempt = 0; attempt < 16; attempt++) {
      const found = await this.#store.getCall(sid);
      if (!found) throw notFound(sid);
      let next: Call;
      try {
        next = change(found.call);
      } catch (error) {
        if (error instanceof IllegalTransitionError) {
          throw new ProblemError(409, "illegal-transition", `Call "${sid}": ${error.message}`, {
            currentStatus: error.from,
          });
        }
        throw error;
      }
      const outcome = { status: 200, body: next };
      const result = await this.#store.putCall(next, found.version, record(claim, outcome));
      if (!result.ok) {
        if (result.conflict === "idempotency") throw conflict("idempotency");
        continue;
      }
      if (transfer) this.#emitTransfer(next, transfer);
      if (next.status !== found.call.status) this.#onStatus(found.call, next);
      return outcome;
    }
    throw new ProblemError(409, "conflict", `Call "${sid}" is changing too fast; retry`);
  }

  #onStatus(before: Call, call: Call): void {
    this.#emitStatus(call);
    const identity = call.to.startsWith("client:")
      ? call.to.slice(7)
      : this.#ringingClients.get(call.sid);
    if (before.status === "ringing") {
      clearTimeout(this.#ringTimers.get(call.sid));
      this.#ringTimers.delete(call.sid);
      this.#ringingClients.delete(call.sid);
      if (identity) this.events.emitIncoming(identity, { type: "cancel", call });
    }
    if (isTerminal(call.status)) {
      this.#legs.get(call.sid)?.abort();
      this.#legs.delete(call.sid);
      const ended = this.#origin.closeTracks(["voice", call.sid]);
      this.#log.info("Call ended", {
        sid: call.sid,
        status: call.status,
        reason: call.endReason,
        tracksClosed: ended,
      });
    }
  }

  #emitStatus(call: Call): void {
    const event = { type: "status", sid: call.sid, at: new Date().toISOString(), call } as const;
    this.events.emitCall(event);
    this.#callback(call, event);
  }

  #emitTransfer(call: Call, transfer: CallTransfer): void {
    const event = { type: "transfer", sid: call.sid, at: transfer.at, transfer, call } as const;
    this.events.emitCall(event);
    this.#callback(call, event);
    if (transfer.to?.startsWith("client:")) {
      this.events.emitIncoming(transfer.to.slice(7), { type: "ring", call });
    }
  }

  #callback(call: Call, event: unknown): void {
    if (call.statusCallback && this.#webhooks) {
      this.#track(this.#webhooks.send(call.statusCallback, call.sid, event));
    }
  }

  /** A voice track appeared in the relay. */
  #onTrack(
    namespace: readonly string[],
    name: string,
    capability: string | undefined,
    closed: Promise<Error | undefined>,
  ): void {
    const sid = sidOf(namespace);
    if (!sid || (name !== "uplink" && name !== "downlink")) return;
    let names = this.#liveTracks.get(sid);
    if (!names) this.#liveTracks.set(sid, names = new Set());
    names.add(name);
    this.#emitMedia(sid, name, "published", capability);
    if (name === "uplink") {
      // The caller's leg is attached: a ringing call is answered.
      this.#track(this.#answerByMedia(sid));
    }
    closed.then(() => {
      names.delete(name);
      if (names.size === 0 && this.#liveTracks.get(sid) === names) this.#liveTracks.delete(sid);
      this.#emitMedia(sid, name, "ended", capability);
      if (name === "uplink" && !this.#closed) {
        this.#track(this.#callerLeft(sid));
      }
    });
  }

  async #answerByMedia(sid: string): Promise<void> {
    const found = await this.#store.getCall(sid);
    if (found && (found.call.status === "ringing" || found.call.status === "dialing")) {
      await this.#advance(sid, "in_progress");
    }
  }

  async #callerLeft(sid: string): Promise<void> {
    const found = await this.#store.getCall(sid);
    if (found?.call.status === "in_progress") {
      await this.#advance(sid, "completed", "caller_hangup");
    }
  }

  #emitMedia(
    sid: string,
    track: "uplink" | "downlink",
    state: "published" | "ended",
    capability?: string,
  ): void {
    this.events.emitCall({
      type: "media",
      sid,
      at: new Date().toISOString(),
      track,
      state,
      ...(capability ? { capability } : {}),
    });
  }

  async #reconcile(live: readonly Call[]): Promise<void> {
    let ended = 0;
    for (const call of live) {
      if (this.#liveTracks.has(call.sid)) {
        this.#log.info("Call resumed after restart: its legs are back", { sid: call.sid });
        continue;
      }
      const status = call.status === "in_progress" ? "completed" : "failed";
      if (await this.#advance(call.sid, status, "server_restart")) ended++;
    }
    this.#log.info("Reconciled calls after restart", { live: live.length, ended });
  }
}

function record(
  claim: IdempotencyClaim | undefined,
  outcome: Outcome<unknown>,
): IdempotencyRecord | undefined {
  return claim
    ? {
      key: claim.key,
      fingerprint: claim.fingerprint,
      status: outcome.status,
      body: outcome.body,
      createdAt: new Date().toISOString(),
    }
    : undefined;
}

function notFound(sid: string): ProblemError {
  return new ProblemError(404, "not-found", `No call "${sid}"`);
}

/** A write lost to a concurrent one: the HTTP layer replays the winner for idempotency. */
export class IdempotencyRaceError extends Error {
  /** Creates the error. */
  constructor() {
    super("Another request with the same idempotency key committed first");
    this.name = "IdempotencyRaceError";
  }
}

function conflict(kind: "call" | "idempotency"): Error {
  return kind === "idempotency"
    ? new IdempotencyRaceError()
    : new ProblemError(409, "conflict", "The call was changed concurrently");
}
