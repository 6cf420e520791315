/**
 * The calls service's core, shared by its parts (outbound and inbound legs, client legs,
 * transfers): the per-call tables kept in memory, background work, and the one way a call
 * changes — read, change, conditional write, then the side effects of the new status
 * (events, status callbacks, ring timers cleared, legs and tracks ended).
 *
 * @module
 */
import type { Origin } from "../relay/model/origin.ts";
import type { Logger } from "../log/mod.ts";
import { advanceCall, type Call, type CallTransfer } from "./call.ts";
import { EventHub } from "./events.ts";
import { TranscriptLog } from "./transcripts.ts";
import type { CallGateway } from "./gateway.ts";
import {
  CallConflictError,
  CallError,
  CallNotFoundError,
  DestinationRefusedError,
  IdempotencyRaceError,
  IllegalCallTransitionError,
} from "./errors.ts";
import { type CallStatus, canTransition, type EndReason, isTerminal } from "./status.ts";
import type { CallStore, IdempotencyRecord } from "./store.ts";
import type { IdempotencyClaim } from "../http/idempotency.ts";
import type { WebhookSender } from "./webhook.ts";
import type { OutboundUrlPolicy } from "./url_policy.ts";
import { StoreGuard } from "./store_guard.ts";

export type { IdempotencyClaim };

/** What the core is built from (the service's options, defaults applied). */
export interface CallCoreOptions {
  readonly store: CallStore;
  readonly origin: Origin;
  readonly log: Logger;
  readonly webhooks: WebhookSender | undefined;
  readonly urlPolicy: OutboundUrlPolicy | undefined;
  readonly gateway: CallGateway | undefined;
  readonly ringTimeoutMs: number;
  readonly persistRetryMs: number;
}

/** The state the service's parts share, and the call transitions they all go through. */
export class CallCore {
  /** Fan-out of call and incoming events. */
  readonly events: EventHub = new EventHub();
  /** Each call's transcript finals, bounded, in the store when it keeps them. */
  readonly transcripts: TranscriptLog;
  readonly store: CallStore;
  readonly origin: Origin;
  readonly log: Logger;
  readonly webhooks: WebhookSender | undefined;
  readonly urlPolicy: OutboundUrlPolicy | undefined;
  readonly gateway: CallGateway | undefined;
  readonly ringTimeoutMs: number;
  /** Calls ringing a client (an outbound `client:` call, or an inbound one via ringClient). */
  readonly ringTimers: Map<string, ReturnType<typeof setTimeout>> = new Map();
  /** Inbound calls ringing a `client:` identity (their `to` is the dialed number). */
  readonly ringingClients: Map<string, string> = new Map();
  /** Calls with a gateway leg: its abort ends the leg. */
  readonly legs: Map<string, AbortController> = new Map();
  /** The voice tracks each call has in the relay now. */
  readonly liveTracks: Map<string, Set<string>> = new Map();
  /** Background work the service waits for on close. */
  readonly pending: Set<Promise<unknown>> = new Set();
  /** Aborted when the service closes. */
  readonly closing: AbortController = new AbortController();
  readonly guard: StoreGuard;

  /** The core over `options.store`. */
  constructor(options: CallCoreOptions) {
    this.store = options.store;
    this.origin = options.origin;
    this.log = options.log;
    this.transcripts = new TranscriptLog({ store: options.store, log: options.log });
    this.webhooks = options.webhooks;
    this.urlPolicy = options.urlPolicy;
    this.gateway = options.gateway;
    this.ringTimeoutMs = options.ringTimeoutMs;
    this.guard = new StoreGuard({
      store: options.store,
      log: options.log,
      persistRetryMs: options.persistRetryMs,
      closing: this.closing.signal,
      track: (work) => this.track(work),
    });
  }

