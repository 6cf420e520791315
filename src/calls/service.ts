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
import { type AsrEvent, type CallEvent, EventHub, type TranscriptEvent } from "./events.ts";
import { TranscriptLog } from "./transcripts.ts";
import type { CallGateway, CallProgress } from "./gateway.ts";
import {
  CallbackRefusedError,
  CallConflictError,
  CallError,
  CallNotFoundError,
  ClientNotFoundError,
  DestinationRefusedError,
  GatewayFailedError,
  IdempotencyRaceError,
  IllegalCallTransitionError,
  InvalidFilterError,
  StoreUnavailableError,
} from "./errors.ts";
import { type CallStatus, canTransition, type EndReason, isTerminal } from "./status.ts";
import {
  type CallFilter,
  type CallPage,
  type CallStore,
  type ClientRegistration,
  type IdempotencyRecord,
  InvalidCursorError,
} from "./store.ts";
import type { WebhookSender } from "./webhook.ts";
import { type OutboundUrlPolicy, UrlRefusedError } from "./url_policy.ts";
import { metrics } from "../metrics/mod.ts";

/** An `Idempotency-Key` already checked against the store: its record is written with the
 * request's effect, in the same atomic write. `status` is what the HTTP edge answers on
 * success (201 for a create), stored so that a repeated key replays the same answer. */
export interface IdempotencyClaim {
  readonly key: string;
  readonly fingerprint: string;
  readonly status: number;
}

/** What `originate` takes. */
export interface OriginateInput {
  readonly to: string;
  readonly from: string;
  readonly statusCallback?: string;
  /** Capability tags the legs may publish [`["voice/opus"]`]. */
  readonly capabilities?: readonly string[];
  /** How long the callee may ring before `no_answer`, ms [the gateway's, or `ringTimeoutMs`]. */
  readonly ringTimeoutMs?: number;
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
  /**
   * When the legs of calls left live by a previous run can come back (the server listens):
   * the reconciliation grace period starts then [at once].
   */
  readonly reconcileWhen?: Promise<unknown>;
  /** First delay before retrying a state change the store refused, doubled up to 5 s [100]. */
  readonly persistRetryMs?: number;
}

/**
 * Whether the service can do its work now (for a readiness probe): not while calls left live
 * by the previous run are being reconciled, nor while the store refuses writes or state
 * changes wait to be persisted.
 */
export interface Readiness {
  readonly ok: boolean;
  /** Why not, one sentence each; empty when ok. */
  readonly reasons: readonly string[];
}

const DEFAULT_CAPABILITIES = ["voice/opus"];
/** `Retry-After` for a refused write: a store that is full or down rarely recovers sooner. */
const STORE_RETRY_AFTER_SEC = 5;
const MAX_PERSIST_RETRY_MS = 5000;

/**
 * The control plane's core.
 *
 * One source of truth per call status: the call's far leg. A gateway leg (SIP) reports
 * through its {@linkcode CallProgress}; a `client:` leg (an SDK or browser client, no gateway)
 * reports by answering ({@linkcode CallService.answer}) or by attaching its media, and by its
 * uplink track ending. Tracks never change the status of a call that has a gateway leg.
 *
 * ```text
 *   dialing ──▶ ringing ──▶ in_progress ──▶ completed
 *      │           │             └────────▶ failed
 *      │           ├──▶ no_answer (ring timeout) / completed (canceled) / failed
 *      └──▶ failed (no gateway, client not registered) / completed (canceled)
 * ```
 *
 * Storage: a state change a leg reports is retried until the store takes it (never lost, so
 * a call does not stay `in_progress` after its leg ended); a request whose write the store
 * refuses fails with {@linkcode StoreUnavailableError}, and {@linkcode CallService.ready}
 * says not ready meanwhile.
 *
 * @example
 * ```ts ignore
 * import { CallService, KvCallStore } from "./mod.ts";
 * await using calls = new CallService({ store: await KvCallStore.open(), origin, log });
 * await calls.start();
 * const call = await calls.originate({ from: "+14155550100", to: "client:alice" });
 * ```
 */
