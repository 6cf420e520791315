/**
 * What the recorder does at start for files a crash left behind: WAV sizes made to match
 * the file length, torn Ogg pages cut off, and sidecars still saying `recording` turned
 * into `interrupted` with the measured size, duration and time of the last write.
 *
 * @module
 */
import { join } from "node:path";
import { WAV_HEADER_BYTES } from "../../codecs/wav.ts";
import type { Logger } from "../../log/mod.ts";
import { readSidecar, type RecordingMetadata, writeSidecar } from "./metadata.ts";
import { repairOggFile } from "./ogg_opus_file.ts";
import { repairWavFile } from "./wav_file.ts";

/**
 * Repairs every recording in `dir` that was not closed. Returns the sidecars it updated.
 * A file it cannot repair is logged and skipped.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { repairRecordings } from "./repair.ts";
 * const dir = await Deno.makeTempDir();
 * const repaired = await repairRecordings(dir);
 * assertEquals(repaired.length, 0);
 * ```
 */
export async function repairRecordings(dir: string, log?: Logger): Promise<RecordingMetadata[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const name of names.filter((n) => n.endsWith(".tmp"))) {
    await Deno.remove(join(dir, name)).catch(() => {}); // a sidecar write cut short
  }
  for (const name of names.filter((n) => n.endsWith(".wav"))) {
    try {
      const result = await repairWavFile(join(dir, name));
      if (result.repaired) {
        log?.warn("Repaired recording left by a crash", {
          path: result.path,
          bytes: result.dataBytes,
        });
      }
    } catch (error) {
      log?.error("Cannot repair recording", { path: join(dir, name), error });
    }
  }
  const updated: RecordingMetadata[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    const meta = await readSidecar(join(dir, name));
    if (!meta || meta.state !== "recording") continue;
    for (const track of meta.tracks) {
      if (!track.ogg) continue;
      try {
        await repairOggFile(track.ogg);
      } catch (error) {
        log?.error("Cannot repair Ogg recording", { path: track.ogg, error });
      }
    }
    let bytes = meta.bytes, endedAt = new Date().toISOString();
    try {
      const stat = await Deno.stat(meta.path);
      bytes = Math.max(0, stat.size - WAV_HEADER_BYTES);
      if (stat.mtime) endedAt = stat.mtime.toISOString();
    } catch { /* the WAV is gone: keep the sidecar's numbers */ }
    const fixed: RecordingMetadata = {
      ...meta,
      bytes,
      duration: bytes / (2 * meta.channels * meta.sampleRate),
      tracks: meta.tracks.map((t) => ({ ...t, ended: true })),
      endedAt,
      state: "interrupted",
    };
    await writeSidecar(join(dir, name), fixed);
    updated.push(fixed);
  }
  return updated;
}
