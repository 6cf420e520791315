/**
 * Records one voice track into its call: decodes each object to PCM16 at the call's rate
 * (one stateful transcoder per track, which conceals undecodable frames), places the
 * samples on the call's timeline by the object's capture timestamp (or its arrival time
 * when the track carries none), and copies Opus packets untouched into an Ogg file.
 *
 * @module
 */
import { createTranscoder, type Transcoder } from "../../codecs/transcoder.ts";
import type { ResamplerRate } from "../../codecs/resampler.ts";
import { pcm16FromBytes } from "../../codecs/pcm16.ts";
import type { MoqObject, TrackConsumer } from "../../relay/model/mod.ts";
import { nowMicros, trackFormatOf } from "../../voice/track.ts";
import type { CallRecording, TrackEntry } from "./call_recording.ts";
import type { OggOpusFile } from "./ogg_opus_file.ts";

/**
 * Options of {@linkcode recordTrack}.
 *
 * @example
 * ```ts
 * import type { TrackRecorderOptions } from "./track_recorder.ts";
 * const options: TrackRecorderOptions = { maxGapMs: 60_000 };
 * ```
 */
export interface TrackRecorderOptions {
  /** An Ogg Opus file to copy the packets into (Opus tracks only). */
  readonly ogg?: OggOpusFile;
  /**
   * The longest jump a timestamp may make, in ms (default 600000): a larger one is taken
   * as a bogus timestamp and the frame goes right after the previous one.
   */
  readonly maxGapMs?: number;
  /** Called when the track is set up, with its live counters. */
  readonly onEntry?: (entry: TrackEntry) => void;
}

/** Drift between a frame's timestamp and the write position tolerated before re-syncing. */
const CAPTURE_TOLERANCE_MS = 60;
/** Arrival times jitter more than capture times. */
const ARRIVAL_TOLERANCE_MS = 120;

/**
 * Reads `track` to its end into `call`. Resolves when the track ended, was closed or
 * aborted; bad payloads and bad timestamps cost audio, never an exception. Rejects only
 * on errors of the recorder itself (e.g. the disk).
 *
 * @throws {RangeError} when the track's capability names no voice codec.
 *
 * @example
 * ```ts ignore
 * import { recordTrack } from "./track_recorder.ts";
 * ctx.route("voice/*", (track) => recordTrack(track, call));
 * ```
 */
export async function recordTrack(
  track: TrackConsumer,
  call: CallRecording,
  options: TrackRecorderOptions = {},
): Promise<TrackEntry> {
  const { ogg, maxGapMs = 600_000 } = options;
  const format = trackFormatOf(track.info.capability);
  if (!format) {
    throw new RangeError(
      `Cannot record track: capability "${track.info.capability}" names no voice codec`,
    );
  }
  const rate = call.sampleRate;
  using transcoder: Transcoder = await createTranscoder({
    from: format,
    to: { codec: "pcm16", sampleRate: rate as ResamplerRate, channels: 1, frameMs: 20 },
  });
  let entry: TrackEntry | undefined;
  let head: number | undefined; // absolute sample position of the next write
  let firstOggMicros: number | undefined;
  const maxGap = maxGapMs * rate / 1000;

  const place = (object: MoqObject): void => {
    const capture = object.timestamp;
    if (!entry) {
      entry = call.addTrack({
        name: track.info.name,
        capability: track.info.capability ?? "",
        timestamps: capture === undefined ? "arrival" : "capture",
        ...(ogg ? { ogg: ogg.path } : {}),
      });
      options.onEntry?.(entry);
    }
    entry.objects++;
    const micros = entry.timestamps === "capture" ? capture : nowMicros();
    const tolerance =
      (entry.timestamps === "capture" ? CAPTURE_TOLERANCE_MS : ARRIVAL_TOLERANCE_MS) *
      rate / 1000;
    if (micros !== undefined) {
      const target = Math.round(micros * rate / 1_000_000);
      if (head === undefined) head = target;
      else if (Math.abs(target - head) > maxGap) entry.badTimestamps++;
      else if (Math.abs(target - head) > tolerance) head = target; // a gap: silence
    }
    head ??= Math.round(nowMicros() * rate / 1_000_000);

    if (ogg && micros !== undefined) {
      firstOggMicros ??= micros;
      const gap = Math.round((micros - firstOggMicros) * 48 / 1000) - ogg.samples;
      if (gap > 3 * 960 && gap <= maxGapMs * 48) ogg.pushGap(gap);
    }
    if (ogg) ogg.push(object.payload);

    const concealedBefore = transcoder.stats.concealed;
    for (const chunk of transcoder.transcode(object.payload)) {
      const pcm = pcm16FromBytes(chunk);
      const late = call.write(entry.channel, head, pcm);
      if (late < 0) entry.badTimestamps++;
      head += pcm.length;
    }
    entry.concealed += transcoder.stats.concealed - concealedBefore;
  };

  try {
    for (;;) {
      const group = await track.nextGroup();
      if (!group) break;
      for (;;) {
        let object: MoqObject | undefined;
        try {
          object = await group.readObject();
        } catch {
          break; // a group aborted mid-way: keep what came, go on with the next group
        }
        if (!object) break;
        place(object);
      }
    }
  } catch {
    // The track was aborted: it ends here.
  } finally {
    track.close();
  }
  entry ??= call.addTrack({
    name: track.info.name,
    capability: track.info.capability ?? "",
    timestamps: "capture",
  });
  entry.ended = true;
  return entry;
}