export class CallService implements AsyncDisposable {
  /** Fan-out of call and incoming events (SSE streams listen here). */
  readonly events: EventHub = new EventHub();
  /** Each call's transcript finals (`GET /v1/calls/{sid}/transcript`), bounded, in memory. */
  readonly transcripts: TranscriptLog = new TranscriptLog();
  readonly #store: CallStore;
  readonly #origin: Origin;
  readonly #log: Logger;
  readonly #webhooks: WebhookSender | undefined;
  readonly #urlPolicy: OutboundUrlPolicy | undefined;
  readonly #gateway: CallGateway | undefined;
  readonly #ringTimeoutMs: number;
  readonly #reconcileGraceMs: number;
  readonly #persistRetryMs: number;
  readonly #reconcileWhen: Promise<unknown> | undefined;
  /** Calls ringing a client (an outbound `client:` call, or an inbound one via ringClient). */
  readonly #ringTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Inbound calls ringing a `client:` identity (their `to` is the dialed number). */
  readonly #ringingClients = new Map<string, string>();
  /** Calls with a gateway leg: its abort ends the leg. */
  readonly #legs = new Map<string, AbortController>();
  readonly #liveTracks = new Map<string, Set<string>>();
  readonly #pending = new Set<Promise<unknown>>();
  /** State changes reported by legs that the store has not taken yet, by sid. */
  readonly #unpersisted = new Map<string, number>();
  readonly #closing = new AbortController();
  readonly #reconciled = Promise.withResolvers<void>();
  #reconciling = true;
  /** Since when the store refuses writes (undefined: it takes them). */
  #writeFailingSince: number | undefined;
  #probing = false;
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
    this.#persistRetryMs = options.persistRetryMs ?? 100;
    this.#reconcileWhen = options.reconcileWhen;
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

  /** Resolves once calls left live by the previous run are reconciled (at once when none). */
  get reconciled(): Promise<void> {
    return this.#reconciled.promise;
  }

  /**
   * Whether the service is ready: reconciliation done, the store taking writes, no state
   * change waiting to be persisted.
   *
   * @example
   * ```ts ignore
   * const { ok, reasons } = calls.ready();
   * if (!ok) console.log(reasons.join("; "));
   * ```
   */
  ready(): Readiness {
    const reasons: string[] = [];
    if (this.#reconciling) reasons.push("Reconciling calls left live by the previous run");
    if (this.#writeFailingSince !== undefined) {
      reasons.push(
        `The call store refuses writes since ${new Date(this.#writeFailingSince).toISOString()}`,
      );
    }
    if (this.#unpersisted.size > 0) {
      reasons.push(`${this.#unpersisted.size} call state change(s) wait to be persisted`);
    }
    return { ok: reasons.length === 0, reasons };
  }

  /**
   * Starts following tracks in the relay and reconciles calls left live by a previous run:
   * after the grace period (from `reconcileWhen`), calls whose legs did not come back end with
   * `server_restart`
   * ({@linkcode reconciled} resolves then, and {@linkcode ready} says not ready until it has).
   */
  async start(): Promise<void> {
    this.#route = this.#origin.route("voice/*", (track) => {
      const info = track.info;
      track.close();
      this.#onTrack(info.namespace, info.name, info.capability, track.closed);
    });
    const live = await this.#read(() => this.#store.liveCalls());
    if (live.length === 0) return this.#doneReconciling();
    this.#log.info("Reconciling calls left live by the previous run", { count: live.length });
    const schedule = () => {
      if (this.#closed) return;
      this.#reconcileTimer = setTimeout(
        () => this.#track(this.#reconcile(live).finally(() => this.#doneReconciling())),
        this.#reconcileGraceMs,
      );
    };
    if (this.#reconcileWhen) this.#track(this.#reconcileWhen.then(schedule));
    else schedule();
  }

