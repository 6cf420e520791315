/**
 * The downlink half of an RTP leg: subscribes `voice/<sid>/downlink` (waiting for it to
 * appear, and again after it ends, so a bridge can attach, detach and re-attach), transcodes
 * to the negotiated codec when the track's capability differs, and sends the frames as RTP
 * paced at real time (one frame per frame duration, drift-corrected, never in bursts).
 *
 * Whenever the downlink has nothing to play (no track yet, a pause, the queue ran dry) the
 * player sends silence in the negotiated codec at the negotiated ptime instead of nothing:
 * carriers' RTP-inactivity timers and NAT bindings drop a call that receives no RTP (issue
 * 15: 236 packets in, 0 out in a 10 s call). G.711 silence is the codec's zero level; Opus
 * silence is the 3-byte 20 ms CELT frame `F8 FF FE` that libopus itself emits for digital
 * silence. Where the peer negotiated RFC 3389 comfort noise (`CN/8000`), CN packets go out
 * at the ptime instead.
 *
 * @module
 */
import { createTranscoder, type Transcoder } from "../codecs/transcoder.ts";
import { type Origin, type TrackConsumer, TrackError } from "../relay/model/mod.ts";
import type { Logger } from "../log/mod.ts";
import { trackFormatOf } from "../voice/track.ts";
import { opusPacketSamples } from "../codecs/opus_packet.ts";
import type { RtpAudioFormat } from "./payload_types.ts";
import type { RtpSession } from "./session.ts";
import { type Pacer, type PacerEntry, sharedPacer } from "./pacer.ts";

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
  /** Silence frames sent while the downlink had nothing. */
  readonly silence: number;
}

interface Queued {
  readonly payload: Uint8Array;
  readonly samples: number;
}

const RESUBSCRIBE_WAIT_MS = 2000;
/** Opus digital silence, 20 ms (TOC 0xF8: CELT fullband 20 ms, mono, one frame). */
const OPUS_SILENCE = Uint8Array.of(0xf8, 0xff, 0xfe);
/**
 * A queue that runs dry for less than this mid-speech (a writer a little late, event-loop
 * jitter) is a pause, as before: the next frame goes out with the timestamp jumped over it,
 * and the far end's jitter buffer conceals it. Filling such a gap with silence would splice
 * silence into the speech and shift everything after it. Beyond it, silence flows.
 */
const SILENCE_AFTER_MS = 100;
/** RFC 3389 noise level sent for a downlink with nothing: −127 dBov, digital silence. */
const NOISE_LEVEL = 127;

/** One ptime of silence in `format`'s codec (Opus: always one 20 ms frame). */
function silenceFrame(format: RtpAudioFormat, ptimeMs: number): Queued {
  if (format.codec === "opus") return { payload: OPUS_SILENCE, samples: 960 };
  const samples = Math.round((format.clockRate * ptimeMs) / 1000);
  // G.711 zero level: µ-law 0xFF, A-law 0xD5 (ITU-T G.711 tables).
  return {
    payload: new Uint8Array(samples).fill(format.codec === "g711_ulaw" ? 0xff : 0xd5),
    samples,
  };
}

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
  /** The next send (one pacer for every leg: no timer per call per frame). */
  #timer: PacerEntry | undefined;
  readonly #pacer: Pacer;
  #due = 0;
  #received = 0;
  #played = 0;
  #overflow = 0;
  #subscriptions = 0;
  #silence = 0;
  #lastAudioAt = Number.NEGATIVE_INFINITY;
  readonly #silenceFrame: Queued;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(options: {
    origin: Origin;
    namespace: readonly string[];
    /** The track played [downlink]. */
    track?: string;
    session: RtpSession;
    maxQueueMs: number;
    /** The negotiated ptime: silence frames are this long [20]. */
    ptimeMs?: number;
    /** The clock the frames are paced on [the process's shared pacer]. */
    pacer?: Pacer;
    logger?: Logger;
  }) {
    this.#origin = options.origin;
    this.#namespace = options.namespace;
    this.#track = options.track ?? "downlink";
    this.#session = options.session;
    this.#format = options.session.payloads.audio;
    this.#maxQueue = Math.max(1, Math.ceil(options.maxQueueMs / 20));
    this.#logger = options.logger;
    this.#silenceFrame = silenceFrame(this.#format, options.ptimeMs ?? 20);
    this.#pacer = options.pacer ?? sharedPacer();
    this.#loop = this.#run();
    // The clock runs from the start: silence until there is something to play.
    this.#due = performance.now();
    this.#timer = this.#pacer.schedule(this.#due, this.#tick);
  }

  get stats(): DownlinkStats {
    return {
      received: this.#received,
      played: this.#played,
      overflowDropped: this.#overflow,
      subscriptions: this.#subscriptions,
      silence: this.#silence,
    };
  }

  /** Stops reading and sending. Twice is a no-op. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#consumer?.close();
    this.#timer?.cancel();
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
      } catch (error) {
        if (this.#stopped) return; // stop() aborted the wait
        // Not published yet (the wait timed out): wait again. Anything else is logged.
        if (!(error instanceof TrackError && error.reason === "not_found")) {
          this.#logger?.warn("Downlink subscribe failed, retrying", { error });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        continue;
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
    const samples = this.#format.codec === "opus"
      ? opusPacketSamples(payload) ?? 0 // malformed: not played
      : payload.length;
    if (samples === 0) return;
    if (this.#queue.length - this.#head >= this.#maxQueue) {
      this.#head++;
      this.#overflow++;
    }
    this.#queue.push({ payload, samples });
  }

  readonly #tick = (now: number): void => {
    // (`now`: the pacer's wake-up time, at most a few ms old — the clock reads below need no
    // more precision than that, and this runs 50 times a second per call.)
    const entry = this.#timer;
    this.#timer = undefined;
    if (this.#stopped) return;
    let next = this.#queue[this.#head];
    if (next) {
      this.#queue[this.#head++] = undefined as unknown as Queued;
      if (this.#head > 256) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#session.sendAudio(next.payload, next.samples);
      this.#played++;
      this.#lastAudioAt = now;
    } else {
      this.#queue.length = 0;
      this.#head = 0;
      next = this.#silenceFrame;
      if (now - this.#lastAudioAt >= SILENCE_AFTER_MS) {
        const sent = this.#session.payloads.comfortNoise
          ? this.#session.sendComfortNoise(NOISE_LEVEL, next.samples)
          : this.#session.sendAudio(next.payload, next.samples);
        if (sent) this.#silence++;
      }
    }
    this.#due += (next.samples / this.#format.clockRate) * 1000;
    // Fell far behind (a stalled event loop): restart the clock rather than burst.
    if (this.#due < now - 100) this.#due = now;
    // The entry that just ran is filled in again: no allocation per frame.
    this.#timer = this.#pacer.schedule(this.#due, this.#tick, entry);
  };
}
