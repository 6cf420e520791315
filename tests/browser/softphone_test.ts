import { assert, assertEquals, assertMatch } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import {
  haveChromium,
  launchChromium,
  openPage,
  softphoneUrl,
  waitForMessage,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";

/** Counts the plot's drawn (coloured) pixels in a PNG screenshot, decoded in the page. */
async function colouredPixels(
  page: import("playwright-core").Page,
  png: Uint8Array,
): Promise<number> {
  const b64 = btoa(String.fromCharCode(...png));
  return await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d") as unknown as {
      drawImage(image: ImageBitmap, x: number, y: number): void;
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    };
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      // Grey axes and white background have r ≈ g ≈ b; the series lines do not.
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
    return coloured;
  }, b64);
}

Deno.test("two browsers call each other by client: identity with audio both ways, the operators' /calls page shows the call live, and a hang-up ends it completed on both", async (t) => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using browser = await launchChromium();
  // Two isolated browser contexts (own profile, own microphone): two phones.
  const alice = await openPage(
    await browser.newContext(),
    softphoneUrl(fx.url, fx.token, { identity: "alice" }),
  );
  const bob = await openPage(
    await browser.newContext(),
    softphoneUrl(fx.url, fx.token, { identity: "bob" }),
  );
  try {
    await alice.locator("body[data-registered=alice]").waitFor();
    await bob.locator("body[data-registered=bob]").waitFor();

    let sid = "";
    await t.step("alice dials client:bob; bob's page rings and answers", async () => {
      await alice.getByTestId("to").fill("client:bob");
      await alice.getByTestId("call").click();
      await waitForStatus(bob, "ringing");
      await waitForMessage(bob, /Incoming call from client:alice/);
      await bob.getByTestId("answer").click();
      await waitForStatus(bob, "in_progress");
      await waitForStatus(alice, "in_progress");
      sid = await alice.getByTestId("sid").innerText();
      assertEquals(await bob.getByTestId("sid").innerText(), sid);
      // Audio both ways: each page plays the other's microphone.
      await waitForPlayed(alice, 1000);
      await waitForPlayed(bob, 1000);
    });

    await t.step(
      "the page shows the microphone getting echo cancellation, AGC and noise suppression",
      async () => {
        const settings = await alice.evaluate(async () => {
          const mic = await (globalThis as unknown as {
            softphone: {
              microphone: Promise<{ track: { getSettings(): Record<string, unknown> } }>;
            };
          }).softphone.microphone;
          return mic.track.getSettings();
        });
        assertEquals(
          [settings.echoCancellation, settings.autoGainControl, settings.noiseSuppression],
          [true, true, true],
        );
      },
    );

    await t.step("DTMF on a call without a SIP leg is refused in words", async () => {
      await alice.getByTestId("dtmf-5").click();
      await waitForMessage(alice, /digits/i);
    });

    await t.step(
      "/calls lists the live call with its sid, levels and an updating plot",
      async () => {
        const ops = await openPage(
          browser,
          `${fx.url}/calls?token=${encodeURIComponent(fx.token)}`,
        );
        const row = ops.getByTestId(`call-${sid}`);
        await row.waitFor();
        assertEquals(await row.locator("[data-field=sid]").innerText(), sid);
        assertEquals(await row.locator("[data-field=status]").innerText(), "in_progress");
        assertMatch(await row.locator("[data-field=from]").innerText(), /client:alice/);
        // The plot has been fed several samples of media statistics, with frames seen.
        await ops.waitForFunction(
          `(() => { const el = document.querySelector('[data-testid="call-${sid}"]');
            return Number(el?.dataset.plotUpdates ?? 0) >= 4 &&
              Number(el?.dataset.uplinkFrames) > 0; })()`,
          undefined,
          { timeout: 30_000 },
        );
        const png = await row.locator("[data-field=plot] canvas").screenshot();
        const coloured = await colouredPixels(ops, png);
        console.log(`/calls plot: ${coloured} coloured pixels in the screenshot`);
        assert(coloured > 100, `the plot draws series: ${coloured} coloured pixels`);
        await ops.close();
      },
    );

    await t.step("bob hangs up: both pages see completed", async () => {
      await bob.getByTestId("hangup").click();
      await waitForStatus(bob, "completed");
      await waitForStatus(alice, "completed");
    });

    await t.step(
      "the operator hangs up a second call from /calls: both see completed",
      async () => {
        const ops = await openPage(
          browser,
          `${fx.url}/calls?token=${encodeURIComponent(fx.token)}`,
        );
        await alice.getByTestId("call").click();
        await waitForStatus(bob, "ringing");
        await bob.getByTestId("answer").click();
        await waitForStatus(alice, "in_progress");
        const second = await alice.getByTestId("sid").innerText();
        assert(second !== sid);
        await ops.getByTestId(`hangup-${second}`).click();
        await waitForStatus(alice, "completed");
        await waitForStatus(bob, "completed");
        await ops.getByTestId(`call-${second}`).locator("[data-field=status]")
          .filter({ hasText: "completed" }).waitFor();
        await ops.close();
      },
    );
  } catch (error) {
    console.error("alice:\n" + alice.logs.join("\n") + "\nbob:\n" + bob.logs.join("\n"));
    throw error;
  }
});
