/**
 * A recording's audio as an HTTP answer: the stereo WAV the recorder writes for a call
 * (`<recordings>/<sid>.wav`, named by its sidecar), streamed from the file as it is now (a
 * live recording is read up to its current end).
 *
 * @module
 */
import { basename, join } from "node:path";
import { readRecording } from "./metadata.ts";

/**
 * The WAV of `sid`'s recording in `dir` as a `200 audio/wav` response, or undefined when this
 * folder has no such recording (an unknown or malformed sid, a missing file).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { recordingAudioResponse } from "./audio_response.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/CA1.json`, JSON.stringify({ sid: "CA1", path: `${dir}/CA1.wav` }));
 * await Deno.writeFile(`${dir}/CA1.wav`, new Uint8Array(44));
 * const response = await recordingAudioResponse(dir, "CA1");
 * assertEquals([response?.status, (await response?.bytes())?.length], [200, 44]);
 * assertEquals(await recordingAudioResponse(dir, "CA2"), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function recordingAudioResponse(
  dir: string,
  sid: string,
): Promise<Response | undefined> {
  const meta = await readRecording(dir, sid);
  if (!meta) return undefined;
  let file: Deno.FsFile;
  try {
    // The sidecar names the file; it is always read from this folder.
    file = await Deno.open(join(dir, basename(meta.path)), { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  // No content-length: a live recording grows while it is read.
  return new Response(file.readable, {
    status: 200,
    headers: {
      "content-type": "audio/wav",
      "content-disposition": `attachment; filename="${basename(meta.path)}"`,
    },
  });
}
