/**
 * Who may start calls: INVITEs only from trunk addresses (others get 403, themselves rate
 * limited, then silently dropped), an INVITE rate per trunk (503 with Retry-After beyond it,
 * all of a trunk's addresses sharing one budget), and a cap on concurrent calls.
 *
 * @module
 */
import type { Core } from "sip.js";
import { trunkAllowing, type TrunkConfig } from "./config.ts";
import type { Admission } from "./endpoint.ts";
import { ALLOW_HEADER } from "./methods.ts";
import type { SipPeer } from "./transport.ts";

/** A token bucket per key, swept when idle. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** `rate` tokens per second, at most `burst` saved up. */
  constructor(rate: number, burst = rate * 2) {
    this.#rate = rate;
    this.#burst = burst;
  }

  /**
   * Takes a token for `key`; false when the bucket is empty.
   *
   * @example
   * ```ts
   * import { RateLimiter } from "./admission.ts";
   * const limiter = new RateLimiter(1, 1);
   * console.log(limiter.take("a"), limiter.take("a")); // true false
   * ```
   */
  take(key: string, now = performance.now()): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 10_000) this.#sweep(now);
      this.#buckets.set(key, bucket = { tokens: this.#burst, at: now });
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / 1000 * this.#rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at > 10_000) this.#buckets.delete(key);
    }
  }
}

/** Options for {@linkcode createAdmission}. */
export interface AdmissionOptions {
  readonly trunks: readonly TrunkConfig[];
  /** New INVITEs per second from a trunk that sets no `invitesPerSecond` of its own. */
  readonly invitesPerSecond: number;
  /** Calls up now. */
  readonly activeCalls: () => number;
  readonly maxCalls: number;
  /** Called when an INVITE is admitted, with the trunk it came from. */
  readonly onAdmitted?: (callId: string, trunk: TrunkConfig) => void;
  /** The clock, ms (tests drive it) [`performance.now`]. */
  readonly now?: () => number;
}

/**
 * The endpoint's `admit` policy.
 *
 * @example
 * ```ts ignore
 * import { createAdmission } from "./admission.ts";
 * const admit = createAdmission({ trunks, invitesPerSecond: 50, activeCalls: () => 0, maxCalls: 1000 });
 * ```
 */
export function createAdmission(
  options: AdmissionOptions,
): (request: Core.IncomingRequestMessage, from: SipPeer) => Admission {
  const now = options.now ?? (() => performance.now());
  const strangers = new RateLimiter(5, 10);
  // One bucket per trunk, at the trunk's own rate (Kamailio's pike limits per source; a
  // trunk's several addresses are one peer here, so they share its budget).
  const trunkInvites = new Map<string, RateLimiter>();
  const limiterOf = (trunk: TrunkConfig) => {
    let limiter = trunkInvites.get(trunk.name);
    if (!limiter) {
      limiter = new RateLimiter(trunk.invitesPerSecond ?? options.invitesPerSecond);
      trunkInvites.set(trunk.name, limiter);
    }
    return limiter;
  };
  return function admit(request, from) {
    const trunk = trunkAllowing(options.trunks, from.host);
    if (request.method === "OPTIONS") {
      return trunk || strangers.take(from.host, now()) ? { ok: true } : { ok: false, drop: true };
    }
    if (!trunk) {
      if (!strangers.take(from.host, now())) return { ok: false, drop: true };
      return { ok: false, status: 403, reason: "Forbidden" };
    }
    if (request.method !== "INVITE") {
      // Out-of-dialog REFER, MESSAGE, SUBSCRIBE…: not offered by this gateway.
      return request.method === "CANCEL" ? { ok: true } : {
        ok: false,
        status: 405,
        reason: "Method Not Allowed",
        headers: [ALLOW_HEADER],
      };
    }
    if (!limiterOf(trunk).take(trunk.name, now())) {
      return { ok: false, status: 503, reason: "Service Unavailable", headers: ["Retry-After: 1"] };
    }
    if (options.activeCalls() >= options.maxCalls) {
      return { ok: false, status: 503, reason: "Service Unavailable", headers: ["Retry-After: 5"] };
    }
    options.onAdmitted?.(request.callId, trunk);
    return { ok: true };
  };
}
