/**
 * A sip.js core's table of user agent servers (`UserAgentCore.userAgentServers`), indexed by
 * Call-ID for the one scan sip.js makes of it.
 *
 * For every new out-of-dialog request sip.js checks RFC 3261 §8.2.2.2 (a request merged by
 * forking: same From tag, Call-ID and CSeq as an ongoing transaction, another branch → 482)
 * with `Array.from(userAgentServers.values()).some(…)`: a scan of every server transaction
 * alive, and an INVITE's lives 64·T1 (32 s) after its 2xx. At 100 calls/s that is ~3,200
 * entries per INVITE, ~0.65 ms per call, and it grows with the square of the rate (issue 15,
 * BENCHMARKS.md "SIP call-rate ramp"). The check compares the Call-ID, so while sip.js
 * receives a request (`receiving`) `values()` yields only the servers of that Call-ID; the
 * result of the check is the same. Everything else of the Map is untouched (sip.js uses
 * get/has/set/delete/forEach/clear, and `values()` only there).
 *
 * @module
 */

/** What the table needs of a user agent server: the request its transaction serves. */
export interface UasLike {
  readonly transaction: { readonly request: { readonly callId: string } };
}

const NONE: ReadonlySet<never> = new Set();

/**
 * The table. Install it on a fresh core (`core.userAgentServers = new UasTable()`) and wrap
 * each `receiveIncomingRequestFromTransport` in {@linkcode UasTable.receiving}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { UasTable } from "./uas_table.ts";
 * const uas = (callId: string) => ({ transaction: { request: { callId } } });
 * const table = new UasTable();
 * table.set("z9hG4bK1", uas("a@host"));
 * table.set("z9hG4bK2", uas("b@host"));
 * assertEquals(table.receiving("a@host", () => [...table.values()].length), 1);
 * assertEquals([...table.values()].length, 2);
 * ```
 */
export class UasTable<V extends UasLike = UasLike> extends Map<string, V> {
  readonly #byCallId = new Map<string, Set<V>>();
  /** The Call-ID each key was indexed under (read once, at `set`). */
  readonly #callIdOf = new Map<string, string>();
  #receiving: string | undefined;

  /** Runs `receive` (sip.js taking in a request with `callId`); returns what it returns. */
  receiving<T>(callId: string, receive: () => T): T {
    const outer = this.#receiving;
    this.#receiving = callId;
    try {
      return receive();
    } finally {
      this.#receiving = outer;
    }
  }

  /** While {@linkcode UasTable.receiving}: the servers of that Call-ID only; else all. */
  override values(): MapIterator<V> {
    const callId = this.#receiving;
    if (callId === undefined) return super.values();
    return ((this.#byCallId.get(callId) ?? NONE) as Set<V>).values();
  }

  /** Adds (or replaces) a server. */
  override set(key: string, value: V): this {
    this.#unindex(key);
    super.set(key, value);
    const callId = value.transaction.request.callId;
    this.#callIdOf.set(key, callId);
    let servers = this.#byCallId.get(callId);
    if (!servers) this.#byCallId.set(callId, servers = new Set());
    servers.add(value);
    return this;
  }

  /** Removes a server. */
  override delete(key: string): boolean {
    this.#unindex(key);
    return super.delete(key);
  }

  /** Removes every server. */
  override clear(): void {
    this.#byCallId.clear();
    this.#callIdOf.clear();
    super.clear();
  }

  #unindex(key: string): void {
    const callId = this.#callIdOf.get(key);
    if (callId === undefined) return;
    this.#callIdOf.delete(key);
    const servers = this.#byCallId.get(callId);
    const value = super.get(key);
    if (!servers || value === undefined) return;
    servers.delete(value);
    if (servers.size === 0) this.#byCallId.delete(callId);
  }
}
