/**
 * RFC 3261 §17 retransmission over UDP, which sip.js leaves to the transport (its timers A, E
 * and G are FIXMEs): client requests are re-sent at T1, 2·T1, 4·T1… (INVITE: until any
 * response, timer A; non-INVITE: capped at T2 until a final response, timer E), non-2xx final
 * responses to INVITE at T1 doubling capped at T2 until the ACK (timer G). Everything stops
 * after 64·T1 (timers B, F, H: sip.js's own transaction timers then report the timeout).
 *
 * @module
 */

/** RFC 3261 T1, ms. */
export const T1 = 500;
/** RFC 3261 T2, ms. */
export const T2 = 4000;

interface Entry {
  timer: ReturnType<typeof setTimeout>;
  readonly deadline: number;
}

/**
 * Re-sends messages until told to stop, keyed by Via branch (ACK to a non-2xx shares the
 * INVITE's branch, so one key covers both directions).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Retransmitter } from "./retransmit.ts";
 * using r = new Retransmitter({ t1: 10 });
 * const resent = Promise.withResolvers<void>();
 * r.request("z9hG4bK1", true, resent.resolve);
 * assertEquals(r.size, 1);
 * await resent.promise; // timer A fired after T1
 * r.stop("z9hG4bK1"); // the response arrived
 * assertEquals(r.size, 0);
 * ```
 */
export class Retransmitter implements Disposable {
  readonly #entries = new Map<string, Entry>();
  readonly #t1: number;
  readonly #t2: number;

  /** Creates one; tests may shrink the timers. */
  constructor(options: { readonly t1?: number; readonly t2?: number } = {}) {
    this.#t1 = options.t1 ?? T1;
    this.#t2 = options.t2 ?? T2;
  }

  /** Number of messages being retransmitted now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Starts timer A (INVITE, no cap) or E (capped at T2) for a request just sent. */
  request(key: string, invite: boolean, resend: () => void): void {
    this.#start(key, invite ? Infinity : this.#t2, resend);
  }

  /** Starts timer G for a non-2xx final response to an INVITE just sent. */
  response(key: string, resend: () => void): void {
    this.#start(key, this.#t2, resend);
  }

  /** Stops retransmitting `key` (a response arrived, or the ACK). */
  stop(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#entries.delete(key);
  }

  /** Stops everything. */
  [Symbol.dispose](): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #start(key: string, cap: number, resend: () => void): void {
    if (this.#entries.has(key)) return;
    const deadline = Date.now() + 64 * this.#t1;
    let interval = this.#t1;
    const tick = () => {
      if (Date.now() + interval > deadline) {
        this.#entries.delete(key);
        return;
      }
      try {
        resend();
      } catch {
        // A send failure is the same as a lost datagram: keep trying until the deadline.
      }
      interval = Math.min(interval * 2, cap);
      entry.timer = setTimeout(tick, interval);
    };
    const entry: Entry = { timer: setTimeout(tick, interval), deadline };
    this.#entries.set(key, entry);
  }
}
