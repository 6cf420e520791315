/**
 * A browser leg's media on a call: the microphone published on one of the call's tracks
 * and the other track played. {@linkcode attachCaller} is the caller's side (publishes
 * `voice/<sid>/uplink`, plays `voice/<sid>/downlink`); {@linkcode attachCallee} the mirror
 * image (what a server-side `attach()` does: plays the uplink, publishes the downlink), used
 * when the far end is the caller (a SIP call ringing this browser, or a call this page dialed).
 *
 * The played track may appear late or be re-published (a bridge re-attaching): it is
 * subscribed again until the media is closed. Groups are read concurrently, since each
 * group is its own stream; frames that arrive behind newer ones are dropped as late.
 *
 * @module
 */
import type { GroupConsumer, GroupProducer, TrackProducer } from "../relay/model/mod.ts";
import { TrackError } from "../relay/model/track_error.ts";
import { FRAMES_PER_GROUP } from "../voice/track.ts";
import type { BrowserMoq } from "./moq_connection.ts";
import type { MicrophoneCapture } from "./capture.ts";
import { OpusPlayer, type OpusPlayerOptions, type PlayerStats } from "./player.ts";
import { playableCodecOf } from "./frame_decoder.ts";
import { defaultMicrophone, defaultMoq } from "./default_media.ts";

/** Options for {@linkcode attachCaller} and {@linkcode attachCallee}. */
export interface AttachMediaOptions {
  /** The MoQT connection [the page's default connection, see `defaultMoq`]. */
  readonly moq?: BrowserMoq;
  /** The call. */
  readonly sid: string;
  /**
   * The microphone whose frames are published [the page's default microphone, see
   * `defaultMicrophone`].
   */
  readonly microphone?: MicrophoneCapture;
  /** Player settings for the far end's audio (the codec comes from the track). */
  readonly player?: Omit<OpusPlayerOptions, "codec">;
  /** Told when the played track starts playing (with its capability). */
  readonly onPlaying?: (capability: string) => void;
}

/** Counters of a {@linkcode CallMedia}. */
export interface CallMediaStats {
  /** Frames published. */
  readonly sent: number;
  /** The far end's audio, once it plays. */
  readonly player: PlayerStats | undefined;
}

const RESUBSCRIBE_MS = 250;

/**
 * The media of one call in the page.
 *
 * @example
 * ```ts
 * import { attachCaller } from "./call_media.ts";
 * import type { BrowserMoq } from "./moq_connection.ts";
 * import type { MicrophoneCapture } from "./capture.ts";
 * declare const moq: BrowserMoq; // connectBrowserMoq(…)
 * declare const microphone: MicrophoneCapture; // captureMicrophone(…)
 * await using media = await attachCaller({ moq, sid: "CA1", microphone });
 * const { sent, player } = media.stats; // frames published, the player's jitter and losses
 * if (player && player.jitterMs > 60) console.warn(`${sent} sent, jitter ${player.jitterMs} ms`);
 * ```
 */
export class CallMedia implements AsyncDisposable {
  /** The call. */
  readonly sid: string;
  /** The track this page publishes. */
  readonly publishes: "uplink" | "downlink";
  readonly #moq: BrowserMoq;
  readonly #track: TrackProducer;
  readonly #stopFrames: () => void;
  readonly #playerOptions: Omit<OpusPlayerOptions, "codec">;
  readonly #onPlaying: ((capability: string) => void) | undefined;
  readonly #abort = new AbortController();
  #group: GroupProducer | undefined;
  #objectId = 0;
  #sent = 0;
  #player: OpusPlayer | undefined;
  #playerCodec: string | undefined;
  #closed = false;
  readonly #playing: Promise<void>;

