import { assertEquals } from "@std/assert";
import { recordingAudioResponse } from "../../../src/plugins/recorder/audio_response.ts";

Deno.test("a recording's WAV is answered from its folder; unknown, malformed or missing sids are not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wav = new Uint8Array(44 + 320).map((_, i) => i % 251);
    // The sidecar's absolute path may name another folder (a moved data dir): the file is
    // always read from this one.
    await Deno.writeTextFile(
      `${dir}/CA1.json`,
      JSON.stringify({ sid: "CA1", path: "/elsewhere/CA1.wav", channels: 2, sampleRate: 8000 }),
    );
    await Deno.writeFile(`${dir}/CA1.wav`, wav);
    const response = await recordingAudioResponse(dir, "CA1");
    assertEquals(response?.headers.get("content-type"), "audio/wav");
    assertEquals(await response?.bytes(), wav);
    assertEquals(await recordingAudioResponse(dir, "CA2"), undefined);
    assertEquals(await recordingAudioResponse(dir, "../CA1"), undefined);
    await Deno.writeTextFile(`${dir}/CA3.json`, JSON.stringify({ sid: "CA3", path: "CA3.wav" }));
    assertEquals(await recordingAudioResponse(dir, "CA3"), undefined); // sidecar, no file
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
