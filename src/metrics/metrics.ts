/**
 * The process's Prometheus metrics: one registry, and the named metrics every area feeds
 * (calls, relay, RTP, SIP, webhooks, HTTP, storage). The server exposes the registry at
 * `GET /metrics`; feeding code imports {@linkcode metrics} and bumps what it counts.
 *
 * Hot paths (per object, per packet) use unlabelled counters (an `inc()` costs ~17 ns) or the
 * plain tallies in {@linkcode rtpTally}, read when scraped; labelled metrics (~300 ns) are for
 * per-message and per-request events.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { type RelayTally, relayTally } from "./tally.ts";

/** Packets and loss per RTP direction: bumped per packet, read when `/metrics` is scraped. */
export interface RtpTally {
  /** RTP packets received from far ends (the callers' uplink). */
  uplinkPackets: number;
  /** RTP packets sent to far ends (the downlink). */
  downlinkPackets: number;
  /** Uplink packets lost, as measured by the receiving side. */
  uplinkLost: number;
  /** Downlink packets lost, as the far ends report in RTCP receiver reports. */
  downlinkLost: number;
}

/**
 * Every metric the server exposes, in one registry.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import { VoiceMetrics } from "./metrics.ts";
 *
 * const m = new VoiceMetrics();
 * m.calls.inc({ status: "completed", end_reason: "caller_hangup" });
 * assertStringIncludes(
 *   await m.registry.metrics(),
 *   'clutchcall_calls_total{status="completed",end_reason="caller_hangup"} 1',
 * );
 * ```
 */
export class VoiceMetrics {
  /** The registry `GET /metrics` serializes. */
  readonly registry: Registry = new Registry();
  /** Plain per-packet tallies behind the RTP counters. */
  readonly rtpTally: RtpTally = {
    uplinkPackets: 0,
    downlinkPackets: 0,
    uplinkLost: 0,
    downlinkLost: 0,
  };

  /**
   * What the relay's Worker shards (`relay.shards` > 1) counted, summed, as they last reported:
   * set at each scrape, added to the main relay's own tallies in the relay counters.
   */
  readonly relayShardTally: RelayTally = { objects: 0, droppedGroups: 0 };

  /** Calls reaching each status; terminal statuses carry the end reason (`none` otherwise). */
  readonly calls: Counter<"status" | "end_reason">;
  /** Calls not ended yet. */
  readonly liveCalls: Gauge;
  /** Seconds from a call's creation to `in_progress`. */
  readonly callSetupSeconds: Histogram;
  /** MoQT sessions open now. */
  readonly relaySessions: Gauge;
  /** Tracks published in the relay now. */
  readonly relayTracks: Gauge;
  /**
   * MoQT objects the relay forwarded to subscribers, every shard's (read from `relayTally` and
   * {@linkcode relayShardTally}).
   */
  readonly relayObjects: Counter;
  /** Whole groups dropped for slow subscribers, every shard's (as the objects). */
  readonly relayDroppedGroups: Counter;
  /**
   * What was copied between the relay shards of this process (`relay.shards` > 1), counted at
   * the receiving shard: `unit` `objects` or `bytes` (payload). Set at each scrape.
   */
  readonly relayShardCrossings: Counter<"unit">;
  /** RTP packets per direction (`uplink` received, `downlink` sent). */
  readonly rtpPackets: Counter<"direction">;
  /** RTP packets lost per direction. */
  readonly rtpLost: Counter<"direction">;
  /** RTP interarrival jitter per direction, in seconds, sampled at each RTCP report. */
  readonly rtpJitterSeconds: Histogram<"direction">;
  /** SIP requests by method and direction (`in` received, `out` sent). */
  readonly sipRequests: Counter<"method" | "direction">;
  /** SIP responses by status code and direction. */
  readonly sipResponses: Counter<"code" | "direction">;
  /** Status webhook deliveries by outcome (`delivered`, `refused`, `retried`, `failed`). */
  readonly webhooks: Counter<"outcome">;
  /** HTTP request latency by method, route pattern and status. */
  readonly httpRequestSeconds: Histogram<"method" | "route" | "status">;
  /** How late timers fire: event-loop lag, in seconds. */
  readonly eventLoopLagSeconds: Histogram;
  /** Storage operations that failed, by operation. */
  readonly storageErrors: Counter<"operation">;

