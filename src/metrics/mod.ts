/**
 * Prometheus metrics for the whole process: one registry that the calls, relay, RTP, SIP,
 * webhook, HTTP and storage code feed, served by the server at `GET /metrics`. A leaf: it
 * imports nothing of ours, so every floor may feed it.
 *
 * ```ts
 * import { metrics } from "./mod.ts";
 *
 * metrics.sipRequests.inc({ method: "INVITE", direction: "in" });
 * const text = await metrics.exposition();
 * ```
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./tally.ts";
