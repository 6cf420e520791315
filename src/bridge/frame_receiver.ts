/**
 * The receiving half of a bridge: reads the peer track's objects into a
 * {@linkcode PlayoutBuffer} as they arrive, and hands frames out at the reader's pace,
 * transcoded to the application's format, with gaps concealed.
 *
 * @module
 */
import { pcm16FromBytes } from "../codecs/pcm16.ts";
import {
  createTranscoder,
  type MediaFormat,
  type Transcoder,
  type TranscoderOpusOptions,
} from "../codecs/transcoder.ts";
import type { GroupConsumer, TrackConsumer } from "../relay/model/mod.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../voice/track.ts";
import { frameBytes, sameFormat, silenceFrame } from "./format.ts";
import { PlayoutBuffer, type PlayoutItem, type PlayoutStats } from "./playout_buffer.ts";

/**
 * One frame handed to the application.
 *
 * @example
 * ```ts
 * import type { BridgeFrame } from "@clutchcall/voice/bridge";
 * function level(frame: BridgeFrame): number {
 *   let peak = 0;
 *   for (const s of frame.samples ?? []) peak = Math.max(peak, Math.abs(s));
 *   return peak;
 * }
 * ```
 */
export interface BridgeFrame {
  /** The frame, encoded in the codec the bridge was attached with. */
  readonly payload: Uint8Array;
  /** For `pcm16`: the samples (interleaved when stereo). */
  readonly samples?: Int16Array;
  /** Capture time of the frame's first sample, µs since the Unix epoch (sender's clock). */
  readonly timestamp: number;
  /**
   * Position in the stream in frames of the attached duration; a jump means frames were
   * dropped as late (or lost) rather than played.
   */
  readonly seq: number;
  /**
   * True when the frame was synthesized for a gap or an undecodable frame. For Opus without
   * transcoding it is an empty payload: hand it to the decoder as a lost packet.
   */
  readonly concealed: boolean;
}

/**
 * Counters of the receiving half: the playout buffer's (in track frames) plus frames
 * delivered (in the attached frame duration) and undecodable frames.
 *
 * @example
 * ```ts
 * import type { ReceiverStats } from "@clutchcall/voice/bridge";
 * const lossRate = (s: ReceiverStats) => (s.lateDropped + s.concealed) / Math.max(1, s.received);
 * ```
 */
export interface ReceiverStats extends PlayoutStats {
  /** Frames handed to the application (in the attached frame duration). */
  readonly delivered: number;
  /** Received frames of the wrong size or undecodable (corrupt Opus): each was concealed. */
  readonly transcodeErrors: number;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function samplesOf(payload: Uint8Array): Int16Array {
  return HOST_IS_LITTLE_ENDIAN && payload.byteOffset % 2 === 0 && payload.length % 2 === 0
    ? new Int16Array(payload.buffer, payload.byteOffset, payload.length / 2)
    : pcm16FromBytes(payload.subarray(0, payload.length & ~1));
}

/** Options of a {@linkcode FrameReceiver}. */
export interface FrameReceiverOptions {
  /** Format of the track's objects. */
  readonly track: Required<MediaFormat>;
  /** Format the application reads. */
  readonly output: Required<MediaFormat>;
  /** Latency bound of the playout buffer, ms. */
  readonly maxLatencyMs: number;
  /** Reorder wait of the playout buffer, ms. */
  readonly reorderMs?: number;
  readonly opus?: TranscoderOpusOptions;
}

/** @internal The receiving half of an {@linkcode AudioBridge}. */
export class FrameReceiver {
  readonly #consumer: TrackConsumer;
  readonly #track: Required<MediaFormat>;
  readonly #output: Required<MediaFormat>;
  readonly #transcoder: Transcoder | undefined;
  readonly #trackBytes: number | undefined;
  readonly #buffer: PlayoutBuffer;
  readonly #groups = new Set<GroupConsumer>();
  readonly #ready: BridgeFrame[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;
  #closed = false;
  #inputUs = 0;
  #outputUs = 0;
  #delivered = 0;
  #badSize = 0;
  #nulls = 0;