  /** Creates the metrics in a fresh registry. */
  constructor() {
    const registers = [this.registry];
    const tally = this.rtpTally;
    const shardTally = this.relayShardTally;
    this.calls = new Counter({
      name: "clutchcall_calls_total",
      help: "Calls reaching each status, with the end reason for terminal statuses",
      labelNames: ["status", "end_reason"],
      registers,
    });
    this.liveCalls = new Gauge({
      name: "clutchcall_live_calls",
      help: "Calls not ended yet",
      registers,
    });
    this.callSetupSeconds = new Histogram({
      name: "clutchcall_call_setup_seconds",
      help: "Seconds from a call's creation to in_progress",
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
      registers,
    });
    this.relaySessions = new Gauge({
      name: "clutchcall_relay_sessions",
      help: "MoQT sessions open now",
      registers,
    });
    this.relayTracks = new Gauge({
      name: "clutchcall_relay_tracks",
      help: "Tracks published in the relay now",
      registers,
    });
    this.relayObjects = new Counter({
      name: "clutchcall_relay_objects_total",
      help: "MoQT objects forwarded to subscribers",
      registers,
      collect() {
        this.reset();
        this.inc(relayTally.objects + shardTally.objects);
      },
    });
    this.relayDroppedGroups = new Counter({
      name: "clutchcall_relay_dropped_groups_total",
      help: "Whole groups dropped for slow subscribers",
      registers,
      collect() {
        this.reset();
        this.inc(relayTally.droppedGroups + shardTally.droppedGroups);
      },
    });
    this.relayShardCrossings = new Counter({
      name: "clutchcall_relay_shard_crossings_total",
      help: "Objects and payload bytes copied between the relay shards of this process",
      labelNames: ["unit"],
      registers,
    });
    this.rtpPackets = new Counter({
      name: "clutchcall_rtp_packets_total",
      help: "RTP packets: uplink received from far ends, downlink sent to them",
      labelNames: ["direction"],
      registers,
      collect() {
        this.reset();
        this.inc({ direction: "uplink" }, tally.uplinkPackets);
        this.inc({ direction: "downlink" }, tally.downlinkPackets);
      },
    });
    this.rtpLost = new Counter({
      name: "clutchcall_rtp_lost_packets_total",
      help: "RTP packets lost: uplink measured here, downlink from far ends' receiver reports",
      labelNames: ["direction"],
      registers,
      collect() {
        this.reset();
        this.inc({ direction: "uplink" }, tally.uplinkLost);
        this.inc({ direction: "downlink" }, tally.downlinkLost);
      },
    });
    this.rtpJitterSeconds = new Histogram({
      name: "clutchcall_rtp_jitter_seconds",
      help: "RTP interarrival jitter per direction, sampled at each RTCP report",
      labelNames: ["direction"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16],
      registers,
    });
    this.sipRequests = new Counter({
      name: "clutchcall_sip_requests_total",
      help: "SIP requests by method, received (in) and sent (out)",
      labelNames: ["method", "direction"],
      registers,
    });
    this.sipResponses = new Counter({
      name: "clutchcall_sip_responses_total",
      help: "SIP responses by status code, received (in) and sent (out)",
      labelNames: ["code", "direction"],
      registers,
    });
    this.webhooks = new Counter({
      name: "clutchcall_webhook_deliveries_total",
      help: "Status webhook delivery attempts by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.httpRequestSeconds = new Histogram({
      name: "clutchcall_http_request_duration_seconds",
      help: "HTTP request latency by method, route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.eventLoopLagSeconds = new Histogram({
      name: "clutchcall_event_loop_lag_seconds",
      help: "How late a 100 ms timer fires: event-loop lag",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.storageErrors = new Counter({
      name: "clutchcall_storage_errors_total",
      help: "Storage operations that failed, by operation",
      labelNames: ["operation"],
      registers,
    });
  }

  /** The exposition text of every metric (Prometheus text format 0.0.4). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The process's metrics, fed by every area and served at `GET /metrics`.
 *
 * @example
 * ```ts
 * import { metrics } from "./metrics.ts";
 *
 * metrics.sipRequests.inc({ method: "INVITE", direction: "in" });
 * ```
 */
export const metrics: VoiceMetrics = new VoiceMetrics();

/**
 * The process's plain RTP tallies ({@linkcode VoiceMetrics.rtpTally} of {@linkcode metrics}).
 *
 * @example
 * ```ts
 * import { rtpTally } from "./metrics.ts";
 *
 * rtpTally.uplinkPackets++;
 * ```
 */
export const rtpTally: RtpTally = metrics.rtpTally;
