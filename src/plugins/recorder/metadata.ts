/**
 * Recording metadata: the `<name>.json` sidecar next to each `<name>.wav`, written
 * atomically (temporary file, then rename), and the queries the HTTP API answers from the
 * recordings folder.
 *
 * @module
 */
import { basename, join } from "node:path";
import { WAV_HEADER_BYTES } from "../../codecs/wav.ts";

/**
 * Where a recording is in its life.
 *
 * ```
 * recording ──(all tracks ended, or the plugin stopped)──▶ completed
 *     │
 *     └──(the process died; found at the next start)────▶ interrupted
 * ```
 *
 * @example
 * ```ts
 * import type { RecordingState } from "./metadata.ts";
 * const state: RecordingState = "completed";
 * ```
 */
export type RecordingState = "recording" | "completed" | "interrupted";

/**
 * One recorded track.
 *
 * @example
 * ```ts
 * import type { RecordedTrack } from "./metadata.ts";
 * const track: RecordedTrack = {
 *   name: "uplink", capability: "voice/g711_ulaw", channel: 0, timestamps: "capture",
 *   objects: 250, concealed: 0, lateSamples: 0, badTimestamps: 0,
 * };
 * ```
 */
export interface RecordedTrack {
  /** `uplink` or `downlink`. */
  readonly name: string;
  /** The track's capability tag. */
  readonly capability: string;
  /** WAV channel: 0 = left (uplink), 1 = right (downlink). */
  readonly channel: number;
  /** What placed the frames in time: their capture timestamps, or their arrival. */
  readonly timestamps: "capture" | "arrival";
  /** Objects received. */
  readonly objects: number;
  /** Frames concealed (undecodable payloads). */
  readonly concealed: number;
  /** Samples dropped because they arrived after their place was written to disk. */
  readonly lateSamples: number;
  /** Capture timestamps ignored as implausible (a jump beyond the recorder's bound). */
  readonly badTimestamps: number;
  /** Path of the Ogg Opus copy, when one is written. */
  readonly ogg?: string;
  /** True once the track ended. */
  readonly ended?: boolean;
}

/**
 * A recording as the sidecar and the HTTP API describe it.
 *
 * @example
 * ```ts
 * import type { RecordingMetadata } from "./metadata.ts";
 * const meta: RecordingMetadata = {
 *   sid: "CA1", path: "/data/recordings/CA1.wav", sampleRate: 16000, channels: 2,
 *   duration: 0, bytes: 0, tracks: [], startedAt: new Date().toISOString(), state: "recording",
 * };
 * ```
 */
export interface RecordingMetadata {
  /** The call. */
  readonly sid: string;
  /** Absolute path of the stereo WAV (left uplink, right downlink). */
  readonly path: string;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Always 2. */
  readonly channels: number;
  /** Seconds of audio in the WAV. */
  readonly duration: number;
  /** Bytes of audio (the WAV `data` chunk). */
  readonly bytes: number;
  /** The tracks recorded. */
  readonly tracks: readonly RecordedTrack[];
  /** ISO time the recording started. */
  readonly startedAt: string;
  /** ISO time it ended (completed or, for interrupted ones, the file's last write). */
  readonly endedAt?: string;
  /** Its state. */
  readonly state: RecordingState;
  /** Capture time (µs since the Unix epoch) of the WAV's first sample, once known. */
  readonly originMicros?: number;
}

/**
 * Writes a sidecar atomically: readers see the old or the new one, never half of one.
 *
 * @example
 * ```ts
 * import { writeSidecar } from "./metadata.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSidecar(`${dir}/CA1.json`, {
 *   sid: "CA1", path: `${dir}/CA1.wav`, sampleRate: 16000, channels: 2, duration: 0, bytes: 0,
 *   tracks: [], startedAt: new Date().toISOString(), state: "recording",
 * });
 * ```
 */
export async function writeSidecar(path: string, meta: RecordingMetadata): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(meta, null, 2) + "\n");
  await Deno.rename(temporary, path);
}

