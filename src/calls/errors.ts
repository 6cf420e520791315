/**
 * The Calls domain's errors: what the service refuses, in its own words. The HTTP API maps
 * each {@linkcode CallError} kind to a problem response at the edge (`api.ts`); nothing here
 * knows a status code.
 *
 * | kind                  | meaning                                              | HTTP (api.ts) |
 * | --------------------- | ---------------------------------------------------- | ------------- |
 * | `call_not_found`      | no call with that sid                                | 404           |
 * | `client_not_found`    | no client registered under that identity             | 404           |
 * | `illegal_transition`  | the call's status does not allow it                  | 409           |
 * | `conflict`            | no gateway leg, no gateway, or changing too fast     | 409           |
 * | `destination_refused` | the gateway will not dial that destination           | 422           |
 * | `callback_refused`    | the status callback URL is not one we send to        | 422           |
 * | `invalid_filter`      | a list filter that cannot match (after > before)     | 422           |
 * | `gateway_failed`      | the gateway refused an in-dialog request (e.g. 481)  | 409 / 502     |
 * | `store_unavailable`   | the store cannot be written now; retry later         | 503           |
 * | `idempotency_race`    | another request with the same key committed first    | (replayed)    |
 *
 * @module
 */

/** Every kind of {@linkcode CallError}. */
export type CallErrorKind =
  | "call_not_found"
  | "client_not_found"
  | "illegal_transition"
  | "conflict"
  | "destination_refused"
  | "callback_refused"
  | "invalid_filter"
  | "gateway_failed"
  | "store_unavailable"
  | "idempotency_race";

/**
 * A refusal of the Calls service. `kind` discriminates; the subclasses carry the details.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallError, CallNotFoundError } from "./errors.ts";
 * const error: CallError = new CallNotFoundError("CA1");
 * assertEquals([error.kind, error.message], ["call_not_found", 'No call "CA1"']);
 * ```
 */
export abstract class CallError extends Error {
  /** What went wrong. */
  abstract readonly kind: CallErrorKind;
}

/**
 * No call with this sid.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallNotFoundError } from "./errors.ts";
 * assertEquals(new CallNotFoundError("CA1").sid, "CA1");
 * ```
 */
export class CallNotFoundError extends CallError {
  readonly kind = "call_not_found" as const;
  /** The sid asked for. */
  readonly sid: string;
  /** Creates the error. */
  constructor(sid: string) {
    super(`No call "${sid}"`);
    this.name = "CallNotFoundError";
    this.sid = sid;
  }
}

/**
 * No client registered under this identity.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ClientNotFoundError } from "./errors.ts";
 * assertEquals(new ClientNotFoundError("alice").message, 'No client registered as "alice"');
 * ```
 */
export class ClientNotFoundError extends CallError {
  readonly kind = "client_not_found" as const;
  /** The identity asked for. */
  readonly identity: string;
  /** Creates the error. */
  constructor(identity: string) {
    super(`No client registered as "${identity}"`);
    this.name = "ClientNotFoundError";
    this.identity = identity;
  }
}

/**
 * The call's status does not allow the operation (e.g. hanging up a completed call).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { IllegalCallTransitionError } from "./errors.ts";
 * const error = new IllegalCallTransitionError("CA1", "completed", "Cannot hang up");
 * assertEquals(error.currentStatus, "completed");
 * ```
 */
export class IllegalCallTransitionError extends CallError {
  readonly kind = "illegal_transition" as const;
  /** The call. */
  readonly sid: string;
  /** Its status when refused. */
  readonly currentStatus: string;
  /** Creates the error. */
  constructor(sid: string, currentStatus: string, message: string) {
    super(message);
    this.name = "IllegalCallTransitionError";
    this.sid = sid;
    this.currentStatus = currentStatus;
  }
}

/**
 * The operation conflicts with the call's legs or configuration (no gateway leg, no
 * gateway configured) or with concurrent changes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallConflictError } from "./errors.ts";
 * assertEquals(new CallConflictError("no_gateway", "No SIP gateway is configured").reason, "no_gateway");
 * ```
 */
