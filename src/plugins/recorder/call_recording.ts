/**
 * One call's recording: a stereo {@linkcode Timeline} (left = uplink, right = downlink)
 * drained into a {@linkcode StreamingWavFile} on every flush, the Ogg Opus copies of its
 * Opus tracks, and the sidecar describing it all.
 *
 * @module
 */
import { join } from "node:path";
import {
  type RecordedTrack,
  type RecordingMetadata,
  type RecordingState,
  writeSidecar,
} from "./metadata.ts";
import type { OggOpusFile } from "./ogg_opus_file.ts";
import { Timeline } from "./timeline.ts";
import { StreamingWavFile } from "./wav_file.ts";

/**
 * Options of {@linkcode CallRecording.open}.
 *
 * @example
 * ```ts
 * import type { CallRecordingOptions } from "./call_recording.ts";
 * const options: CallRecordingOptions = { dir: "/tmp", sid: "CA1", sampleRate: 16000 };
 * ```
 */
export interface CallRecordingOptions {
  /** The recordings folder. */
  readonly dir: string;
  /** The call. */
  readonly sid: string;
  /** The WAV's rate. */
  readonly sampleRate: number;
  /** How long a flush waits for a lagging track before writing past it, in ms (default 200). */
  readonly reorderMs?: number;
  /** Sync data to disk on each flush (default true). */
  readonly sync?: boolean;
}

/**
 * Live counters of one recorded track; the track recorder updates them.
 *
 * @example
 * ```ts
 * import type { TrackEntry } from "./call_recording.ts";
 * const entry: TrackEntry = {
 *   name: "uplink", capability: "voice/opus", channel: 0, timestamps: "capture",
 *   objects: 0, concealed: 0, lateSamples: 0, badTimestamps: 0,
 * };
 * ```
 */
export type TrackEntry = { -readonly [K in keyof RecordedTrack]: RecordedTrack[K] };

/** How many flushes between sidecar rewrites while recording. */
const SIDECAR_EVERY_FLUSHES = 10;

/**
 * A call being recorded.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { CallRecording } from "./call_recording.ts";
 * const dir = await Deno.makeTempDir();
 * const call = await CallRecording.open({ dir, sid: "CA1", sampleRate: 8000 });
 * call.addTrack({ name: "uplink", capability: "voice/g711_ulaw", timestamps: "capture" });
 * call.write(0, 8000 * 1_700_000_000, new Int16Array(160));
 * const meta = await call.finish();
 * assert(meta.path.endsWith("CA1.wav"));
 * assertEquals(meta.bytes, 640);
 * ```
 */
export class CallRecording {
  /** The call. */
  readonly sid: string;
  /** The WAV's rate. */
  readonly sampleRate: number;
  readonly #wav: StreamingWavFile;
  readonly #sidecar: string;
  readonly #timeline = new Timeline(2);
  readonly #tracks: TrackEntry[] = [];
  readonly #oggs: OggOpusFile[] = [];
  readonly #reorderSamples: number;
  readonly #startedAt = new Date().toISOString();
  #state: RecordingState = "recording";
  #endedAt: string | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #flushes = 0;
  #sidecarQueue: Promise<void> = Promise.resolve();
  #finished: Promise<RecordingMetadata> | undefined;

  private constructor(
    options: CallRecordingOptions,
    wav: StreamingWavFile,
    sidecar: string,
  ) {
    this.sid = options.sid;
    this.sampleRate = options.sampleRate;
    this.#wav = wav;
    this.#sidecar = sidecar;
    this.#reorderSamples = Math.round((options.reorderMs ?? 200) * options.sampleRate / 1000);
  }

  /**
   * Creates `<dir>/<sid>.wav` and `<sid>.json`; when a recording of that sid already
   * exists (the sid was reused), `<sid>.2.wav`, `<sid>.3.wav`, … instead.
   */
  static async open(options: CallRecordingOptions): Promise<CallRecording> {
    const { dir, sid } = options;
    let name = sid;
    for (let n = 2; await exists(join(dir, `${name}.json`)); n++) name = `${sid}.${n}`;
    // Claim the name first so a concurrent open of the same sid picks another.
    const sidecar = join(dir, `${name}.json`);
    await Deno.writeTextFile(sidecar, "{}", { createNew: true });
    const wav = await StreamingWavFile.create(join(dir, `${name}.wav`), {
      sampleRate: options.sampleRate,
      channels: 2,
      sync: options.sync,
    });
    const call = new CallRecording(options, wav, sidecar);
    await writeSidecar(sidecar, call.metadata());
    return call;
  }

