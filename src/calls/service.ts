/**
 * The Calls service: originate, get, list, answer, transfer, hang up, ring registered
 * clients, follow the legs' tracks in the relay, and reconcile after a restart. Transport
 * neutral: the HTTP API ({@linkcode createCallsApi}) is a thin layer over it.
 *
 * The class is the service's lifecycle and public face; its parts live beside it: the shared
 * core and its transitions (`core.ts`), store retries and readiness (`store_guard.ts`),
 * originate and gateway legs (`legs.ts`), client legs (`client_legs.ts`), transfers and agent
 * binding (`transfer.ts`), reconciliation after a restart (`reconcile.ts`).
 *
 * @module
 */
import type { Origin } from "../relay/model/origin.ts";
import type { Registration } from "../relay/model/origin.ts";
import type { Logger } from "../log/mod.ts";
import type { Call } from "./call.ts";
import type { AsrEvent, CallEvent, EventHub, TranscriptEvent } from "./events.ts";
import type { TranscriptLog } from "./transcripts.ts";
import type { CallGateway } from "./gateway.ts";
import { CallNotFoundError, InvalidFilterError } from "./errors.ts";
import { type EndReason, isTerminal } from "./status.ts";
import type { CallFilter, CallPage, CallStore, ClientRegistration } from "./store.ts";
import type { WebhookSender } from "./webhook.ts";
import type { OutboundUrlPolicy } from "./url_policy.ts";
import { CallCore, type IdempotencyClaim, step, unwrap } from "./core.ts";
import * as clients from "./client_legs.ts";
import * as legs from "./legs.ts";
import type { InboundInput, InboundLeg, OriginateInput } from "./legs.ts";
import { Reconciler } from "./reconcile.ts";
import * as handoff from "./transfer.ts";
import type { TransferInput } from "./transfer.ts";