  /** Whether the service closed. */
  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Runs background work: its failure is logged, close waits for it. */
  track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.log.error("Call task failed", { error }));
    this.pending.add(tracked);
    tracked.finally(() => this.pending.delete(tracked));
  }

  /** {@linkcode advanceWith} for one edge. */
  advance(sid: string, to: CallStatus, reason?: EndReason): Promise<Call | undefined> {
    return this.advanceWith(sid, (call) => step(call, to, reason));
  }

  /**
   * Moves a call by an internal event (a leg's report, a timer, reconciliation): an edge the
   * call cannot take now (e.g. a track ending after a hangup) or a call that is gone changes
   * nothing (undefined). A store that refuses the write is retried with backoff until it
   * takes it or the service closes: a leg's report is never dropped.
   */
  async advanceWith(
    sid: string,
    change: (call: Call) => Call | CallError,
  ): Promise<Call | undefined> {
    const result = await this.guard.persist(sid, () => this.update(sid, undefined, change));
    return result instanceof CallError ? undefined : result;
  }

  /**
   * Read, change, conditional write (retried on a concurrent change), then side effects.
   * Returns the refusal `change` gave (or `CallNotFoundError`) instead of throwing it, so
   * internal callers decide without catching; public callers {@linkcode unwrap} it.
   */
  async update(
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
        found = await this.store.getCall(sid);
      } catch (error) {
        throw this.guard.storeError(error, "read");
      }
      if (!found) return new CallNotFoundError(sid);
      const next = change(found.call);
      if (next instanceof CallError) return next;
      let result;
      try {
        result = await this.store.putCall(next, found.version, record(claim, next));
      } catch (error) {
        throw this.guard.writeFailed(error);
      }
      this.guard.writeSucceeded();
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

  /** Refuses a destination the gateway will not dial (e.g. a `sip:` host no trunk names). */
  checkDestination(kind: string, to: string): void {
    if (kind === "client") return;
    const refusal = this.gateway?.refuses?.(to);
    if (refusal !== undefined) throw new DestinationRefusedError(to, refusal);
  }

  /** The `status` event (and status callback) for a call's current status. */
  emitStatus(call: Call): void {
    const event = { type: "status", sid: call.sid, at: new Date().toISOString(), call } as const;
    this.events.emitCall(event);
    this.callback(call, event);
  }

  /** Sends `event` to the call's status callback, when it has one. */
  callback(call: Call, event: unknown): void {
    if (call.statusCallback && this.webhooks) {
      this.track(this.webhooks.send(call.statusCallback, call.sid, event));
    }
  }

  #onStatus(before: Call, call: Call): void {
    this.emitStatus(call);
    const identity = call.to.startsWith("client:")
      ? call.to.slice(7)
      : this.ringingClients.get(call.sid);
    if (call.status !== "ringing" && this.ringTimers.has(call.sid)) {
      clearTimeout(this.ringTimers.get(call.sid));
      this.ringTimers.delete(call.sid);
    }
    if (before.status === "ringing") {
      this.ringingClients.delete(call.sid);
      if (identity) this.events.emitIncoming(identity, { type: "cancel", call });
    }
    if (isTerminal(call.status)) {
      // The reason tells the leg how to end (a SIP INVITE not answered: 480 after no_answer).
      this.legs.get(call.sid)?.abort(call.endReason);
      this.legs.delete(call.sid);
      const ended = this.origin.closeTracks(["voice", call.sid]);
      this.log.info("Call ended", {
        sid: call.sid,
        status: call.status,
        reason: call.endReason,
        tracksClosed: ended,
      });
    }
  }

  #emitTransfer(call: Call, transfer: CallTransfer): void {
    const event = { type: "transfer", sid: call.sid, at: transfer.at, transfer, call } as const;
    this.events.emitCall(event);
    this.callback(call, event);
    if (transfer.to?.startsWith("client:")) {
      this.events.emitIncoming(transfer.to.slice(7), { type: "ring", call });
    }
  }
}

/** The call after the edge `to`, or the refusal when the state machine has no such edge. */
export function step(call: Call, to: CallStatus, reason?: EndReason): Call | CallError {
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
export function unwrap(result: Call | CallError): Call {
  if (result instanceof CallError) throw result;
  return result;
}

/** The idempotency record a claimed request writes with its effect. */
export function record(
  claim: IdempotencyClaim | undefined,
  body: unknown,
): IdempotencyRecord | undefined {
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

/** A conditional create the store refused: a concurrent change or a repeated key. */
export function conflict(kind: "call" | "idempotency"): CallError {
  return kind === "idempotency"
    ? new IdempotencyRaceError()
    : new CallConflictError("concurrent_change", "The call was changed concurrently");
}