/**
 * Reads a sidecar, or `undefined` when it is missing or not a recording's metadata.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readSidecar } from "./metadata.ts";
 * assertEquals(await readSidecar("/nonexistent.json"), undefined);
 * ```
 */
export async function readSidecar(path: string): Promise<RecordingMetadata | undefined> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(path));
    if (typeof meta?.sid !== "string" || typeof meta?.path !== "string") return undefined;
    return meta as RecordingMetadata;
  } catch {
    return undefined;
  }
}

/**
 * A recording's metadata with `bytes` and `duration` measured from its WAV now (a live
 * recording grows between sidecar writes).
 */
async function measured(meta: RecordingMetadata): Promise<RecordingMetadata> {
  try {
    const { size } = await Deno.stat(meta.path);
    const frame = 2 * meta.channels;
    const bytes = Math.max(0, Math.floor((size - WAV_HEADER_BYTES) / frame) * frame);
    return { ...meta, bytes, duration: bytes / (frame * meta.sampleRate) };
  } catch {
    return meta;
  }
}

/**
 * Every recording in a recordings folder, oldest first. A missing folder has none.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallRecording } from "./call_recording.ts";
 * import { listRecordings } from "./metadata.ts";
 * const dir = await Deno.makeTempDir();
 * assertEquals(await listRecordings(`${dir}/missing`), []);
 * const call = await CallRecording.open({ dir, sid: "CA1", sampleRate: 8000 });
 * call.addTrack({ name: "uplink", capability: "voice/g711_ulaw", timestamps: "capture" });
 * call.write(0, 8000 * 1_700_000_000, new Int16Array(160));
 * await call.finish();
 * assertEquals((await listRecordings(dir)).map((r) => r.sid), ["CA1"]);
 * ```
 */
export async function listRecordings(dir: string): Promise<RecordingMetadata[]> {
  const out: RecordingMetadata[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const meta = await readSidecar(join(dir, entry.name));
      if (meta) out.push(await measured(meta));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/**
 * The recording of `sid` (its first, `<sid>.json`), or `undefined`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { CallRecording } from "./call_recording.ts";
 * import { readRecording } from "./metadata.ts";
 * const dir = await Deno.makeTempDir();
 * const call = await CallRecording.open({ dir, sid: "CA1", sampleRate: 8000 });
 * call.addTrack({ name: "uplink", capability: "voice/g711_ulaw", timestamps: "capture" });
 * call.write(0, 8000 * 1_700_000_000, new Int16Array(160));
 * await call.finish();
 * assertEquals((await readRecording(dir, "CA1"))?.bytes, 640);
 * assertEquals(await readRecording(dir, "CA2"), undefined);
 * assertEquals(await readRecording(dir, "../etc/passwd"), undefined); // not a sid
 * ```
 */
export async function readRecording(
  dir: string,
  sid: string,
): Promise<RecordingMetadata | undefined> {
  if (basename(sid) !== sid || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(sid)) return undefined;
  const meta = await readSidecar(join(dir, `${sid}.json`));
  return meta && await measured(meta);
}

/**
 * The metadata as the HTTP API shows it: file paths relative to the recordings folder
 * (`CA1.wav`), never the server's absolute paths.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { publicRecording } from "./metadata.ts";
 * const meta = publicRecording({
 *   sid: "CA1", path: "/data/recordings/CA1.wav", sampleRate: 16000, channels: 2,
 *   duration: 0, bytes: 0, tracks: [], startedAt: new Date().toISOString(), state: "recording",
 * });
 * assertEquals(meta.path, "CA1.wav");
 * ```
 */
export function publicRecording(meta: RecordingMetadata): RecordingMetadata {
  return {
    ...meta,
    path: basename(meta.path),
    tracks: meta.tracks.map((track) =>
      track.ogg === undefined ? track : { ...track, ogg: basename(track.ogg) }
    ),
  };
}
