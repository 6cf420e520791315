/**
 * The calls service's side of its store: reads and writes whose driver failures become
 * {@linkcode StoreUnavailableError}, the write probe that notices the store taking writes
 * again, and the retry that keeps a leg's reported state change until the store takes it.
 * What it knows feeds the service's readiness.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { metrics } from "../metrics/mod.ts";
import { CallError, StoreUnavailableError } from "./errors.ts";
import { type CallStore, InvalidCursorError } from "./store.ts";
import { backoffWait } from "./backoff_wait.ts";

/** `Retry-After` for a refused write: a store that is full or down rarely recovers sooner. */
const STORE_RETRY_AFTER_SEC = 5;
/** The longest delay between two retries of a refused write. */
export const MAX_PERSIST_RETRY_MS = 5000;

/** What a {@linkcode StoreGuard} needs of the service it guards the store for. */
export interface StoreGuardOptions {
  readonly store: CallStore;
  readonly log: Logger;
  /** First delay before retrying a refused write, doubled up to 5 s. */
  readonly persistRetryMs: number;
  /** Aborted when the service closes: retries and probes stop. */
  readonly closing: AbortSignal;
  /** Runs background work the service waits for on close. */
  readonly track: (work: Promise<unknown>) => void;
}

/**
 * Store access with failure accounting: not ready while the store refuses writes or a state
 * change waits to be persisted.
 */
export class StoreGuard {
  readonly #store: CallStore;
  readonly #log: Logger;
  readonly #persistRetryMs: number;
  readonly #closing: AbortSignal;
  readonly #track: (work: Promise<unknown>) => void;
  /** State changes reported by legs that the store has not taken yet, by sid. */
  readonly #unpersisted = new Map<string, number>();
  /** Since when the store refuses writes (undefined: it takes them). */
  #writeFailingSince: number | undefined;
  #probing = false;

  /** Guards `options.store`. */
  constructor(options: StoreGuardOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#persistRetryMs = options.persistRetryMs;
    this.#closing = options.closing;
    this.#track = options.track;
  }

  /** Why the store keeps the service from being ready, one sentence each. */
  reasons(): string[] {
    const reasons: string[] = [];
    if (this.#writeFailingSince !== undefined) {
      reasons.push(
        `The call store refuses writes since ${new Date(this.#writeFailingSince).toISOString()}`,
      );
    }
    if (this.#unpersisted.size > 0) {
      reasons.push(`${this.#unpersisted.size} call state change(s) wait to be persisted`);
    }
    return reasons;
  }

  /** A store read; a driver failure becomes {@linkcode StoreUnavailableError}. */
  async read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      throw this.storeError(error, "read");
    }
  }

  /** A store write; a failure marks the store as refusing writes until one succeeds. */
  async write<T>(op: () => Promise<T>): Promise<T> {
    try {
      const result = await op();
      this.writeSucceeded();
      return result;
    } catch (error) {
      throw this.writeFailed(error);
    }
  }

  /**
   * Runs `attempt` until the store takes it: a {@linkcode StoreUnavailableError} is retried
   * with backoff (counted as a state change waiting to be persisted) until the service
   * closes, when it is given up on and logged (undefined).
   */
  async persist<T>(sid: string, attempt: () => Promise<T>): Promise<T | undefined> {
    let delay = this.#persistRetryMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        if (this.#closing.aborted) {
          this.#log.error(
            "Giving up on a call state change the store refused: reconciled at the next start",
            { sid },
          );
          return undefined;
        }
        this.#unpersisted.set(sid, (this.#unpersisted.get(sid) ?? 0) + 1);
        try {
          await backoffWait(delay, this.#closing);
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
   * A write failed: not ready until one succeeds. With no traffic no write would come, so
   * the store's probe (when it has one) is retried with backoff until the store takes it.
   */
  writeFailed(error: unknown): unknown {
    this.#writeFailingSince ??= Date.now();
    const probe = this.#store.probeWrite?.bind(this.#store);
    if (probe && !this.#probing && !this.#closing.aborted) {
      this.#probing = true;
      this.#track((async () => {
        let delay = this.#persistRetryMs;
        while (this.#writeFailingSince !== undefined && !this.#closing.aborted) {
          await backoffWait(delay, this.#closing);
          if (this.#closing.aborted) break;
          try {
            await probe();
            this.writeSucceeded();
          } catch (failure) {
            this.#log.debug("Call store write probe failed", { error: failure });
          }
          delay = Math.min(delay * 2, MAX_PERSIST_RETRY_MS);
        }
        this.#probing = false;
      })());
    }
    return this.storeError(error, "write");
  }

  /** A write succeeded: the store takes writes (again). */
  writeSucceeded(): void {
    if (this.#writeFailingSince === undefined) return;
    this.#log.info("The call store takes writes again");
    this.#writeFailingSince = undefined;
  }

  /** A store failure as the domain's error (our own refusals pass through unchanged). */
  storeError(error: unknown, op: "read" | "write"): unknown {
    // Not driver failures: our own refusals, and a cursor the store could not decode.
    if (error instanceof CallError || error instanceof InvalidCursorError) return error;
    this.#log.error(`Call store ${op} failed`, { error });
    metrics.storageErrors.inc({ operation: op });
    return new StoreUnavailableError(STORE_RETRY_AFTER_SEC, { cause: error });
  }
}
