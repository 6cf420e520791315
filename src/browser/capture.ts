/**
 * {@linkcode captureMicrophone}: the page's microphone as Opus frames. getUserMedia with
 * echo cancellation, automatic gain control and noise suppression → a
 * `MediaStreamTrackProcessor` (insertable streams: the track's `AudioData`) → a WebCodecs
 * `AudioEncoder` (Opus, mono, 20 ms frames, fed at the microphone's rate). Only encoded frames leave it; raw PCM
 * stays in the page (the level meter, and an optional recording for measurements).
 *
 * @module
 */

import type { AudioData, AudioEncoder, MediaStreamTrack } from "./web_media_types.ts";
import { CaptureClock } from "./capture_clock.ts";
import { type MediaStream, requireWebMedia } from "./web_media_types.ts";

/** One encoded 20 ms frame with its capture time. */
export interface EncodedFrame {
  /** The Opus packet. */
  readonly payload: Uint8Array;
  /** When its first sample was captured, µs since the Unix epoch. */
  readonly captureUs: number;
}

/** Options for {@linkcode captureMicrophone}. */
export interface CaptureOptions {
  /** Opus bitrate, bits/s [32000]. */
  readonly bitrate?: number;
  /** Keep the captured PCM for {@linkcode MicrophoneCapture.takeCaptured} [false]. */
  readonly record?: boolean;
  /** A device id from `enumerateDevices()` [the default microphone]. */
  readonly deviceId?: string;
  /**
   * Echo cancellation, automatic gain control and noise suppression [true]. Off only for
   * measuring the transport with a known signal: the processing reshapes the waveform.
   */
  readonly processing?: boolean;
}

/** Captured PCM with the epoch time (µs) of its first sample. */
export interface CapturedAudio {
  /** Mono samples at `sampleRate`. */
  readonly samples: Float32Array;
  /** The microphone's rate, Hz (48000 with processing on; a device's own without). */
  readonly sampleRate: number;
  /** Capture time of the first sample, µs since the Unix epoch. */
  readonly startUs: number;
}

/** The microphone could not be opened (permission denied, no device, no WebCodecs). */
export class MicrophoneError extends Error {
  /** Names the error in stack traces. */
  override readonly name = "MicrophoneError";
}

/** Frames per second at 20 ms. */
const FRAME_US = 20_000;

/**
 * An open microphone producing Opus frames.
 *
 * @example
 * ```ts ignore
 * import { captureMicrophone } from "./capture.ts";
 * await using mic = await captureMicrophone();
 * for await (const frame of mic.frames()) send(frame.payload, frame.captureUs);
 * ```
 */
export class MicrophoneCapture implements AsyncDisposable {
  /** The microphone track (disable it to mute: the encoder then gets silence). */
  readonly track: MediaStreamTrack;
  readonly #encoder: AudioEncoder;
  readonly #reader: ReadableStreamDefaultReader<AudioData>;
  readonly #listeners = new Set<(frame: EncodedFrame) => void>();
  readonly #record: boolean;
  readonly #AudioData: ReturnType<typeof requireWebMedia<"AudioData">>["AudioData"];
  #recorded: Float32Array[] = [];
  // Capture-clock timestamp of the first recorded sample.
  #recordedStartUs: number | undefined;
  #offsetUs: number | undefined;
  // Maps the encoder's output timestamps (a sample count) back onto the chunks' capture times.
  readonly #clock = new CaptureClock();
  #calibrating = 100;
  #level = 0;
  #frames = 0;
  #closed = false;
  readonly #done: Promise<void>;

  readonly #bitrate: number;
  // The rate the encoder is configured for: the microphone's own (Opus resamples inside).
  #encoderRate = 0;
  #recordedRate = 0;