  private constructor(
    consumer: TrackConsumer,
    options: FrameReceiverOptions,
    transcoder: Transcoder | undefined,
  ) {
    this.#consumer = consumer;
    this.#track = options.track;
    this.#output = options.output;
    this.#transcoder = transcoder;
    this.#trackBytes = frameBytes(options.track);
    this.#buffer = new PlayoutBuffer({
      frameMs: options.track.frameMs,
      maxLatencyMs: options.maxLatencyMs,
      reorderMs: options.reorderMs,
    });
    this.#pump().catch(() => {}).finally(() => {
      this.#ended = true;
      this.#notify();
    });
  }

  /** Starts reading `consumer`. */
  static async create(
    consumer: TrackConsumer,
    options: FrameReceiverOptions,
  ): Promise<FrameReceiver> {
    const transcoder = sameFormat(options.track, options.output)
      ? undefined
      : await createTranscoder({ from: options.track, to: options.output, opus: options.opus });
    return new FrameReceiver(consumer, options, transcoder);
  }

  get stats(): ReceiverStats {
    const undecodable = this.#transcoder ? this.#transcoder.stats.concealed - this.#nulls : 0;
    return {
      ...this.#buffer.stats,
      delivered: this.#delivered,
      transcodeErrors: this.#badSize + undecodable,
    };
  }

  /** The next frame, waiting for one; `undefined` once the track ended or on close. */
  async read(): Promise<BridgeFrame | undefined> {
    for (;;) {
      const frame = this.#ready.shift();
      if (frame) {
        this.#delivered++;
        return frame;
      }
      if (this.#closed) return undefined;
      const item = this.#buffer.next();
      if (item) {
        this.#produce(item);
        continue;
      }
      if (this.#ended && this.#buffer.buffered === 0) return undefined;
      await this.#wait(this.#buffer.nextDueAt());
    }
  }

  /** Stops reading the track. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const group of this.#groups) group.cancel();
    this.#consumer.close();
    this.#transcoder?.close();
    this.#notify();
  }

  async #pump(): Promise<void> {
    for (;;) {
      const group = await this.#consumer.nextGroup();
      if (!group || this.#closed) return;
      // Groups are read concurrently: a stalled group must not hold back newer ones.
      this.#groups.add(group);
      this.#readGroup(group).catch(() => {}).finally(() => this.#groups.delete(group));
    }
  }

  async #readGroup(group: GroupConsumer): Promise<void> {
    for (let object; (object = await group.readObject());) {
      if (this.#closed) return;
      this.#buffer.push({
        seq: group.id * FRAMES_PER_GROUP + object.id,
        timestamp: object.timestamp ?? nowMicros(),
        payload: object.payload,
      });
      this.#notify();
    }
  }

  /** Turns one playout item into zero or more application frames. */
  #produce(item: PlayoutItem): void {
    const trackFrameUs = this.#track.frameMs * 1000;
    const outputFrameUs = this.#output.frameMs * 1000;
    let input: Uint8Array | null = null;
    let seq: number, timestamp: number;
    if (item.kind === "frame") {
      ({ seq, timestamp } = item.frame);
      input = item.frame.payload;
      if (this.#trackBytes !== undefined && input.length !== this.#trackBytes) {
        this.#badSize++;
        input = null;
      }
    } else {
      ({ seq, timestamp } = item);
    }
    const base = timestamp - this.#inputUs;
    const basePosition = seq * trackFrameUs - this.#inputUs;
    this.#inputUs += trackFrameUs;
    let payloads: Uint8Array[];
    let concealed = input === null;
    const transcoder = this.#transcoder;
    if (transcoder) {
      if (input === null) this.#nulls++;
      const before = transcoder.stats.concealed;
      payloads = transcoder.transcode(input);
      concealed = transcoder.stats.concealed > before; // includes undecodable payloads
    } else {
      payloads = [input ?? silenceFrame(this.#output)];
    }
    for (const payload of payloads) {
      this.#ready.push({
        payload,
        samples: this.#output.codec === "pcm16" ? samplesOf(payload) : undefined,
        timestamp: base + this.#outputUs,
        seq: Math.round((basePosition + this.#outputUs) / outputFrameUs),
        concealed,
      });
      this.#outputUs += outputFrameUs;
    }
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #wait(dueAt: number | undefined): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (dueAt !== undefined) {
      timer = setTimeout(resolve, Math.max(0, Math.ceil((dueAt - nowMicros()) / 1000)));
    }
    try {
      await promise;
    } finally {
      clearTimeout(timer);
    }
  }
}
