/**
 * What an operator sees of the running server besides the API: the access log and HTTP
 * latency metric (a Hono middleware), a log line and metrics on every call state change, the
 * relay's live gauges, and event-loop lag.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "../log/mod.ts";
import type { VoiceMetrics } from "../metrics/mod.ts";
import { isTerminal } from "../calls/status.ts";
import type { CallStatus } from "../calls/mod.ts";
import { PEER_HEADER } from "./http_front.ts";

/**
 * Logs one line per HTTP request (`HTTP request`: method, path, route, status, ms, peer) and
 * observes its latency by route pattern (so `/v1/calls/CA1` and `/v1/calls/CA2` are one series).
 *
 * @example
 * ```ts ignore
 * app.use("*", accessLog(log, metrics));
 * ```
 */
export function accessLog(log: Logger, metrics: VoiceMetrics): MiddlewareHandler {
  return async function accessLog(c, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      const matched = routePath(c, -1);
      // A request no route matched is one series, not one per probed path.
      const route = status === 404 && (matched === undefined || matched.includes("*"))
        ? "unmatched"
        : matched ?? "unmatched";
      metrics.httpRequestSeconds.observe(
        { method: c.req.method, route, status: String(status) },
        seconds,
      );
      log.info("HTTP request", {
        method: c.req.method,
        path: c.req.path,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        peer: c.req.header(PEER_HEADER),
      });
    }
  };
}

/** The call fields a status change carries (a subset of the Calls API's `Call`). */
export interface CallStatusChange {
  readonly sid: string;
  readonly status: CallStatus;
  readonly direction?: string;
  readonly endReason?: string;
  readonly createdAt: string;
  readonly times: Readonly<Record<string, string | undefined>>;
}

/**
 * Follows call status changes: a log line with the sid for each, the calls counter by status
 * and end reason, live calls, and call setup time (creation to `in_progress`). Returns the
 * listener to register with the calls event hub.
 *
 * @example
 * ```ts ignore
 * const stop = calls.service.events.onAnyCall((e) => e.type === "status" && onStatus(e.call));
 * ```
 */
export function callStatusObserver(
  log: Logger,
  metrics: VoiceMetrics,
): (call: CallStatusChange) => void {
  const live = new Set<string>();
  return (call) => {
    const ended = isTerminal(call.status);
    log.info("Call status", {
      sid: call.sid,
      status: call.status,
      ...(call.direction ? { direction: call.direction } : {}),
      ...(call.endReason ? { reason: call.endReason } : {}),
    });
    metrics.calls.inc({
      status: call.status,
      end_reason: ended ? call.endReason ?? "none" : "none",
    });
    if (ended) live.delete(call.sid);
    else live.add(call.sid);
    metrics.liveCalls.set(live.size);
    const answeredAt = call.times["in_progress"];
    if (call.status === "in_progress" && answeredAt) {
      const seconds = (Date.parse(answeredAt) - Date.parse(call.createdAt)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) metrics.callSetupSeconds.observe(seconds);
    }
  };
}

/**
 * Samples event-loop lag: how late a 100 ms timer fires, into the lag histogram. The timer
 * does not keep the process alive; disposing stops it.
 *
 * @example
 * ```ts ignore
 * using lag = sampleEventLoopLag(metrics);
 * ```
 */
export function sampleEventLoopLag(metrics: VoiceMetrics, everyMs = 100): Disposable {
  let expected = performance.now() + everyMs;
  const timer = setInterval(() => {
    const now = performance.now();
    metrics.eventLoopLagSeconds.observe(Math.max(0, now - expected) / 1000);
    expected = now + everyMs;
  }, everyMs);
  Deno.unrefTimer(timer as unknown as number);
  return { [Symbol.dispose]: () => clearInterval(timer) };
}
