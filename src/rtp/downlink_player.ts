/**
 * The downlink half of an RTP leg: subscribes `voice/<sid>/downlink` (waiting for it to
 * appear, and again after it ends, so a bridge can attach, detach and re-attach), transcodes
 * to the negotiated codec when the track's capability differs, and sends the frames as RTP
 * paced at real time (one frame per frame duration, drift-corrected, never in bursts).
 *
 * @module
 */
import { createTranscoder, type Transcoder } from "../codecs/transcoder.ts";
import type { Origin, TrackConsumer } from "../relay/model/mod.ts";
import type { Logger } from "../log/mod.ts";
import { trackFormatOf } from "../voice/track.ts";
import { opusPacketSamples } from "./opus_duration.ts";
import type { RtpAudioFormat } from "./payload_types.ts";
import type { RtpSession } from "./session.ts";

/**
 * Counters of the downlink half.
 *
 * @example
 * ```ts
 * import type { DownlinkStats } from "./downlink_player.ts";
 * const dropped = (s: DownlinkStats) => s.overflowDropped;
 * ```
 */
export interface DownlinkStats {
  /** Objects read from the downlink track. */
  readonly received: number;
  /** Frames handed to the RTP session. */
  readonly played: number;
  /** Frames dropped because the queue was full (oldest first). */
  readonly overflowDropped: number;
  /** Times the downlink track was subscribed. */
  readonly subscriptions: number;
}

interface Queued {
  readonly payload: Uint8Array;
  readonly samples: number;
}

const RESUBSCRIBE_WAIT_MS = 2000;

/** @internal Plays one leg's downlink. */
export class DownlinkPlayer {
  readonly #origin: Origin;
  readonly #namespace: readonly string[];
  readonly #track: string;
  readonly #session: RtpSession;
  readonly #format: RtpAudioFormat;
  readonly #maxQueue: number;
  readonly #logger: Logger | undefined;
  readonly #abort = new AbortController();
  readonly #queue: Queued[] = [];
  #head = 0;
  #consumer: TrackConsumer | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #received = 0;
  #played = 0;
  #overflow = 0;
  #subscriptions = 0;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(options: {
    origin: Origin;
    namespace: readonly string[];
    /** The track played [downlink]. */
    track?: string;
    session: RtpSession;
    maxQueueMs: number;
    logger?: Logger;
  }) {
    this.#origin = options.origin;
    this.#namespace = options.namespace;
    this.#track = options.track ?? "downlink";
    this.#session = options.session;
    this.#format = options.session.payloads.audio;
    this.#maxQueue = Math.max(1, Math.ceil(options.maxQueueMs / 20));
    this.#logger = options.logger;
    this.#loop = this.#run();
  }

  get stats(): DownlinkStats {
    return {
      received: this.#received,
      played: this.#played,
      overflowDropped: this.#overflow,
      subscriptions: this.#subscriptions,
    };
  }

  /** Stops reading and sending. Twice is a no-op. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#consumer?.close();
    clearTimeout(this.#timer);
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let consumer: TrackConsumer;
      try {
        consumer = await this.#origin.subscribe(this.#namespace, this.#track, {
          timeoutMs: RESUBSCRIBE_WAIT_MS,
          signal: this.#abort.signal,
        });
      } catch {
        if (this.#stopped) return;
        continue; // Not published yet: wait again.
      }
      this.#consumer = consumer;
      this.#subscriptions++;
      try {
        await this.#play(consumer);
      } catch (error) {
        if (!this.#stopped) this.#logger?.warn("Downlink track failed", { error });
      } finally {
        consumer.close();
      }
      // The track ended: give the origin a moment to forget it, then wait for the next one.
      if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async #play(consumer: TrackConsumer): Promise<void> {
    const target = this.#format;
    const trackFormat = trackFormatOf(consumer.info.capability);
    let transcoder: Transcoder | undefined;
    if (trackFormat && trackFormat.codec !== target.codec) {
      transcoder = await createTranscoder({
        from: trackFormat,
        to: { codec: target.codec, sampleRate: target.clockRate, channels: 1, frameMs: 20 },
      });
    }
    try {
      for (;;) {
        const group = await consumer.nextGroup();
        if (!group) return;
        for (;;) {
          const object = await group.readObject();
          if (!object) break;
          this.#received++;
          if (transcoder) {
            for (const out of transcoder.transcode(object.payload)) this.#enqueue(out);
          } else this.#enqueue(object.payload);
        }
      }
    } finally {
      transcoder?.close();
    }
  }

  #enqueue(payload: Uint8Array): void {
    if (this.#stopped) return;
    const samples = this.#format.codec === "opus" ? opusPacketSamples(payload) : payload.length;
    if (samples === 0) return;
    if (this.#queue.length - this.#head >= this.#maxQueue) {
      this.#head++;
      this.#overflow++;
    }
    this.#queue.push({ payload, samples });
    if (this.#timer === undefined) {
      this.#due = performance.now();
      this.#tick();
    }
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#stopped) return;
    const next = this.#queue[this.#head];
    if (!next) {
      this.#queue.length = 0;
      this.#head = 0;
      return;
    }
    this.#queue[this.#head++] = undefined as unknown as Queued;
    if (this.#head > 256) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#session.sendAudio(next.payload, next.samples);
    this.#played++;
    this.#due += (next.samples / this.#format.clockRate) * 1000;
    const now = performance.now();
    // Fell far behind (a stalled event loop): restart the clock rather than burst.
    if (this.#due < now - 100) this.#due = now;
    this.#timer = setTimeout(this.#tick, Math.max(0, this.#due - now));
  };
}
