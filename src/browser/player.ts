/**
 * {@linkcode OpusPlayer}: plays a voice track in the page. Frames are decoded with WebCodecs
 * (`AudioDecoder`; G.711 and PCM16 by table), checked against their capture time (frames
 * behind what already played, or delayed past `maxDelayMs` above the fastest frame, are
 * dropped as late), and fed to an AudioWorklet ring buffer that keeps `targetDelayMs`
 * buffered, pads underruns with silence and sheds a backlog beyond `maxDelayMs`.
 *
 * @module
 */
import { FrameStats, type ReceiveStats } from "./frame_stats.ts";
import {
  createFrameDecoder,
  decodedRate,
  type FrameDecoder,
  type PlayableCodec,
} from "./frame_decoder.ts";
import { PLAYOUT_PROCESSOR, PLAYOUT_WORKLET_SOURCE } from "./playout_worklet.ts";
import type { AudioContext, AudioWorkletNode } from "./web_media_types.ts";
import { requireWebMedia } from "./web_media_types.ts";

/** Options for {@linkcode OpusPlayer.start}. */
export interface OpusPlayerOptions {
  /** The track's codec ["opus"]; G.711 (a SIP leg's uplink) and PCM16 play too. */
  readonly codec?: PlayableCodec;
  /** Buffered audio before playing starts (and after an underrun), ms [60]. */
  readonly targetDelayMs?: number;
  /** The most audio kept buffered, and the most delay a frame may have, ms [200]. */
  readonly maxDelayMs?: number;
  /** Keep what the worklet plays, for {@linkcode OpusPlayer.takePlayed} [false]. */
  readonly capture?: boolean;
  /** An AudioContext to play into [a new one at the codec's rate]. */
  readonly context?: AudioContext;
}

/** Live statistics of a player. */
export interface PlayerStats extends ReceiveStats {
  /** Audio buffered in the worklet plus the output's latency, ms. */
  readonly playoutDelayMs: number;
  /** Times the buffer ran dry (silence was played). */
  readonly underruns: number;
  /** Samples shed to keep the delay bounded. */
  readonly droppedSamples: number;
  /** Audio the worklet has played (not counting silence padding), ms. */
  readonly playedMs: number;
  /** RMS level of the last decoded frame, 0…1. */
  readonly level: number;
}

/** Played audio with the epoch time (µs) of its first sample. */
export interface PlayedAudio {
  /** Mono samples at {@linkcode OpusPlayer.sampleRate}. */
  readonly samples: Float32Array;
  /** When the first sample was played, µs since the Unix epoch (output timestamp). */
  readonly startUs: number;
}

const LOADED = new WeakMap<AudioContext, Promise<void>>();

function rms(pcm: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return pcm.length ? Math.sqrt(sum / pcm.length) : 0;
}

/**
 * A playing voice track.
 *
 * @example
 * ```ts ignore
 * import { OpusPlayer } from "./player.ts";
 * await using player = await OpusPlayer.start({ codec: "opus" });
 * player.push(opusPacket, captureMicros);
 * console.log(player.stats.jitterMs, player.stats.playoutDelayMs);
 * ```
 */
export class OpusPlayer implements AsyncDisposable {
  /** The AudioContext it plays into. */
  readonly context: AudioContext;
  /** The rate the worklet plays at. */
  readonly sampleRate: number;
  readonly #node: AudioWorkletNode;
  readonly #decoder: FrameDecoder;
  readonly #frames: FrameStats;
  readonly #ownsContext: boolean;
  #worklet = { buffered: 0, underruns: 0, droppedSamples: 0, playedSamples: 0 };
  #level = 0;
  #played: { samples: Float32Array; at: number }[] = [];
  #closed = false;