export type { IdempotencyClaim } from "./core.ts";
export type { InboundInput, InboundLeg, OriginateInput } from "./legs.ts";
export type { TransferInput } from "./transfer.ts";

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
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createLogger } from "../log/mod.ts";
 * import { Origin } from "../relay/model/origin.ts";
 * import { CallService, KvCallStore } from "./mod.ts";
 * const log = createLogger({ sink: () => {} });
 * await using calls = new CallService({ store: await KvCallStore.open(), origin: new Origin(), log });
 * await calls.start();
 * await calls.reconciled; // at once: the store holds no call left live
 * assertEquals(calls.ready(), { ok: true, reasons: [] });
 * await calls.registerClient("alice");
 * const rung = Promise.withResolvers<void>();
 * const stop = calls.events.onIncoming("alice", (event) => event.type === "ring" && rung.resolve());
 * const call = await calls.originate({ from: "+14155550100", to: "client:alice" });
 * assertEquals(call.status, "dialing");
 * await rung.promise; // alice's client is rung
 * stop();
 * assertEquals((await calls.answer(call.sid)).status, "in_progress");
 * const ended = await calls.hangup(call.sid);
 * assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
 * ```
 */
export class CallService implements AsyncDisposable {
  readonly #core: CallCore;
  readonly #reconciler: Reconciler;
  #route: Registration | undefined;
  #ringingElsewhere: ((identity: string) => Promise<readonly Call[]>) | undefined;

  /** Creates the service; call {@linkcode start} before use. */
  constructor(options: CallServiceOptions) {
    this.#core = new CallCore({
      store: options.store,
      origin: options.origin,
      log: options.log,
      webhooks: options.webhooks,
      urlPolicy: options.urlPolicy,
      gateway: options.gateway,
      ringTimeoutMs: options.ringTimeoutMs ?? 30_000,
      persistRetryMs: options.persistRetryMs ?? 100,
    });
    this.#reconciler = new Reconciler(
      this.#core,
      options.reconcileGraceMs ?? 3000,
      options.reconcileWhen,
    );
  }

  /** Fan-out of call and incoming events (SSE streams listen here). */
  get events(): EventHub {
    return this.#core.events;
  }

  /** Each call's transcript finals (`GET /v1/calls/{sid}/transcript`), bounded, in the store. */
  get transcripts(): TranscriptLog {
    return this.#core.transcripts;
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
    const core = this.#core;
    return {
      legs: core.legs.size,
      liveTracks: core.liveTracks.size,
      ringTimers: core.ringTimers.size,
      ringingClients: core.ringingClients.size,
      pending: core.pending.size,
      callListeners: core.events.listening.calls,
    };
  }

  /** Aborted when the service closes: long-lived streams end on it. */
  get closing(): AbortSignal {
    return this.#core.closing.signal;
  }

  /** The store (for the HTTP layer's idempotency lookups). */
  get store(): CallStore {
    return this.#core.store;
  }

  /** Resolves once calls left live by the previous run are reconciled (at once when none). */
  get reconciled(): Promise<void> {
    return this.#reconciler.done;
  }

  /**
   * Whether the service is ready: reconciliation done, the store taking writes, no state
   * change waiting to be persisted. The class example asserts it of a started service.
   */
  ready(): Readiness {
    const reasons: string[] = [];
    if (this.#reconciler.reconciling) {
      reasons.push("Reconciling calls left live by the previous run");
    }
    reasons.push(...this.#core.guard.reasons());
    return { ok: reasons.length === 0, reasons };
  }

  /**
   * Starts following tracks in the relay and reconciles calls left live by a previous run:
   * after the grace period (from `reconcileWhen`), calls whose legs did not come back end with
   * `server_restart`
   * ({@linkcode reconciled} resolves then, and {@linkcode ready} says not ready until it has).
   */
  async start(): Promise<void> {
    const core = this.#core;
    this.#route = core.origin.route("voice/*", (track) => {
      const info = track.info;
      track.close();
      clients.onTrack(core, info.namespace, info.name, info.capability, track.closed);
    });
    await this.#reconciler.start();
  }

  /**
   * A voice track live somewhere the service's own route cannot see (a relay shard Worker of
   * this process): reported like the tracks of the service's origin (`media` events, a client
   * leg's answer when its uplink appears, its end when the uplink's `closed` resolves).
   *
   * @example
   * ```ts ignore
   * calls.observeTrack(["voice", "CA1"], "uplink", "voice/opus", ended.promise);
   * ```
   */
  observeTrack(
    namespace: readonly string[],
    name: string,
    capability: string | undefined,
    closed: Promise<Error | undefined>,
  ): void {
    clients.onTrack(this.#core, namespace, name, capability, closed);
  }

  /** Originates a call; resolves with it in `dialing`. */
  originate(input: OriginateInput, claim?: IdempotencyClaim): Promise<Call> {
    return legs.originate(this.#core, input, claim);
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
  admitInbound(input: InboundInput): Promise<InboundLeg> {
    return legs.admitInbound(this.#core, input);
  }

  /**
   * Rings `client:<identity>` for an inbound call: `ringing`, an incoming `ring` event, and
   * `no_answer` after the ring timeout. The client answers with {@linkcode answer}. Returns
   * false (and fails the call with `client_not_registered`) when nobody registered it.
   */
  ringClient(sid: string, identity: string): Promise<boolean> {
    return clients.ringClient(this.#core, sid, identity);
  }

  /**
   * Plays DTMF digits to the far end of a gateway leg (SIP: RFC 4733).
   *
   * @throws {IllegalCallTransitionError} When the call is not in progress
   * @throws {CallConflictError} When it has no gateway leg
   * @throws {GatewayFailedError} When the gateway refuses (e.g. SIP 481: the dialog is gone)
   */
  async sendDigits(sid: string, digits: string): Promise<Call> {
    return await legs.sendDigits(this.#core, await this.get(sid), digits);
  }

  /**
   * A call.
   *
   * @throws {CallNotFoundError} When there is none
   */
  async get(sid: string): Promise<Call> {
    const core = this.#core;
    const found = await core.guard.read(() => core.store.getCall(sid));
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
    const core = this.#core;
    core.events.emitCall(event);
    if (event.type === "transcript") core.track(core.transcripts.add(event));
    if (!core.webhooks || event.type === "transcript" && event.kind === "partial") return;
    core.track(
      core.guard.read(() => core.store.getCall(event.sid)).then((found) =>
        found && core.callback(found.call, event)
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
    const core = this.#core;
    return await core.guard.read(() => core.store.listCalls(filter, limit, cursor));
  }

  /**
   * Hangs up: `in_progress` → `completed` (`hangup`), `dialing`/`ringing` → `completed`
   * (`canceled`); both tracks are ended in the relay.
   *
   * @throws {IllegalCallTransitionError} When the call already ended
   */
  async hangup(sid: string, claim?: IdempotencyClaim): Promise<Call> {
    return unwrap(
      await this.#core.update(sid, claim, (call) => {
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
  answer(sid: string, claim?: IdempotencyClaim): Promise<Call> {
    return clients.answer(this.#core, sid, claim);
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
  transfer(sid: string, input: TransferInput, claim?: IdempotencyClaim): Promise<Call> {
    return handoff.transfer(this.#core, sid, input, claim);
  }

  /**
   * Records which agent is bound to an `in_progress` call (`undefined` unbinds); the agent
   * runtime calls it. `expect` is the agent it believes is bound now: when the stored one
   * differs (another request won), nothing is written.
   *
   * @throws {IllegalCallTransitionError} When binding to a call that is not in progress
   * @throws {CallConflictError} When the bound agent is not `expect`
   */
  bindAgent(
    sid: string,
    agent: string | undefined,
    expect: string | undefined,
    claim?: IdempotencyClaim,
  ): Promise<Call> {
    return handoff.bindAgent(this.#core, sid, agent, expect, claim);
  }

  /**
   * Ends a call whose legs were on a node that is gone (cluster mode: its lease expired):
   * `failed` with `reason`, unless it has ended already (then undefined, nothing changes).
   * Its status event and status callback come from this node.
   */
  endOrphaned(sid: string, reason: EndReason): Promise<Call | undefined> {
    return this.#core.advance(sid, "failed", reason);
  }

  /**
   * A call's track published on another node (cluster mode: told by the relay cascade). A
   * `client:` call this node rings is answered when its client's uplink appears there, and
   * ends when it goes (`caller_hangup`, or `connection_lost` for an abort), as for a track
   * published here; any other call's remote tracks are left to the node they are on.
   *
   * @example
   * ```ts ignore
   * calls.remoteTrack(["voice", sid], "uplink", "voice/opus", ended); // ended: its end there
   * ```
   */
  remoteTrack(
    namespace: readonly string[],
    name: string,
    capability: string | undefined,
    ended: Promise<Error | undefined>,
  ): void {
    const core = this.#core;
    const sid = namespace.length === 2 && namespace[0] === "voice" ? namespace[1] : undefined;
    if (!sid || !core.ringTimers.has(sid) || core.legs.has(sid)) return;
    clients.onTrack(core, namespace, name, capability, ended);
  }

  /**
   * Releases every leg this process holds (gateway legs, and the calls' tracks in the relay),
   * without asking the store: for a node cut off from the cluster's store whose calls the
   * other nodes end as lost (`reason`). Each leg ends as a hangup would (SIP: BYE; its RTP
   * ports freed); its own end report reaches the store when it is back (refused there if the
   * call was ended already). Resolves with the sids released.
   *
   * @example
   * ```ts ignore
   * const released = calls.releaseAllLegs("node_lost"); // the cluster lease ran out
   * ```
   */
  releaseAllLegs(reason: EndReason): string[] {
    const core = this.#core;
    const released = [...new Set([...core.legs.keys(), ...core.liveTracks.keys()])];
    for (const sid of released) {
      core.legs.get(sid)?.abort(reason);
      core.legs.delete(sid);
      const tracks = core.origin.closeTracks(["voice", sid]);
      core.log.warn("Released the legs of a call lost with this node", { sid, tracks, reason });
    }
    return released;
  }

  /**
   * Releases this process's legs (gateway legs, and the call's tracks in the relay) of calls
   * the store says have ended: after a node was cut off from the cluster's store, the others
   * may have ended its calls (`failed` / `node_lost`) while its legs kept running. Each such
   * leg ends as a hangup would end it (SIP: BYE; its RTP ports freed). Calls the store cannot
   * be read for are left alone. Resolves with the sids released.
   *
   * @example
   * ```ts ignore
   * const released = await calls.releaseEndedLegs(); // after the cluster lease is renewed again
   * ```
   */
  async releaseEndedLegs(): Promise<string[]> {
    const core = this.#core;
    const released: string[] = [];
    for (const sid of new Set([...core.legs.keys(), ...core.liveTracks.keys()])) {
      let found;
      try {
        found = await core.store.getCall(sid);
      } catch (error) {
        core.log.warn("Cannot read a call to check its legs", { sid, error });
        continue;
      }
      if (found && !isTerminal(found.call.status)) continue;
      core.legs.get(sid)?.abort(found?.call.endReason ?? "node_lost");
      core.legs.delete(sid);
      const tracks = core.origin.closeTracks(["voice", sid]);
      core.log.warn("Released the legs of a call that ended elsewhere", {
        sid,
        status: found?.call.status,
        reason: found?.call.endReason,
        tracksClosed: tracks,
      });
      released.push(sid);
    }
    return released;
  }

  /** Delivers an event about a call to its listeners (SSE) and its status callback. */
  emitEvent(call: Call, event: CallEvent): void {
    this.#core.events.emitCall(event);
    this.#core.callback(call, event);
  }

  /** Registers `identity` so that `client:<identity>` can be rung. */
  registerClient(identity: string, claim?: IdempotencyClaim): Promise<ClientRegistration> {
    return clients.registerClient(this.#core, identity, claim);
  }

  /**
   * The registration of `identity`.
   *
   * @throws {ClientNotFoundError} When nobody registered it
   */
  getClient(identity: string): Promise<ClientRegistration> {
    return clients.getClient(this.#core, identity);
  }

  /**
   * Calls now ringing `identity` (delivered first on a new incoming stream): this node's, and
   * (cluster mode) those other nodes ring, from {@linkcode ringingElsewhere}'s source.
   */
  async ringing(identity: string): Promise<Call[]> {
    const own = await clients.ringing(this.#core, identity);
    const others = await this.#ringingElsewhere?.(identity) ?? [];
    const sids = new Set(own.map((call) => call.sid));
    return [...own, ...others.filter((call) => !sids.has(call.sid))];
  }

  /**
   * Where {@linkcode ringing} finds the calls other nodes ring (cluster mode: the cluster's
   * table of rings). Set once, when joining.
   *
   * @example
   * ```ts ignore
   * calls.ringingElsewhere((identity) => bus.ringing(identity));
   * ```
   */
  ringingElsewhere(source: (identity: string) => Promise<readonly Call[]>): void {
    this.#ringingElsewhere = source;
  }

  /**
   * Stops timers and watchers and waits for background work (a state change still refused by
   * the store is given up on and logged: the next start reconciles the call). A second close
   * is a no-op.
   */
  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closing.abort();
    this.#reconciler.stop();
    this.#route?.close();
    for (const timer of core.ringTimers.values()) clearTimeout(timer);
    core.ringTimers.clear();
    for (const leg of core.legs.values()) leg.abort();
    while (core.pending.size > 0) await Promise.allSettled([...core.pending]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
