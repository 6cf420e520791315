import { assert, assertEquals } from "@std/assert";
import { readFixtureWav } from "../_lib/fixtures.ts";
import { haveSipp } from "../sip/_harness.ts";
import { answerSippCall, startSipToAliceServer } from "./_sip_call.ts";
import { windowedCorrelation } from "./_audio.ts";
import {
  haveChromium,
  launchChromium,
  openPage,
  softphoneUrl,
  takePlayed,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";

Deno.test("sipp calls in through the gateway, the route rings the browser, it answers: the page's Opus reaches sipp as G.711 and sipp's RTP echo plays back in the page (r ≥ 0.8)", async () => {
  if (!haveChromium() || !haveSipp()) return;
  await using fx = await startSipToAliceServer();
  await using browser = await launchChromium();
  const page = await openPage(
    browser,
    softphoneUrl(fx.url, fx.token, {
      identity: "alice",
      capture: "1",
      processing: "0",
      targetDelayMs: "120",
      maxDelayMs: "600",
    }),
  );
  try {
    // sipp (PCMA, RTP echo on its media port) holds the call for 30 s after the answer.
    const { peer: sipp, sid } = await answerSippCall(page, fx.sipPort);
    await using peer = sipp;
    // The uplink the page plays is the SIP leg's: G.711 A-law, as sipp sent it.
    const call = await (await fetch(`${fx.url}/v1/calls/${sid}`, {
      headers: { authorization: `Bearer ${fx.token}` },
    })).json();
    assertEquals(call.direction, "inbound");
    // 12 s played; the last 5 s are compared (the start is the legs settling).
    await waitForPlayed(page, 12_000, 60_000);
    const played = await takePlayed(page);
    assertEquals(played.rate, 8000, "the page plays the SIP leg's 8 kHz G.711");
    // What came back through sipp is the page's microphone: the file, after Opus → A-law →
    // sipp's echo → A-law → the page.
    // (The 8 kHz fixture is the same speech, resampled properly: the gateway's resampler
    // band-limits the same way.)
    const file = readFixtureWav("speech-8k.wav");
    const reference = new Float64Array(file.samples.length * 3);
    for (let i = 0; i < reference.length; i++) {
      reference[i] = file.samples[i % file.samples.length] / 32768;
    }
    const tail = Float64Array.from(played.samples.subarray(played.samples.length - 8000 * 5));
    const vsFile = windowedCorrelation(tail, reference, () => [0, reference.length - 4000]);
    console.log(
      `sip echo: r(file)=${vsFile.r.toFixed(3)} over ${vsFile.windows} windows; stats ${
        JSON.stringify(
          await page.evaluate(() =>
            (globalThis as unknown as { softphone: { mediaStats: unknown } }).softphone.mediaStats
          ),
        )
      }`,
    );
    assert(vsFile.r >= 0.8, `sipp's echo of the page's audio vs the file: r = ${vsFile.r}`);
    await page.getByTestId("hangup").click();
    await waitForStatus(page, "completed");
    await peer[Symbol.asyncDispose]();
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  }
});
