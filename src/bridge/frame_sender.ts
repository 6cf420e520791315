/**
 * The publishing half of a bridge: takes frames in the application's format, transcodes
 * them to the track's format when the two differ, and writes one object per frame with its
 * capture time, a group every {@linkcode FRAMES_PER_GROUP} frames.
 *
 * @module
 */
import {
  createTranscoder,
  type Transcoder,
  type TranscoderOpusOptions,
} from "../codecs/transcoder.ts";
import type { MediaFormat } from "../codecs/transcoder.ts";
import { pcm16ToBytes } from "../codecs/pcm16.ts";
import type { GroupProducer, TrackProducer } from "../relay/model/mod.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../voice/track.ts";
import { frameBytes, sameFormat, silenceFrame } from "./format.ts";

/**
 * Counters of the publishing half.
 *
 * @example
 * ```ts
 * import type { SenderStats } from "@clutchcall/voice/bridge";
 * const framesOut = (s: SenderStats) => s.sent; // may differ from `written` when frame durations differ
 * ```
 */
export interface SenderStats {
  /** Frames passed to `write()` and accepted. */
  readonly written: number;
  /** Objects published on the track. */
  readonly sent: number;
  /** Written frames of the wrong size or undecodable: each was concealed. */
  readonly writeErrors: number;
}

/** How far (µs) inferred timestamps may fall behind the wall clock before they resync. */
const MAX_TIMESTAMP_LAG_US = 100_000;

/** @internal The publishing half of an {@linkcode AudioBridge}. */
export class FrameSender {
  readonly #track: TrackProducer;
  readonly #input: Required<MediaFormat>;
  readonly #output: Required<MediaFormat>;
  readonly #transcoder: Transcoder | undefined;
  readonly #inputBytes: number | undefined;
  #group: GroupProducer | undefined;
  #seq = 0;
  #inputUs = 0;
  #outputUs = 0;
  #lastTimestamp: number | undefined;
  #written = 0;
  #writeErrors = 0;
  #nulls = 0;
  #closed = false;

  private constructor(
    track: TrackProducer,
    input: Required<MediaFormat>,
    output: Required<MediaFormat>,
    transcoder: Transcoder | undefined,
  ) {
    this.#track = track;
    this.#input = input;
    this.#output = output;
    this.#transcoder = transcoder;
    this.#inputBytes = frameBytes(input);
  }

  /** Makes a sender writing to `track` (already published) in `output` format. */
  static async create(
    track: TrackProducer,
    input: Required<MediaFormat>,
    output: Required<MediaFormat>,
    opus?: TranscoderOpusOptions,
  ): Promise<FrameSender> {
    const transcoder = sameFormat(input, output)
      ? undefined
      : await createTranscoder({ from: input, to: output, opus });
    return new FrameSender(track, input, output, transcoder);
  }

  get stats(): SenderStats {
    const undecodable = this.#transcoder ? this.#transcoder.stats.concealed - this.#nulls : 0;
    return {
      written: this.#written,
      sent: this.#seq,
      writeErrors: this.#writeErrors + undecodable,
    };
  }

  /** See {@linkcode AudioBridge.write}. */
  write(frame: Uint8Array | Int16Array, timestamp?: number): boolean {
    if (this.#closed) return false;
    let payload: Uint8Array | null;
    if (frame instanceof Int16Array) {
      if (this.#input.codec !== "pcm16") {
        throw new TypeError(
          `Cannot write frame: samples given, but the bridge takes ${this.#input.codec} frames`,
        );
      }
      payload = pcm16ToBytes(frame);
    } else if (frame instanceof Uint8Array) {
      payload = frame;
    } else {
      throw new TypeError("Cannot write frame: expected a Uint8Array or an Int16Array");
    }
    if (timestamp !== undefined && !Number.isFinite(timestamp)) {
      throw new TypeError(`Cannot write frame: invalid timestamp ${timestamp}`);
    }
    if (this.#inputBytes !== undefined && payload.length !== this.#inputBytes) {
      this.#writeErrors++;
      payload = null;
    }
    this.#written++;
    const inputFrameUs = this.#input.frameMs * 1000;
    const at = timestamp ?? this.#inferTimestamp(inputFrameUs);
    this.#lastTimestamp = at;
    // The capture time of the first sample still held back by the transcoder.
    const base = at - this.#inputUs;
    this.#inputUs += inputFrameUs;
    const out = this.#encode(payload);
    const outputFrameUs = this.#output.frameMs * 1000;
    for (const object of out) {
      this.#publish(object, base + this.#outputUs);
      this.#outputUs += outputFrameUs;
    }
    return true;
  }

  /** Ends the track (the open group first). A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#group?.close();
    this.#track.close();
    this.#transcoder?.close();
  }

  #inferTimestamp(frameUs: number): number {
    const now = nowMicros();
    const last = this.#lastTimestamp;
    if (last === undefined) return now;
    const next = last + frameUs;
    return next < now - MAX_TIMESTAMP_LAG_US ? now : next;
  }

  #encode(payload: Uint8Array | null): Uint8Array[] {
    const transcoder = this.#transcoder;
    if (!transcoder) return [payload ?? silenceFrame(this.#output)];
    if (payload === null) this.#nulls++;
    return transcoder.transcode(payload);
  }

  #publish(payload: Uint8Array, timestamp: number): void {
    const seq = this.#seq++;
    const objectId = seq % FRAMES_PER_GROUP;
    if (objectId === 0) {
      this.#group?.close();
      this.#group = this.#track.appendGroup(Math.floor(seq / FRAMES_PER_GROUP));
    }
    this.#group!.write({
      id: objectId,
      payload,
      timestamp: Math.round(timestamp),
    });
  }
}
