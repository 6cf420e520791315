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
   * import { assertEquals } from "@std/assert";
   * import { RateLimiter } from "./admission.ts";
   * const limiter = new RateLimiter(1, 1); // 1 token a second, 1 saved up
   * assertEquals([limiter.take("a", 0), limiter.take("a", 0)], [true, false]);
   * assertEquals(limiter.take("b", 0), true); // a bucket per key
   * assertEquals(limiter.take("a", 1000), true); // refilled a second later
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
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Core } from "sip.js";
 * import { createAdmission } from "./admission.ts";
 * import { parseSipConfig } from "./config.ts";
 * const { trunks } = parseSipConfig({
 *   trunks: [{ name: "carrier", address: "198.51.100.10", allowFrom: ["198.51.100.0/24"] }],
 * });
 * const admit = createAdmission({ trunks, invitesPerSecond: 50, activeCalls: () => 0, maxCalls: 1000 });
 * const invite = Core.Parser.parseMessage(
 *   [
 *     "INVITE sip:+14155550100@192.0.2.1 SIP/2.0",
 *     "Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK1",
 *     "From: <sip:+14155550199@198.51.100.10>;tag=1",
 *     "To: <sip:+14155550100@192.0.2.1>",
 *     "Call-ID: a@198.51.100.10",
 *     "CSeq: 1 INVITE",
 *     "Content-Length: 0",
 *     "",
 *     "",
 *   ].join("\r\n"),
 *   new Core.LoggerFactory().getLogger("sip.parser"),
 * ) as Core.IncomingRequestMessage;
 * assertEquals(admit(invite, { transport: "udp", host: "198.51.100.10", port: 5060 }), { ok: true });
 * assertEquals(admit(invite, { transport: "udp", host: "203.0.113.9", port: 5060 }), {
 *   ok: false,
 *   status: 403,
 *   reason: "Forbidden",
 * });
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