  /** Originates a call; resolves with it in `dialing`. */
  async originate(input: OriginateInput, claim?: IdempotencyClaim): Promise<Call> {
    const address = parseAddress(input.to);
    this.#checkDestination(address.kind, address.value);
    if (input.statusCallback !== undefined) await this.#checkCallback(input.statusCallback);
    const call = createCall({
      sid: newSid(),
      direction: "outbound",
      from: input.from,
      to: address.value,
      statusCallback: input.statusCallback,
      ringTimeoutMs: input.ringTimeoutMs,
      capabilities: input.capabilities ?? DEFAULT_CAPABILITIES,
    });
    const result = await this.#write(() => this.#store.putCall(call, null, record(claim, call)));
    if (!result.ok) throw conflict(result.conflict);
    this.#emitStatus(call);
    this.#track(this.#dispatch(call));
    return call;
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
    const result = await this.#write(() => this.#store.putCall(call, null));
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
    if (!await this.#read(() => this.#store.getClient(identity))) {
      await this.#advance(sid, "failed", "client_not_registered");
      return false;
    }
    this.#ringingClients.set(sid, identity);
    const ringing = await this.#ring(sid, identity);
    if (!ringing) this.#ringingClients.delete(sid);
    return ringing !== undefined;
  }

  /**
   * Plays DTMF digits to the far end of a gateway leg (SIP: RFC 4733).
   *
   * @throws {IllegalCallTransitionError} When the call is not in progress
   * @throws {CallConflictError} When it has no gateway leg
   * @throws {GatewayFailedError} When the gateway refuses (e.g. SIP 481: the dialog is gone)
   */
  async sendDigits(sid: string, digits: string): Promise<Call> {
    const call = await this.get(sid);
    if (call.status !== "in_progress") {
      throw new IllegalCallTransitionError(
        sid,
        call.status,
        `Cannot send digits on call "${sid}": it is ${call.status}, not in_progress`,
      );
    }
    if (!this.#legs.has(sid) || !this.#gateway?.sendDigits) {
      throw new CallConflictError(
        "no_gateway_leg",
        `Cannot send digits on call "${sid}": no gateway leg`,
      );
    }
    try {
      await this.#gateway.sendDigits(sid, digits);
    } catch (error) {
      throw gatewayFailed(sid, "Cannot send digits", error);
    }
    return call;
  }

  /**
   * A call.
   *
   * @throws {CallNotFoundError} When there is none
   */
  async get(sid: string): Promise<Call> {
    const found = await this.#read(() => this.#store.getCall(sid));
    if (!found) throw new CallNotFoundError(sid);
    return found.call;
  }