  /** @internal Use {@linkcode captureMicrophone}. */
  constructor(track: MediaStreamTrack, bitrate: number, record: boolean) {
    this.track = track;
    this.#bitrate = bitrate;
    this.#record = record;
    const web = requireWebMedia(
      "capture the microphone",
      "AudioEncoder",
      "AudioData",
      "MediaStreamTrackProcessor",
    );
    this.#AudioData = web.AudioData;
    this.#encoder = new web.AudioEncoder({
      output: (chunk) => {
        const payload = new Uint8Array(chunk.byteLength);
        chunk.copyTo(payload);
        const captureUs = this.#clock.output(chunk.timestamp) + (this.#offsetUs ?? 0);
        this.#frames++;
        for (const listener of this.#listeners) listener({ payload, captureUs });
      },
      error: (error) => console.warn("Opus encoding failed", error),
    });
    // A deep queue (1 s of 10 ms chunks): the default few chunks are dropped, oldest first,
    // whenever the page's main thread stalls for a moment, which cuts holes in the audio.
    const processor = new web.MediaStreamTrackProcessor({ track, maxBufferSize: 100 });
    this.#reader = processor.readable.getReader();
    this.#done = this.#pump();
  }

  /** RMS level of the last captured chunk, 0…1. */
  get level(): number {
    return this.#level;
  }

  /** Frames encoded so far. */
  get framesEncoded(): number {
    return this.#frames;
  }

  /** True while muted. */
  get muted(): boolean {
    return !this.track.enabled;
  }

  /** Mutes (silence is encoded, so the far end's timing stays intact) or unmutes. */
  setMuted(muted: boolean): void {
    this.track.enabled = !muted;
  }

  /** Calls `listener` with every encoded frame; returns the unsubscribe function. */
  onFrame(listener: (frame: EncodedFrame) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The PCM captured since the last call (with `record: true`). */
  takeCaptured(): CapturedAudio {
    const parts = this.#recorded;
    this.#recorded = [];
    const total = parts.reduce((sum, p) => sum + p.length, 0);
    const samples = new Float32Array(total);
    let at = 0;
    for (const p of parts) {
      samples.set(p, at);
      at += p.length;
    }
    const startUs = (this.#recordedStartUs ?? 0) + (this.#offsetUs ?? 0);
    this.#recordedStartUs = undefined;
    return { samples, startUs, sampleRate: this.#recordedRate || 48000 };
  }

  async #pump(): Promise<void> {
    for (;;) {
      let result: ReadableStreamReadResult<AudioData>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        if (!this.#closed) console.warn("Microphone stream failed", error);
        return;
      }
      if (result.done) return;
      const data = result.value;
      if (this.#closed) {
        data.close();
        return;
      }
      // AudioData timestamps are on the capture clock; map them onto epoch time by the
      // chunk delivered soonest after its capture during the first second (the tightest
      // bound), then keep the mapping fixed so capture times never step backwards.
      if (this.#calibrating > 0) {
        this.#calibrating--;
        const offset = (performance.timeOrigin + performance.now()) * 1000 - data.timestamp;
        if (this.#offsetUs === undefined || offset < this.#offsetUs) this.#offsetUs = offset;
      }
      const pcm = new Float32Array(data.numberOfFrames);
      data.copyTo(pcm, { planeIndex: 0, format: "f32-planar" });
      let sum = 0;
      for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
      this.#level = Math.sqrt(sum / Math.max(1, pcm.length));
      if (this.#record) {
        this.#recordedStartUs ??= data.timestamp;
        this.#recordedRate ||= data.sampleRate;
        this.#recorded.push(pcm);
      }
      if (data.sampleRate !== this.#encoderRate) {
        // Configured from the first chunk (and again should the device's rate change): a
        // device without processing may run at 44.1 kHz; the encoder takes it as it is.
        this.#encoderRate = data.sampleRate;
        this.#clock.reset(data.sampleRate);
        this.#encoder.configure({
          codec: "opus",
          sampleRate: data.sampleRate,
          numberOfChannels: 1,
          bitrate: this.#bitrate,
          opus: { frameDuration: FRAME_US, complexity: 5, application: "voip" },
        });
      }
      this.#clock.input(data.timestamp, data.numberOfFrames);
      if (data.numberOfChannels === 1) {
        this.#encoder.encode(data);
        data.close();
      } else {
        // The encoder is configured for mono: hand it the first channel.
        const mono = new this.#AudioData({
          format: "f32-planar",
          sampleRate: data.sampleRate,
          numberOfFrames: pcm.length,
          numberOfChannels: 1,
          timestamp: data.timestamp,
          data: pcm,
        });
        data.close();
        this.#encoder.encode(mono);
        mono.close();
      }
    }
  }

  /** Stops the microphone and the encoder. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.track.stop();
    await this.#reader.cancel().catch(() => {});
    await this.#done;
    if (this.#encoder.state !== "closed") this.#encoder.close();
    this.#listeners.clear();
  }

  /** Same as {@linkcode MicrophoneCapture.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens the microphone with echo cancellation, auto gain control and noise suppression and
 * encodes it to Opus (20 ms, mono). Rejects with a {@linkcode MicrophoneError} saying why.
 *
 * @example
 * ```ts ignore
 * import { captureMicrophone } from "./capture.ts";
 * const mic = await captureMicrophone();
 * mic.onFrame((frame) => console.log(frame.payload.length, frame.captureUs));
 * ```
 */
export async function captureMicrophone(options: CaptureOptions = {}): Promise<MicrophoneCapture> {
  const { bitrate = 32000, record = false, deviceId, processing = true } = options;
  let web;
  try {
    web = requireWebMedia("capture the microphone", "AudioEncoder", "MediaStreamTrackProcessor");
  } catch (cause) {
    throw new MicrophoneError((cause as Error).message, { cause });
  }
  const { navigator } = globalThis as unknown as Pick<
    import("./web_media_types.ts").WebMediaGlobals,
    "navigator"
  >;
  void web;
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        echoCancellation: processing,
        autoGainControl: processing,
        noiseSuppression: processing,
        channelCount: 1,
        sampleRate: 48000,
        ...(deviceId ? { deviceId } : {}),
      },
    });
  } catch (cause) {
    throw new MicrophoneError(
      `Cannot capture the microphone: ${cause instanceof Error ? cause.message : cause}`,
      { cause },
    );
  }
  const [track] = stream.getAudioTracks();
  return new MicrophoneCapture(track, bitrate, record);
}
