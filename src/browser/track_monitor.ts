/**
 * {@linkcode TrackMonitor}: watches a call's track without playing it (the operators' live
 * view): subscribes through the relay like any other subscriber, decodes each frame for its
 * level, and keeps the receive statistics (jitter, loss, latency from the capture times).
 * Given a connection getter instead of a connection (the operators' page passes
 * `() => defaultMoq(sid)`, the relay shard that owns the call), it asks it again on every
 * retry, so a dropped connection is replaced.
 *
 * @module
 */
import type { GroupConsumer, TrackConsumer } from "../relay/model/mod.ts";
import { TrackError } from "../relay/model/track_error.ts";
import { FrameStats, type ReceiveStats } from "./frame_stats.ts";
import { createFrameDecoder, type FrameDecoder, playableCodecOf } from "./frame_decoder.ts";
import type { BrowserMoq } from "./moq_connection.ts";

/** A snapshot of a monitored track. */
export interface MonitorStats extends ReceiveStats {
  /** RMS level of the latest frame, 0…1. */
  readonly level: number;
  /** The track's capability, once subscribed. */
  readonly capability: string | undefined;
}

const RETRY_MS = 500;

/** A connection, or how to get one (asked again on every retry). */
export type MonitorConnection = BrowserMoq | (() => Promise<BrowserMoq>);

/**
 * Monitors `voice/<sid>/<name>`.
 *
 * @example
 * ```ts ignore
 * import { TrackMonitor } from "./track_monitor.ts";
 * using monitor = new TrackMonitor(moq, sid, "uplink");
 * setInterval(() => console.log(monitor.stats.level, monitor.stats.jitterMs), 500);
 * ```
 */
export class TrackMonitor implements Disposable {
  readonly #abort = new AbortController();
  #stats = new FrameStats({ frameMs: 20, maxDelayMs: 1000 });
  #decoder: FrameDecoder | undefined;
  #level = 0;
  #capability: string | undefined;
  #consumer: TrackConsumer | undefined;

  /**
   * Starts watching; retries until the track exists, and after it ends (and, with a getter,
   * after the connection drops).
   */
  constructor(moq: MonitorConnection, sid: string, name: "uplink" | "downlink") {
    this.#run(moq, sid, name);
  }

  /** The statistics now. */
  get stats(): MonitorStats {
    return { ...this.#stats.snapshot(), level: this.#level, capability: this.#capability };
  }

  async #run(moq: MonitorConnection, sid: string, name: "uplink" | "downlink"): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const connection = typeof moq === "function" ? await moq() : moq;
        if (signal.aborted) return;
        const consumer = this.#consumer = await connection.subscribe(["voice", sid], name);
        if (signal.aborted) return consumer.close();
        const capability = consumer.info.capability;
        const codec = playableCodecOf(capability);
        this.#capability = capability;
        this.#decoder?.close();
        this.#decoder = codec
          ? createFrameDecoder(codec, (pcm) => {
            let sum = 0;
            for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
            this.#level = Math.sqrt(sum / Math.max(1, pcm.length));
          })
          : undefined;
        for (let group; (group = await consumer.nextGroup());) this.#read(group);
      } catch (error) {
        if (signal.aborted) return;
        // The connection is gone: with a getter, the next attempt asks for a new one.
        if (!(error instanceof TrackError) && typeof moq !== "function") return;
        if (!(error instanceof TrackError)) console.debug("Monitor lost its connection", error);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  async #read(group: GroupConsumer): Promise<void> {
    try {
      for (let object; (object = await group.readObject());) {
        const now = (performance.timeOrigin + performance.now()) * 1000;
        const at = object.timestamp ?? now;
        if (this.#stats.accept(at, now) === "play") this.#decoder?.decode(object.payload, at);
      }
    } catch (error) {
      console.debug("Monitored group ended early", error);
    }
  }

  /** Stops watching. A second call is a no-op. */
  [Symbol.dispose](): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    this.#consumer?.close();
    this.#decoder?.close();
  }
}
