/**
 * Test helpers for the recorder: encode a source into voice frames, publish a call's
 * tracks with capture timestamps, wait for a recording to complete, measure channels.
 *
 * @module
 */
import { createOpusEncoder } from "../../../src/codecs/opus.ts";
import { encodeUlaw } from "../../../src/codecs/g711.ts";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { deinterleave } from "../../../src/codecs/pcm16.ts";
import type { TrackProducer } from "../../../src/relay/model/mod.ts";
import { FRAMES_PER_GROUP } from "../../../src/voice/track.ts";
import { readSidecar, type RecordingMetadata } from "../../../src/plugins/recorder/metadata.ts";

/** µ-law 20 ms frames of 8 kHz PCM. */
export function ulawFrames(pcm: Int16Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) out.push(encodeUlaw(pcm.subarray(i, i + 160)));
  return out;
}

/** Opus 20 ms packets of 48 kHz PCM. */
export function opusFrames(pcm: Int16Array): Uint8Array[] {
  using encoder = createOpusEncoder({ sampleRate: 48000, channels: 1, application: "voip" });
  const out: Uint8Array[] = [];
  for (let i = 0; i + 960 <= pcm.length; i += 960) {
    out.push(encoder.encode(pcm.subarray(i, i + 960)));
  }
  return out;
}

/**
 * Writes `frames[k]` of each track with capture time `startMicros + k·20 ms`, a group every
 * {@linkcode FRAMES_PER_GROUP} frames, `paceMs` apart (0: as fast as possible, yielding per
 * group). Returns how many frames were written when `signal` stopped it.
 */
export async function publishFrames(
  tracks: readonly { producer: TrackProducer; frames: readonly Uint8Array[] }[],
  { startMicros, paceMs = 10, signal }: {
    startMicros: number;
    paceMs?: number;
    signal?: AbortSignal;
  },
): Promise<number> {
  const longest = Math.max(...tracks.map((t) => t.frames.length));
  const groups = tracks.map(() =>
    undefined as ReturnType<TrackProducer["appendGroup"]> | undefined
  );
  let k = 0;
  for (; k < longest && !signal?.aborted; k++) {
    tracks.forEach(({ producer, frames }, t) => {
      if (k >= frames.length) return;
      if (k % FRAMES_PER_GROUP === 0) {
        groups[t]?.close();
        groups[t] = producer.appendGroup();
      }
      groups[t]!.write({
        id: k % FRAMES_PER_GROUP,
        payload: frames[k],
        timestamp: Math.round(startMicros + k * 20_000),
      });
    });
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
    else if (k % FRAMES_PER_GROUP === 0) await new Promise((r) => setTimeout(r, 0));
  }
  for (const g of groups) g?.close();
  return k;
}

/** Polls `<dir>/<name>.json` until its state is not `recording`. */
export async function waitForRecording(
  sidecar: string,
  timeoutMs = 15_000,
): Promise<RecordingMetadata> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const meta = await readSidecar(sidecar);
    if (meta && meta.state !== "recording") return meta;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Recording did not complete: ${sidecar}`);
}

/** The two channels of a stereo recording, resampled to 8 kHz for comparison with sources. */
export async function channelsAt8k(
  samples: Int16Array,
  sampleRate: number,
): Promise<[Int16Array, Int16Array]> {
  const [left, right] = deinterleave(samples, 2);
  if (sampleRate === 8000) return [left, right];
  const down = async (x: Int16Array) => {
    using r = await createResampler({ inputRate: sampleRate as 16000, outputRate: 8000 });
    return r.process(x);
  };
  return [await down(left), await down(right)];
}
