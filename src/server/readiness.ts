/**
 * Readiness (`GET /readyz`), apart from liveness (`GET /healthz`): the server is ready only
 * when every check passes — the calls control plane (reconciliation done, storage taking
 * writes), every configured plugin running, the SIP gateway up — and it is not shutting down.
 *
 * @module
 */

/** One check's verdict. */
export interface CheckResult {
  /** What was checked, e.g. `calls`, `plugin:recorder`, `sip`. */
  readonly name: string;
  /** Whether it passed. */
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly reason?: string;
}

/** A named readiness check; `check()` must be cheap (it runs on every probe). */
export interface ReadinessCheck {
  /** What is checked, e.g. `calls`, `plugin:recorder`, `sip`. */
  readonly name: string;
  /** The verdict now; `reason` says why not when not ok. */
  check(): { readonly ok: boolean; readonly reason?: string };
}

/** What `GET /readyz` reports. */
export interface ReadinessReport {
  /** True when every check passed. */
  readonly ready: boolean;
  /** Each check's verdict, in order. */
  readonly checks: readonly CheckResult[];
}

/**
 * Runs every check; ready when all pass. A check that throws is not ready, with its message.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { assessReadiness } from "./readiness.ts";
 *
 * const report = assessReadiness([{ name: "store", check: () => ({ ok: true }) }]);
 * assertEquals(report.ready, true);
 * ```
 */
export function assessReadiness(checks: readonly ReadinessCheck[]): ReadinessReport {
  const results = checks.map((c): CheckResult => {
    try {
      const { ok, reason } = c.check();
      return ok ? { name: c.name, ok } : { name: c.name, ok, reason: reason ?? "not ready" };
    } catch (error) {
      return {
        name: c.name,
        ok: false,
        reason: error instanceof Error ? error.message : String(error),
      };
    }
  });
  return { ready: results.every((r) => r.ok), checks: results };
}