export class CallConflictError extends CallError {
  readonly kind = "conflict" as const;
  /** Which conflict. */
  readonly reason: "no_gateway_leg" | "no_gateway" | "concurrent_change";
  /** Creates the error. */
  constructor(reason: CallConflictError["reason"], message: string) {
    super(message);
    this.name = "CallConflictError";
    this.reason = reason;
  }
}

/**
 * The gateway will not dial this destination (no trunk routes it, a `sip:` host not allowed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { DestinationRefusedError } from "./errors.ts";
 * const error = new DestinationRefusedError("sip:x@198.51.100.7", "not a trunk");
 * assertEquals([error.kind, error.to], ["destination_refused", "sip:x@198.51.100.7"]);
 * ```
 */
export class DestinationRefusedError extends CallError {
  readonly kind = "destination_refused" as const;
  /** The destination. */
  readonly to: string;
  /** Creates the error. */
  constructor(to: string, message: string) {
    super(message);
    this.name = "DestinationRefusedError";
    this.to = to;
  }
}

/**
 * The status callback URL is not one the server sends to (see `url_policy.ts`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallbackRefusedError } from "./errors.ts";
 * assertEquals(new CallbackRefusedError("address", "loopback").reason, "address");
 * ```
 */
export class CallbackRefusedError extends CallError {
  readonly kind = "callback_refused" as const;
  /** Why (the URL policy's reason). */
  readonly reason: string;
  /** Creates the error. */
  constructor(reason: string, message: string) {
    super(message);
    this.name = "CallbackRefusedError";
    this.reason = reason;
  }
}

/**
 * A list filter that cannot match anything as given (e.g. `createdAfter` after `createdBefore`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { InvalidFilterError } from "./errors.ts";
 * assertEquals(new InvalidFilterError("createdAfter is after createdBefore").kind, "invalid_filter");
 * ```
 */
export class InvalidFilterError extends CallError {
  readonly kind = "invalid_filter" as const;
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidFilterError";
  }
}

/**
 * The gateway refused a request on a live leg (e.g. SIP 481: the dialog is gone). `status` is
 * the gateway protocol's code when it has one (a SIP status).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { GatewayFailedError } from "./errors.ts";
 * assertEquals(new GatewayFailedError("CA1", "No live SIP leg", 481).gatewayStatus, 481);
 * ```
 */
export class GatewayFailedError extends CallError {
  readonly kind = "gateway_failed" as const;
  /** The call. */
  readonly sid: string;
  /** The gateway's own code (a SIP status), when known. */
  readonly gatewayStatus: number | undefined;
  /** Creates the error. */
  constructor(sid: string, message: string, gatewayStatus?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "GatewayFailedError";
    this.sid = sid;
    this.gatewayStatus = gatewayStatus;
  }
}

/**
 * The store cannot be written now (disk full, KV error): the change was not made; retry after
 * `retryAfterSec`. The driver's message stays in `cause`, for logs only.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { StoreUnavailableError } from "./errors.ts";
 * assertEquals(new StoreUnavailableError(5).retryAfterSec, 5);
 * ```
 */
export class StoreUnavailableError extends CallError {
  readonly kind = "store_unavailable" as const;
  /** Seconds after which a retry may succeed. */
  readonly retryAfterSec: number;
  /** Creates the error. */
  constructor(retryAfterSec: number, options?: ErrorOptions) {
    super("The call store is unavailable; retry later", options);
    this.name = "StoreUnavailableError";
    this.retryAfterSec = retryAfterSec;
  }
}

/**
 * A write lost to a concurrent one with the same idempotency key: the HTTP layer replays the
 * winner.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { IdempotencyRaceError } from "./errors.ts";
 * assertEquals(new IdempotencyRaceError().kind, "idempotency_race");
 * ```
 */
export class IdempotencyRaceError extends CallError {
  readonly kind = "idempotency_race" as const;
  /** Creates the error. */
  constructor() {
    super("Another request with the same idempotency key committed first");
    this.name = "IdempotencyRaceError";
  }
}