  /** Path of the WAV. */
  get path(): string {
    return this.#wav.path;
  }

  /** Path of the sidecar. */
  get sidecarPath(): string {
    return this.#sidecar;
  }

  /** The state. */
  get state(): RecordingState {
    return this.#state;
  }

  /** The directory the recording's files go to. */
  get dir(): string {
    return join(this.#sidecar, "..");
  }

  /** Adds a track; the returned entry is live and the sidecar shows it. */
  addTrack(
    track: Pick<TrackEntry, "name" | "capability" | "timestamps"> & { ogg?: string },
  ): TrackEntry {
    const entry: TrackEntry = {
      name: track.name,
      capability: track.capability,
      channel: track.name === "downlink" ? 1 : 0,
      timestamps: track.timestamps,
      objects: 0,
      concealed: 0,
      lateSamples: 0,
      badTimestamps: 0,
      ...(track.ogg ? { ogg: track.ogg } : {}),
      ended: false,
    };
    this.#tracks.push(entry);
    // A failed write is retried by the next one; the recording goes on.
    this.#writeSidecar().catch(() => {});
    return entry;
  }

  /** Registers an Ogg Opus file to flush with the WAV and close at the end. */
  addOgg(file: OggOpusFile): void {
    this.#oggs.push(file);
  }

  /**
   * Writes `samples` of `channel` at absolute sample position `position` (capture time ×
   * rate). Returns the samples dropped as late, or -1 when the write was refused because
   * it would buffer too far ahead.
   */
  write(channel: number, position: number, samples: Int16Array): number {
    const before = this.#timeline.late(channel);
    if (!this.#timeline.write(channel, position, samples)) return -1;
    return this.#timeline.late(channel) - before;
  }

  /**
   * Writes to disk everything older than the newest sample minus the reorder allowance
   * (everything, when `final`). Flushes run one after another.
   */
  flush(final = false): Promise<void> {
    const run = this.#flushing.then(async () => {
      const head = this.#timeline.head;
      if (head !== undefined) {
        const samples = this.#timeline.take(final ? head : head - this.#reorderSamples);
        if (samples.length > 0) await this.#wav.append(samples);
      }
      for (const ogg of this.#oggs) await ogg.flush();
      if (++this.#flushes % SIDECAR_EVERY_FLUSHES === 0) await this.#writeSidecar();
    });
    this.#flushing = run.catch(() => {});
    return run;
  }

  /**
   * Writes everything, closes the files and marks the recording `completed`. Later calls
   * return the same result.
   */
  finish(): Promise<RecordingMetadata> {
    return this.#finished ??= (async () => {
      try {
        await this.flush(true);
      } finally {
        await this.#wav.close();
        for (const ogg of this.#oggs) await ogg.close();
      }
      this.#state = "completed";
      this.#endedAt = new Date().toISOString();
      await this.#writeSidecar();
      return this.metadata();
    })();
  }

  /** The metadata as of now. */
  metadata(): RecordingMetadata {
    const origin = this.#timeline.origin;
    return {
      sid: this.sid,
      path: this.#wav.path,
      sampleRate: this.sampleRate,
      channels: 2,
      duration: this.#wav.durationSeconds,
      bytes: this.#wav.dataBytes,
      tracks: this.#tracks.map((t) => ({ ...t, lateSamples: this.#timeline.late(t.channel) })),
      startedAt: this.#startedAt,
      ...(this.#endedAt ? { endedAt: this.#endedAt } : {}),
      state: this.#state,
      ...(origin !== undefined
        ? { originMicros: Math.round(origin * 1_000_000 / this.sampleRate) }
        : {}),
    };
  }

  /** Sidecar writes in order, each with the metadata of its moment of writing. */
  #writeSidecar(): Promise<void> {
    const run = this.#sidecarQueue.then(() => writeSidecar(this.#sidecar, this.metadata()));
    this.#sidecarQueue = run.catch(() => {});
    return run;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
