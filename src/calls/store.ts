/**
 * The control plane's storage contract: calls, idempotency records and client
 * registrations. The embedded default is {@linkcode KvCallStore} (Deno KV in the data dir);
 * a networked store for multi-node deployments implements the same interface.
 *
 * @module
 */
import type { Call, CallDirection } from "./call.ts";
import type { CallStatus } from "./status.ts";
import type { IdempotencyRecord } from "../http/idempotency.ts";
import type { StoredTranscript, TranscriptBounds, TranscriptEntry } from "./transcripts.ts";

export type { StoredTranscript, TranscriptBounds };

/** An opaque version of a stored call, for optimistic concurrency. */
export type Version = string;

/** A stored call and its version. */
export interface VersionedCall {
  readonly call: Call;
  readonly version: Version;
}

export type { IdempotencyRecord };

/** A client that can be rung as `client:<identity>`. */
export interface ClientRegistration {
  /** The identity, rung as `client:<identity>`. */
  readonly identity: string;
  /** When it was registered (ISO 8601). */
  readonly registeredAt: string;
}

/** Filters for {@linkcode CallStore.listCalls}. */
export interface CallFilter {
  readonly status?: CallStatus;
  readonly direction?: CallDirection;
  /** Created at or after (ms since epoch). */
  readonly createdAfter?: number;
  /** Created before (ms since epoch). */
  readonly createdBefore?: number;
  /** Only these calls (a token limited to some sids sees only those). */
  readonly sids?: readonly string[];
}

/** One page of calls, newest first. */
export interface CallPage {
  readonly calls: readonly Call[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** The outcome of a conditional write. */
export type WriteResult =
  | { readonly ok: true; readonly version: Version }
  /** The call changed since it was read (or exists already, for a create). */
  | { readonly ok: false; readonly conflict: "call" }
  /** Another request committed the same idempotency key first. */
  | { readonly ok: false; readonly conflict: "idempotency" };

/**
 * Storage for the control plane.
 *
 * An implementation MUST apply each write atomically (the call, its indexes and the
 * idempotency record all land or none does), MUST reject a write whose `expected` version
 * is stale, MUST return calls newest first from `listCalls`, and MUST make every call whose
 * status is not terminal visible to `liveCalls` (that is what restart reconciliation reads).
 */
export interface CallStore extends AsyncDisposable {
  /** A call and its version, or undefined. */
  getCall(sid: string): Promise<VersionedCall | undefined>;
  /**
   * Writes `call` if its stored version is still `expected` (`null`: the call must not
   * exist yet), together with `idempotency` when given (which must not exist yet).
   */
  putCall(
    call: Call,
    expected: Version | null,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult>;
  /** Calls matching `filter`, newest first, `limit` at most, after `cursor`. */
  listCalls(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage>;
  /** Every call not in a terminal status. */
  liveCalls(): Promise<Call[]>;
  /** The idempotency record for `key`, if one is remembered. */
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  /** Saves a bare idempotency record (for requests that write nothing else). */
  putIdempotency(record: IdempotencyRecord): Promise<WriteResult>;
  /** Registers (or refreshes) a client, with `idempotency` in the same write when given. */
  putClient(
    registration: ClientRegistration,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult>;
  /** A client's registration, or undefined. */
  getClient(identity: string): Promise<ClientRegistration | undefined>;
  /** Forgets a client. */
  deleteClient(identity: string): Promise<void>;
  /**
   * Appends a final to the call's transcript, dropping its oldest finals beyond `bounds`.
   * Optional: with a store that has no transcripts, they are kept in memory (bounded) and a
   * restart forgets them.
   */
  appendTranscript?(sid: string, entry: TranscriptEntry, bounds: TranscriptBounds): Promise<void>;
  /** The call's kept transcript (with {@linkcode appendTranscript}). */
  getTranscript?(sid: string): Promise<StoredTranscript>;
  /**
   * Writes something harmless and durable, to learn whether the store takes writes again
   * after a failure (readiness recovers without traffic). Optional.
   */
  probeWrite?(): Promise<void>;
  /** Closes the store. A second close is a no-op. */
  close(): void;
}

/**
 * Thrown for a malformed list cursor.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { InvalidCursorError } from "./store.ts";
 * assertEquals(new InvalidCursorError().message, "Invalid cursor");
 * ```
 */
export class InvalidCursorError extends TypeError {
  /** Creates the error; `cause` is what failed to decode. */
  constructor(options?: ErrorOptions) {
    super("Invalid cursor", options);
    this.name = "InvalidCursorError";
  }
}