  private constructor(
    context: AudioContext,
    node: AudioWorkletNode,
    codec: PlayableCodec,
    maxDelayMs: number,
    ownsContext: boolean,
  ) {
    this.context = context;
    this.sampleRate = context.sampleRate;
    this.#node = node;
    this.#ownsContext = ownsContext;
    this.#frames = new FrameStats({ frameMs: 20, maxDelayMs });
    this.#decoder = createFrameDecoder(codec, (pcm) => {
      this.#level = rms(pcm);
      if (!this.#closed) this.#node.port.postMessage({ pcm }, [pcm.buffer as ArrayBuffer]);
    });
    node.port.onmessage = (event) => {
      const message = event.data;
      if (message.stats) this.#worklet = message.stats;
      if (message.played) this.#played.push({ samples: message.played, at: message.at });
    };
  }

  /** Creates the context (at the codec's rate) and the worklet, and starts playing. */
  static async start(options: OpusPlayerOptions = {}): Promise<OpusPlayer> {
    const { codec = "opus", targetDelayMs = 60, maxDelayMs = 200, capture = false } = options;
    const rate = decodedRate(codec);
    const web = requireWebMedia("play audio", "AudioContext", "AudioWorkletNode");
    const context = options.context ??
      new web.AudioContext({ sampleRate: rate, latencyHint: "interactive" });
    let loaded = LOADED.get(context);
    if (!loaded) {
      const url = URL.createObjectURL(
        new Blob([PLAYOUT_WORKLET_SOURCE], { type: "text/javascript" }),
      );
      loaded = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
      LOADED.set(context, loaded);
    }
    await loaded;
    if (context.sampleRate !== rate) {
      throw new RangeError(
        `Cannot play ${codec}: the AudioContext runs at ${context.sampleRate} Hz, not ${rate} Hz`,
      );
    }
    const node = new web.AudioWorkletNode(context, PLAYOUT_PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: {
        capacity: context.sampleRate * 2,
        target: Math.round(context.sampleRate * targetDelayMs / 1000),
        max: Math.round(context.sampleRate * maxDelayMs / 1000),
      },
    });
    node.connect(context.destination);
    if (capture) node.port.postMessage({ capture: true });
    if (context.state === "suspended") await context.resume().catch(() => {});
    return new OpusPlayer(context, node, codec, maxDelayMs, !options.context);
  }

  /** Plays a frame captured at `captureUs` (µs since the epoch); returns false if late. */
  push(payload: Uint8Array, captureUs: number | undefined): boolean {
    if (this.#closed) return false;
    const now = (performance.timeOrigin + performance.now()) * 1000;
    const at = captureUs ?? now;
    if (this.#frames.accept(at, now) === "late") return false;
    this.#decoder.decode(payload, at);
    return true;
  }

  /** Live statistics. */
  get stats(): PlayerStats {
    const outputLatency = (this.context.outputLatency || 0) + (this.context.baseLatency || 0);
    return {
      ...this.#frames.snapshot(),
      playoutDelayMs: this.#worklet.buffered / this.sampleRate * 1000 + outputLatency * 1000,
      underruns: this.#worklet.underruns,
      droppedSamples: this.#worklet.droppedSamples,
      playedMs: this.#worklet.playedSamples / this.sampleRate * 1000,
      level: this.#level,
    };
  }

  /** What was played since the last call (with `capture: true`), stamped in epoch time. */
  takePlayed(): PlayedAudio {
    const parts = this.#played;
    this.#played = [];
    const total = parts.reduce((sum, p) => sum + p.samples.length, 0);
    const samples = new Float32Array(total);
    let at = 0;
    for (const p of parts) {
      samples.set(p.samples, at);
      at += p.samples.length;
    }
    // Map the first block's context time onto the performance clock.
    const stamp = this.context.getOutputTimestamp();
    const contextTime = stamp.contextTime ?? this.context.currentTime;
    const perf = stamp.performanceTime ?? performance.now();
    const firstAt = parts.length ? parts[0].at : contextTime;
    const startMs = performance.timeOrigin + perf + (firstAt - contextTime) * 1000;
    return { samples, startUs: startMs * 1000 };
  }

  /** Stops playing. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.close();
    this.#node.port.onmessage = null;
    this.#node.disconnect();
    if (this.#ownsContext) await this.context.close().catch(() => {});
  }

  /** Same as {@linkcode OpusPlayer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