  private constructor(
    options: AttachMediaOptions & { moq: BrowserMoq; microphone: MicrophoneCapture },
    publishes: "uplink" | "downlink",
    track: TrackProducer,
  ) {
    this.sid = options.sid;
    this.publishes = publishes;
    this.#moq = options.moq;
    this.#track = track;
    this.#playerOptions = options.player ?? {};
    this.#onPlaying = options.onPlaying;
    this.#stopFrames = options.microphone.onFrame((frame) => {
      this.#write(frame.payload, frame.captureUs);
    });
    this.#playing = this.#play(publishes === "uplink" ? "downlink" : "uplink");
  }

  /** @internal Publishes `publishes` and starts playing the other track. */
  static async open(
    options: AttachMediaOptions,
    publishes: "uplink" | "downlink",
  ): Promise<CallMedia> {
    const moq = options.moq ?? await defaultMoq(options.sid);
    const microphone = options.microphone ?? await defaultMicrophone();
    const track = await moq.publish({
      namespace: ["voice", options.sid],
      name: publishes,
      capability: "voice/opus",
    });
    return new CallMedia({ ...options, moq, microphone }, publishes, track);
  }

  /** The player of the far end's audio, once its track plays. */
  get player(): OpusPlayer | undefined {
    return this.#player;
  }

  /** Live counters. */
  get stats(): CallMediaStats {
    return { sent: this.#sent, player: this.#player?.stats };
  }

  #write(payload: Uint8Array, captureUs: number): void {
    if (this.#closed || this.#track.done) return;
    if (!this.#group || this.#objectId >= FRAMES_PER_GROUP) {
      this.#group?.close();
      this.#group = this.#track.appendGroup();
      this.#objectId = 0;
    }
    this.#group.write({
      id: this.#objectId++,
      payload,
      timestamp: Math.round(captureUs),
    });
    this.#sent++;
  }

  async #play(name: "uplink" | "downlink"): Promise<void> {
    const namespace = ["voice", this.sid];
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let consumer;
      try {
        consumer = await this.#moq.subscribe(namespace, name);
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof TrackError)) {
          // The session is gone: the owner (Softphone) reconnects and re-attaches.
          console.debug("Cannot subscribe to the far end's audio", error);
          return;
        }
        // Not published yet (the far end attaches after answering): try again shortly.
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_MS));
        continue;
      }
      try {
        await this.#ensurePlayer(consumer.info.capability);
        for (let group; (group = await consumer.nextGroup());) {
          if (signal.aborted) break;
          this.#readGroup(group);
        }
      } catch (error) {
        console.warn("Playing the far end's audio failed", error);
      } finally {
        consumer.close();
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_MS));
    }
  }

  async #ensurePlayer(capability: string | undefined): Promise<void> {
    const codec = playableCodecOf(capability);
    if (!codec) throw new TypeError(`Cannot play track: capability "${capability}" is not voice`);
    if (this.#player && this.#playerCodec === codec) return;
    await this.#player?.close();
    this.#player = await OpusPlayer.start({ ...this.#playerOptions, codec });
    this.#playerCodec = codec;
    this.#onPlaying?.(capability!);
  }

  async #readGroup(group: GroupConsumer): Promise<void> {
    try {
      for (let object; (object = await group.readObject());) {
        if (this.#closed) return;
        this.#player?.push(object.payload, object.timestamp);
      }
    } catch (error) {
      // A group dropped by the relay (a stale group for a slow page) just ends early.
      console.debug("Group ended early", error);
    }
  }

  /** Ends the published track and stops playing. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#stopFrames();
    this.#group?.close();
    this.#track.close();
    await this.#player?.close();
  }

  /** Same as {@linkcode CallMedia.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The caller's side of a call: publishes the microphone on `voice/<sid>/uplink` (which also
 * answers a ringing call) and plays `voice/<sid>/downlink`.
 *
 * With only a `sid`, it uses the page's default connection and microphone (see
 * `configureDefaultMedia`): the connection is opened from the page's origin with the relay
 * URL and certificate hash of `GET /v1/relay/certificate` and the token configured, else the
 * page's `?token=`; it is shared by every attach and opened again after it drops. Passing
 * `moq` and `microphone` uses those instead.
 *
 * @example
 * ```ts
 * import { attachCaller } from "./call_media.ts"; // in a page: "/sdk/browser.js"
 * import type { BrowserMoq } from "./moq_connection.ts";
 * import type { MicrophoneCapture } from "./capture.ts";
 * declare const moq: BrowserMoq; // connectBrowserMoq(…)
 * declare const microphone: MicrophoneCapture; // captureMicrophone(…)
 * // On a page opened as https://voice.example/app?token=<jwt>:
 * await using media = await attachCaller({ sid: "CA1" });
 * // Or with an explicit connection and microphone:
 * await using other = await attachCaller({ moq, sid: "CA2", microphone });
 * ```
 */
export function attachCaller(options: AttachMediaOptions): Promise<CallMedia> {
  return CallMedia.open(options, "uplink");
}

/**
 * The far side of a call whose caller is someone else: plays `voice/<sid>/uplink` and
 * publishes the microphone on `voice/<sid>/downlink`.
 *
 * @example
 * ```ts
 * import { attachCallee } from "./call_media.ts";
 * import type { BrowserMoq } from "./moq_connection.ts";
 * import type { MicrophoneCapture } from "./capture.ts";
 * declare const moq: BrowserMoq; // connectBrowserMoq(…)
 * declare const microphone: MicrophoneCapture; // captureMicrophone(…)
 * await using media = await attachCallee({ moq, sid: "CA1", microphone });
 * ```
 */
export function attachCallee(options: AttachMediaOptions): Promise<CallMedia> {
  return CallMedia.open(options, "downlink");
}
