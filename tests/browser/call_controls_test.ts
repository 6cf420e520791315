import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import type { Page } from "playwright-core";
import {
  explained,
  haveChromium,
  launchChromium,
  openPage,
  type SoftphonePage,
  softphoneUrl,
  waitForMessage,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";

/** The page's played milliseconds so far. */
function playedMs(page: Page): Promise<number> {
  return page.evaluate(() =>
    (globalThis as unknown as SoftphonePage).softphone.mediaStats?.player?.playedMs ?? 0
  );
}

/**
 * The RMS of the next `ms` of audio the page plays, after discarding everything played
 * before and `flushMs` more (what was in flight and buffered when the far end changed).
 * Waits on the page's played-audio counter, not on time.
 */
async function nextRms(page: Page, flushMs: number, ms: number): Promise<number> {
  const take = () =>
    page.evaluate(() => {
      const { samples } = (globalThis as unknown as SoftphonePage).softphone.media!.player!
        .takePlayed();
      let sum = 0;
      for (const s of samples) sum += s * s;
      return { rms: Math.sqrt(sum / Math.max(1, samples.length)), n: samples.length };
    });
  await waitForPlayed(page, (await playedMs(page)) + flushMs, 60_000);
  await take();
  await waitForPlayed(page, (await playedMs(page)) + ms, 60_000);
  return (await take()).rms;
}

Deno.test("softphone call controls in Chromium: a rejected incoming call ends and the caller's page says so; mute sends silence the far end measures, unmute restores the audio", async (t) => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using browser = await launchChromium();
  const alice = await openPage(
    await browser.newContext(),
    // Alice keeps what she plays to measure it; bob's microphone without processing (the
    // file's level as it is, no noise suppression or gain control shaping it).
    softphoneUrl(fx.url, fx.token, { identity: "alice", capture: "1" }),
  );
  const bob = await openPage(
    await browser.newContext(),
    softphoneUrl(fx.url, fx.token, { identity: "bob", processing: "0" }),
  );
  await alice.locator("body[data-registered=alice]").waitFor();
  await bob.locator("body[data-registered=bob]").waitFor();

  await t.step(
    "bob rejects alice's call: it ends, alice's page says it ended",
    () =>
      explained({ alice, bob }, async () => {
        await alice.getByTestId("to").fill("client:bob");
        await alice.getByTestId("call").click();
        await waitForStatus(bob, "ringing");
        await waitForMessage(bob, /Incoming call from client:alice/);
        await bob.getByTestId("reject").click();
        // A rejected call ends completed, with the reason canceled, in the caller's words.
        await waitForMessage(alice, /The call ended: completed \(canceled\)/);
        await waitForStatus(alice, "completed");
        assertEquals(
          await alice.evaluate(() =>
            (globalThis as unknown as SoftphonePage).softphone.state.state
          ),
          "idle",
        );
        assertEquals(
          await bob.evaluate(() => (globalThis as unknown as SoftphonePage).softphone.state.state),
          "idle",
        );
      }),
  );

  // The call after a rejected one, measured in the page. Under load (a full-suite run) this
  // step once played nothing: the capture times of bob's frames drifted seconds behind the
  // wall clock (Chromium's Opus encoder stamps by sample count, blind to the chunks the
  // browser dropped), so alice's player dropped every frame as late. See capture_test.ts.
  await t.step(
    "bob mutes: alice hears silence; bob unmutes: alice hears him again",
    () =>
      explained({ alice, bob }, async () => {
        await alice.getByTestId("call").click();
        await waitForStatus(bob, "ringing");
        // The status line follows the call's events; answering needs the ring itself, which
        // comes on the incoming-call stream (bob is idle since the rejected call).
        await bob.waitForFunction(() =>
          (globalThis as unknown as SoftphonePage).softphone.state.state === "incoming"
        );
        await bob.getByTestId("answer").click();
        await waitForStatus(alice, "in_progress");
        await waitForPlayed(alice, 1000, 60_000);

        const before = await nextRms(alice, 500, 3000);
        await bob.getByTestId("mute").click();
        await bob.locator(`[data-testid="mute"][aria-pressed="true"]`).waitFor();
        const muted = await nextRms(alice, 1000, 3000);
        await bob.getByTestId("mute").click();
        await bob.locator(`[data-testid="mute"][aria-pressed="false"]`).waitFor();
        const after = await nextRms(alice, 1000, 3000);
        const db = (x: number) => (20 * Math.log10(Math.max(x, 1e-9))).toFixed(1);
        console.log(
          `alice's played RMS: before mute ${db(before)} dBFS, muted ${db(muted)} dBFS, ` +
            `unmuted ${db(after)} dBFS`,
        );
        assert(before > 0.01, `bob is heard before muting: ${db(before)} dBFS`);
        assert(muted < before / 100, `silence while muted (40 dB down): ${db(muted)} dBFS`);
        assert(after > before / 4, `unmuting restores the audio: ${db(after)} dBFS`);
        await alice.getByTestId("hangup").click();
        await waitForStatus(bob, "completed");
      }),
  );
});
