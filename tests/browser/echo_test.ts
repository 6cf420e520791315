import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { readFixtureWav } from "../_lib/fixtures.ts";
import { decimate, decodeSamples, to8k, windowedCorrelation } from "./_audio.ts";
import {
  haveChromium,
  launchChromium,
  openPage,
  type SoftphonePage,
  startEcho,
  waitForStatus,
} from "./_browser.ts";

Deno.test("the softphone calls an echo over WebTransport/MoQT: what the page plays back is the file the microphone plays (r ≥ 0.8), mouth-to-ear latency measured", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using echo = await startEcho(fx);
  await using browser = await launchChromium({ wav: "speech-48k.wav" });
  const page = await openPage(
    browser,
    `${fx.url}/softphone?token=${encodeURIComponent(fx.token)}&identity=alice&capture=1` +
      // A deeper playout buffer than the default: the machine running the tests is shared.
      "&processing=0&targetDelayMs=150&maxDelayMs=1500",
  );
  try {
    await page.locator("body[data-registered=alice]").waitFor();
    await page.getByTestId("to").fill("client:echo");
    await page.getByTestId("call").click();
    await waitForStatus(page, "in_progress");
    // 15 s of played audio: two loops of the file after the path filled.
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as SoftphonePage).softphone.mediaStats?.player?.playedMs ?? 0) >
          15_000,
      undefined,
      { timeout: 60_000 },
    );
    const result = await page.evaluate(async () => {
      const phone = (globalThis as unknown as SoftphonePage).softphone;
      const player = phone.media!.player!;
      const played = player.takePlayed();
      const mic = (await phone.microphone!).takeCaptured();
      const b64 = (a: Float32Array) => {
        const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        let s = "";
        for (let i = 0; i < bytes.length; i += 0x8000) {
          s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        }
        return btoa(s);
      };
      return {
        played: b64(played.samples),
        playedStartUs: played.startUs,
        mic: b64(mic.samples),
        micStartUs: mic.startUs,
        micRate: mic.sampleRate,
        rate: player.sampleRate,
        stats: player.stats,
      };
    });
    assertEquals(result.rate, 48000);
    const played = decodeSamples(result.played);
    const mic = decodeSamples(result.mic);
    // Compared at 8 kHz (the speech band; keeps the lag search cheap).
    const file = readFixtureWav("speech-48k.wav");
    const fileF = Float32Array.from(file.samples, (s) => s / 32768);
    const tiled = new Float32Array(fileF.length * 3);
    for (let i = 0; i < 3; i++) tiled.set(fileF, i * fileF.length);
    const reference = decimate(tiled, 6);
    // The last 12 s played (the start is the path filling up).
    const tail = decimate(played.subarray(played.length - 48000 * 12), 6);
    const vsFile = windowedCorrelation(tail, reference, () => [0, reference.length - 4000]);
    // Mouth to ear: the microphone's PCM against what played, both stamped in epoch time;
    // the search is kept within 2 s so the file's loop cannot alias it.
    const offsetMs = (result.playedStartUs - result.micStartUs) / 1000;
    const micD = to8k(mic, result.micRate);
    const playedD = decimate(played, 6);
    // Windows of what played, looked up in the microphone's PCM 0…1.5 s earlier:
    // played[j] ~ mic[j + k] with k = lag, so the delay is offset - k / 8 ms.
    const lastPlayed = playedD.subarray(playedD.length - 8000 * 12);
    const base = playedD.length - lastPlayed.length;
    const vsMic = windowedCorrelation(lastPlayed, micD, (start) => {
      const at = base + start + offsetMs * 8; // the same instant, in mic samples
      // (±0.5 s of slack: the two clocks drift apart over the call.)
      return [Math.max(0, Math.round(at - 2000 * 8)), Math.round(at + 500 * 8)];
    });
    const mouthToEarMs = offsetMs - (vsMic.lag - base) / 8;
    console.log(
      `echo: r(file)=${vsFile.r.toFixed(3)} r(mic)=${vsMic.r.toFixed(3)} ` +
        `mouth-to-ear=${mouthToEarMs.toFixed(1)} ms (last frame's transit ${
          result.stats.transitMs.toFixed(1)
        } ms, playout buffer ${result.stats.playoutDelayMs.toFixed(1)} ms, jitter ${
          result.stats.jitterMs.toFixed(2)
        } ms, lost ${result.stats.lost}, late ${result.stats.late}, underruns ${result.stats.underruns}, dropped ${result.stats.droppedSamples}); echoed ${echo.echoed}`,
    );
    assert(vsFile.r >= 0.8, `played audio vs the file: r = ${vsFile.r}`);
    // The in-page mouth-to-ear estimate is reported, not asserted: the fake microphone's
    // PCM as the page records it drifts against the output clock (r(mic) ≈ 0.7–0.9).
    assertEquals(echo.answered.length, 1);
    await page.getByTestId("hangup").click();
    await waitForStatus(page, "completed");
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  }
});