  /**
   * Publishes an event a plugin produced for a call (`transcript`, `asr`): to the call's
   * SSE streams and every listener, its finals into the call's transcript, and to its
   * status callback — all but `partial` transcripts, which only stream (a webhook per
   * interim result would flood receivers).
   */
  publish(event: TranscriptEvent | AsrEvent): void {
    this.events.emitCall(event);
    if (event.type === "transcript") this.transcripts.add(event);
    if (!this.#webhooks || event.type === "transcript" && event.kind === "partial") return;
    this.#track(
      this.#read(() => this.#store.getCall(event.sid)).then((found) =>
        found && this.#callback(found.call, event)
      ),
    );
  }

  /**
   * A page of calls, newest first.
   *
   * @throws {InvalidFilterError} When `createdAfter` is after `createdBefore`
   */
  async list(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage> {
    const { createdAfter, createdBefore } = filter;
    if (createdAfter !== undefined && createdBefore !== undefined && createdAfter > createdBefore) {
      throw new InvalidFilterError("createdAfter is after createdBefore: no call can match");
    }
    return await this.#read(() => this.#store.listCalls(filter, limit, cursor));
  }

  /**
   * Hangs up: `in_progress` → `completed` (`hangup`), `dialing`/`ringing` → `completed`
   * (`canceled`); both tracks are ended in the relay.
   *
   * @throws {IllegalCallTransitionError} When the call already ended
   */
  async hangup(sid: string, claim?: IdempotencyClaim): Promise<Call> {
    return unwrap(
      await this.#update(sid, claim, (call) => {
        const reason: EndReason = call.status === "in_progress" ? "hangup" : "canceled";
        return step(call, "completed", reason);
      }),
    );
  }

  /**
   * Answers a call ringing a client (the `client:` leg's answer; attaching its media answers
   * too). A call whose far leg is a gateway's (an outbound SIP call still dialing) is answered
   * by the gateway only.
   *
   * An inbound call ringing a client through the gateway has its gateway leg answered too
   * (the gateway's explicit `answer(sid)`).
   *
   * @throws {IllegalCallTransitionError} When the call is not ringing a client
   */
  async answer(sid: string, claim?: IdempotencyClaim): Promise<Call> {
    const viaGateway = this.#ringingClients.has(sid) && this.#legs.has(sid);
    const answered = unwrap(
      await this.#update(sid, claim, (call) => {
        if (call.status === "in_progress" || !this.#ringTimers.has(sid)) {
          return new IllegalCallTransitionError(
            sid,
            call.status,
            `Cannot answer call "${sid}": it is ${call.status}, not ringing a client`,
          );
        }
        return step(call, "in_progress");
      }),
    );
    if (viaGateway && this.#gateway?.answer) {
      this.#track(
        this.#gateway.answer(sid).catch((error) =>
          this.#log.warn("Gateway answer failed", { sid, error })
        ),
      );
    }
    return answered;
  }

  /**
   * Hands the far end of an `in_progress` call to another party; the sid and the caller's
   * leg stay. A `client:` target is rung on its incoming stream; an agent target is recorded
   * and announced (`transfer` event) for the agent runtime to pick up.
   *
   * @throws {IllegalCallTransitionError} When the call is not in progress
   * @throws {CallConflictError} When a number or `sip:` target has no gateway to dial it
   * @throws {DestinationRefusedError} When the gateway will not dial the target
   */
  async transfer(sid: string, input: TransferInput, claim?: IdempotencyClaim): Promise<Call> {
    const at = new Date().toISOString();
    let transfer: CallTransfer;
    if ("to" in input) {
      const address = parseAddress(input.to);
      if (address.kind !== "client" && !this.#gateway) {
        throw new CallConflictError("no_gateway", "Cannot transfer: no SIP gateway is configured");
      }
      this.#checkDestination(address.kind, address.value);
      transfer = { to: address.value, at };
    } else {
      transfer = { agent: input.agent, at };
    }
    const call = unwrap(
      await this.#update(sid, claim, (call) => {
        if (call.status !== "in_progress") {
          return new IllegalCallTransitionError(
            sid,
            call.status,
            `Cannot transfer call "${sid}": it is ${call.status}, not in_progress`,
          );
        }
        return { ...call, transfers: [...call.transfers, transfer] };
      }, transfer),
    );
    if (transfer.to && !transfer.to.startsWith("client:") && this.#legs.has(sid)) {
      this.#track(
        this.#gateway?.transfer?.(sid, transfer.to).catch((error) =>
          this.#log.warn("Gateway transfer failed", { sid, error })
        ) ?? Promise.resolve(),
      );
    }
    return call;
  }

  /**
   * Records which agent is bound to an `in_progress` call (`undefined` unbinds); the agent
   * runtime calls it. `expect` is the agent it believes is bound now: when the stored one
   * differs (another request won), nothing is written.
   *
   * @throws {IllegalCallTransitionError} When binding to a call that is not in progress
   * @throws {CallConflictError} When the bound agent is not `expect`
   */
  async bindAgent(
    sid: string,
    agent: string | undefined,
    expect: string | undefined,
    claim?: IdempotencyClaim,
  ): Promise<Call> {
    return unwrap(
      await this.#update(sid, claim, (call) => {
        if (agent !== undefined && call.status !== "in_progress") {
          return new IllegalCallTransitionError(
            sid,
            call.status,
            `Cannot bind an agent to call "${sid}": it is ${call.status}, not in_progress`,
          );
        }
        if (call.agent !== expect) {
          return new CallConflictError(
            "concurrent_change",
            call.agent === undefined
              ? `Call "${sid}" has no agent`
              : `Call "${sid}" already has agent "${call.agent}"`,
          );
        }
        const { agent: _previous, ...rest } = call;
        return agent === undefined ? rest : { ...rest, agent };
      }),
    );
  }

  /** Delivers an event about a call to its listeners (SSE) and its status callback. */
  emitEvent(call: Call, event: CallEvent): void {
    this.events.emitCall(event);
    this.#callback(call, event);
  }

  /** Registers `identity` so that `client:<identity>` can be rung. */
  async registerClient(identity: string, claim?: IdempotencyClaim): Promise<ClientRegistration> {
    const registration = { identity, registeredAt: new Date().toISOString() };
    const result = await this.#write(() =>
      this.#store.putClient(registration, record(claim, registration))
    );
    if (!result.ok) throw conflict(result.conflict);
    return registration;
  }

  /**
   * The registration of `identity`.
   *
   * @throws {ClientNotFoundError} When nobody registered it
   */
  async getClient(identity: string): Promise<ClientRegistration> {
    const found = await this.#read(() => this.#store.getClient(identity));
    if (!found) throw new ClientNotFoundError(identity);
    return found;
  }

  /** Calls now ringing `identity` (delivered first on a new incoming stream). */
  async ringing(identity: string): Promise<Call[]> {
    const calls: Call[] = [];
    for (const sid of this.#ringTimers.keys()) {
      const found = await this.#read(() => this.#store.getCall(sid));
      const rung = found?.call.to === `client:${identity}` ||
        this.#ringingClients.get(sid) === identity;
      if (found?.call.status === "ringing" && rung) {
        calls.push(found.call);
      }
    }
    return calls;
  }

  /**
   * Stops timers and watchers and waits for background work (a state change still refused by
   * the store is given up on and logged: the next start reconciles the call). A second close
   * is a no-op.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#reconcileTimer);
    this.#doneReconciling();
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

  #doneReconciling(): void {
    this.#reconciling = false;
    this.#reconciled.resolve();
  }

  /** A store read; a driver failure becomes {@linkcode StoreUnavailableError}. */
  async #read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      throw this.#storeError(error, "read");
    }
  }

  /** A store write; a failure marks the store as refusing writes until one succeeds. */
  async #write<T>(op: () => Promise<T>): Promise<T> {
    try {
      const result = await op();
      this.#writeSucceeded();
      return result;
    } catch (error) {
      throw this.#writeFailed(error);
    }
  }

  /**
   * A write failed: not ready until one succeeds. With no traffic no write would come, so
   * the store's probe (when it has one) is retried with backoff until the store takes it.
   */
  #writeFailed(error: unknown): unknown {
    this.#writeFailingSince ??= Date.now();
    const probe = this.#store.probeWrite?.bind(this.#store);
    if (probe && !this.#probing && !this.#closed) {
      this.#probing = true;
      this.#track((async () => {
        let delay = this.#persistRetryMs;
        while (this.#writeFailingSince !== undefined && !this.#closing.signal.aborted) {
          await sleep(delay, this.#closing.signal);
          if (this.#closing.signal.aborted) break;
          try {
            await probe();
            this.#writeSucceeded();
          } catch (failure) {
            this.#log.debug("Call store write probe failed", { error: failure });
          }
          delay = Math.min(delay * 2, MAX_PERSIST_RETRY_MS);
        }
        this.#probing = false;
      })());
    }
    return this.#storeError(error, "write");
  }

  #writeSucceeded(): void {
    if (this.#writeFailingSince === undefined) return;
    this.#log.info("The call store takes writes again");
    this.#writeFailingSince = undefined;
  }

  #storeError(error: unknown, op: "read" | "write"): unknown {
    // Not driver failures: our own refusals, and a cursor the store could not decode.
    if (error instanceof CallError || error instanceof InvalidCursorError) return error;
    this.#log.error(`Call store ${op} failed`, { error });
    metrics.storageErrors.inc({ operation: op });
    return new StoreUnavailableError(STORE_RETRY_AFTER_SEC, { cause: error });
  }

  /** Refuses a destination the gateway will not dial (e.g. a `sip:` host no trunk names). */
  #checkDestination(kind: string, to: string): void {
    if (kind === "client") return;
    const refusal = this.#gateway?.refuses?.(to);
    if (refusal !== undefined) throw new DestinationRefusedError(to, refusal);
  }

  /** Refuses a callback URL the server must not send to (SSRF). */
  async #checkCallback(url: string): Promise<void> {
    try {
      await this.#urlPolicy?.check(url);
    } catch (error) {
      if (!(error instanceof UrlRefusedError)) throw error;
      throw new CallbackRefusedError(error.reason, error.message);
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
      if (!await this.#read(() => this.#store.getClient(address.identity))) {
        await this.#advance(call.sid, "failed", "client_not_registered");
        return;
      }
      await this.#ring(call.sid, address.identity, call.ringTimeoutMs);
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

  /** `ringing`, the ring timer and the incoming `ring` event for a call rung at a client. */
  async #ring(sid: string, identity: string, timeoutMs?: number): Promise<Call | undefined> {
    // The timer is set before the status is written, so an answer right after the `ring`
    // event finds the call ringing a client.
    this.#ringTimers.set(
      sid,
      setTimeout(() => {
        this.#ringTimers.delete(sid);
        this.#track(this.#advance(sid, "no_answer", "no_answer"));
      }, timeoutMs ?? this.#ringTimeoutMs),
    );
    const ringing = await this.#advance(sid, "ringing");
    if (!ringing) {
      clearTimeout(this.#ringTimers.get(sid));
      this.#ringTimers.delete(sid);
      return undefined;
    }
    this.events.emitIncoming(identity, { type: "ring", call: ringing });
    return ringing;
  }

  /** The progress handle a gateway leg reports through. */
  #progress(sid: string, signal: AbortSignal): CallProgress {
    return {
      signal,
      ringing: async () => void await this.#advance(sid, "ringing"),
      answered: async () => void await this.#advance(sid, "in_progress"),
      ended: async (reason, detail) => {
        await this.#advanceWith(sid, (call) => {
          const status: CallStatus = call.status === "in_progress"
            ? "completed"
            : reason === "no_answer"
            ? "no_answer"
            : reason === "canceled" || reason === "caller_hangup"
            ? "completed"
            : "failed";
          const next = step(call, status, reason);
          return next instanceof CallError || detail?.sipStatus === undefined
            ? next
            : { ...next, sipStatus: detail.sipStatus };
        });
      },
      digits: (digits) =>
        this.events.emitCall({ type: "dtmf", sid, at: new Date().toISOString(), digits }),
      speech: (state, at) => this.events.emitCall({ type: "speech", sid, at, state }),
    };
  }

  /** {@linkcode #advanceWith} for one edge (with `sipStatus` recorded when given). */
  #advance(sid: string, to: CallStatus, reason?: EndReason): Promise<Call | undefined> {
    return this.#advanceWith(sid, (call) => step(call, to, reason));
  }

  /**
   * Moves a call by an internal event (a leg's report, a timer, reconciliation): an edge the
   * call cannot take now (e.g. a track ending after a hangup) or a call that is gone changes
   * nothing (undefined). A store that refuses the write is retried with backoff until it
   * takes it or the service closes: a leg's report is never dropped.
   */
  async #advanceWith(
    sid: string,
    change: (call: Call) => Call | CallError,
  ): Promise<Call | undefined> {
    let delay = this.#persistRetryMs;
    for (;;) {
      try {
        const result = await this.#update(sid, undefined, change);
        return result instanceof CallError ? undefined : result;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        if (this.#closing.signal.aborted) {
          this.#log.error(
            "Giving up on a call state change the store refused: reconciled at the next start",
            { sid },
          );
          return undefined;
        }
        this.#unpersisted.set(sid, (this.#unpersisted.get(sid) ?? 0) + 1);
        try {
          await sleep(delay, this.#closing.signal);
        } finally {
          const left = (this.#unpersisted.get(sid) ?? 1) - 1;
          if (left > 0) this.#unpersisted.set(sid, left);
          else this.#unpersisted.delete(sid);
        }
        delay = Math.min(delay * 2, MAX_PERSIST_RETRY_MS);
      }
    }
  }

  /**
   * Read, change, conditional write (retried on a concurrent change), then side effects.
   * Returns the refusal `change` gave (or `CallNotFoundError`) instead of throwing it, so
   * internal callers decide without catching; public callers {@linkcode unwrap} it.
   */
  async #update(
    sid: string,
    claim: IdempotencyClaim | undefined,
    change: (call: Call) => Call | CallError,
    transfer?: CallTransfer,
  ): Promise<Call | CallError> {
    for (let attempt = 0; attempt < 16; attempt++) {
      // The store is awaited directly (no wrapper): the status event follows the commit with
      // no extra turn, so a reader polling the store rarely sees a status before its event.
      let found;
      try {
        found = await this.#store.getCall(sid);
      } catch (error) {
        throw this.#storeError(error, "read");
      }
      if (!found) return new CallNotFoundError(sid);
      const next = change(found.call);
      if (next instanceof CallError) return next;
      let result;
      try {
        result = await this.#store.putCall(next, found.version, record(claim, next));
      } catch (error) {
        throw this.#writeFailed(error);
      }
      this.#writeSucceeded();
      if (!result.ok) {
        if (result.conflict === "idempotency") throw conflict("idempotency");
        continue;
      }
      if (transfer) this.#emitTransfer(next, transfer);
      if (next.status !== found.call.status) this.#onStatus(found.call, next);
      return next;
    }
    return new CallConflictError("concurrent_change", `Call "${sid}" is changing too fast; retry`);
  }

  #onStatus(before: Call, call: Call): void {
    this.#emitStatus(call);
    const identity = call.to.startsWith("client:")
      ? call.to.slice(7)
      : this.#ringingClients.get(call.sid);
    if (call.status !== "ringing" && this.#ringTimers.has(call.sid)) {
      clearTimeout(this.#ringTimers.get(call.sid));
      this.#ringTimers.delete(call.sid);
    }
    if (before.status === "ringing") {
      this.#ringingClients.delete(call.sid);
      if (identity) this.events.emitIncoming(identity, { type: "cancel", call });
    }
    if (isTerminal(call.status)) {
      // The reason tells the leg how to end (a SIP INVITE not answered: 480 after no_answer).
      this.#legs.get(call.sid)?.abort(call.endReason);
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
    // Only a `client:` leg reports through its media; a gateway leg reports explicitly.
    if (name === "uplink" && !this.#legs.has(sid) && this.#ringTimers.has(sid)) {
      // The client's leg attached: its answer.
      this.#track(this.#advance(sid, "in_progress"));
    }
    closed.then((error) => {
      names.delete(name);
      if (names.size === 0 && this.#liveTracks.get(sid) === names) this.#liveTracks.delete(sid);
      this.#emitMedia(sid, name, "ended", capability);
      if (name === "uplink" && !this.#closed && !this.#legs.has(sid)) {
        // The client's leg left: it hung up (the track says whether it ended cleanly).
        this.#track(this.#clientLeft(sid, error));
      }
    });
  }

  /**
   * The client's uplink ended: the track says why — cleanly (the client released its leg:
   * `caller_hangup`) or with an error (its session was lost: `connection_lost`).
   */
  async #clientLeft(sid: string, error: Error | undefined): Promise<void> {
    const reason: EndReason = error ? "connection_lost" : "caller_hangup";
    const ended = await this.#advanceWith(
      sid,
      (call) =>
        call.status === "in_progress"
          ? step(call, "completed", reason)
          : new IllegalCallTransitionError(sid, call.status, "Not in progress"),
    );
    if (ended && error) this.#log.info("The client's leg was lost", { sid, error: error.message });
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

/** The call after the edge `to`, or the refusal when the state machine has no such edge. */
function step(call: Call, to: CallStatus, reason?: EndReason): Call | CallError {
  if (!canTransition(call.status, to) || (isTerminal(to) && !reason)) {
    return new IllegalCallTransitionError(
      call.sid,
      call.status,
      `Call "${call.sid}": cannot move from "${call.status}" to "${to}"`,
    );
  }
  return advanceCall(call, to, reason);
}

/** A public operation's result: the call, or its refusal thrown. */
function unwrap(result: Call | CallError): Call {
  if (result instanceof CallError) throw result;
  return result;
}

function record(claim: IdempotencyClaim | undefined, body: unknown): IdempotencyRecord | undefined {
  return claim
    ? {
      key: claim.key,
      fingerprint: claim.fingerprint,
      status: claim.status,
      body,
      createdAt: new Date().toISOString(),
    }
    : undefined;
}

/** A gateway's refusal as the domain's error; a SIP status is read from its `status`. */
function gatewayFailed(sid: string, what: string, error: unknown): GatewayFailedError {
  const status = (error as { status?: unknown })?.status;
  return new GatewayFailedError(
    sid,
    `${what} on call "${sid}": ${error instanceof Error ? error.message : String(error)}`,
    typeof status === "number" ? status : undefined,
    { cause: error },
  );
}

function conflict(kind: "call" | "idempotency"): CallError {
  return kind === "idempotency"
    ? new IdempotencyRaceError()
    : new CallConflictError("concurrent_change", "The call was changed concurrently");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
