import { assert, assertEquals } from "@std/assert";
import type { BrowserContext } from "playwright-core";
import { type ServerFixture, startServer } from "../calls/_server.ts";
import {
  explained,
  haveChromium,
  launchChromium,
  openPage,
  type SoftphonePage,
  softphoneUrl,
  startEcho,
  waitForMessage,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";
import { type UdpPath, udpPath } from "./_udp_path.ts";

/**
 * The scene of a network change: a softphone page in Chromium on a call to the echo client
 * with its QUIC flowing through a UDP path the test can change, the echo already playing.
 * `change` changes the network; afterwards the call must still be the same one, in progress,
 * and it hangs up cleanly.
 */
async function echoCallThroughPath(
  change: (scene: {
    fx: ServerFixture;
    path: UdpPath;
    context: BrowserContext;
    page: Awaited<ReturnType<typeof openPage>>;
  }) => Promise<void>,
): Promise<void> {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using echo = await startEcho(fx);
  using path = udpPath({ transport: "udp", hostname: "127.0.0.1", port: fx.server.moqPort });
  await using browser = await launchChromium();
  const context = await browser.newContext();
  const page = await openPage(
    context,
    softphoneUrl(fx.url, fx.token, { relayUrl: `https://127.0.0.1:${path.port}/moq` }),
  );
  await explained({ page }, async () => {
    await page.getByTestId("to").fill("client:echo");
    await page.getByTestId("call").click();
    await waitForStatus(page, "in_progress");
    await waitForPlayed(page, 500, 60_000);
    await change({ fx, path, context, page });
    assertEquals(await page.getByTestId("status").innerText(), "in_progress");
    assertEquals(echo.answered.length, 1, "the same call, not a new one");
    await page.getByTestId("hangup").click();
    await waitForStatus(page, "completed");
  });
}

Deno.test("a network change mid-call (the relay sees the browser at a new address, the old path is gone, the page is told online): the call and its audio go on", async () => {
  await echoCallThroughPath(async ({ path, context, page }) => {
    const before = await page.evaluate(() =>
      (globalThis as unknown as SoftphonePage).softphone.mediaStats!.player!.playedMs
    );

    // The network changes: every datagram from now on leaves from a new address, nothing
    // comes back on the old one, and the page gets the events a real change fires.
    path.changeNetwork();
    await context.setOffline(true);
    await context.setOffline(false);

    // A second of the echo plays after the change: both directions crossed the new path.
    await waitForPlayed(page, before + 1000, 90_000);
    const [old, now] = path.generations;
    console.log(
      `before the change: ${old.toRelay} datagrams to the relay, ${old.fromRelay} back; ` +
        `after: ${now.toRelay} to, ${now.fromRelay} back`,
    );
    assert(now.toRelay > 0 && now.fromRelay > 0, "the audio crossed the new path both ways");
    const said = await page.evaluate(() => (globalThis as unknown as SoftphonePage).softphoneLog);
    console.log(`the page said: ${said.join(" | ")}`);
  });
});

/** The relay's JSON log entries from `since` on. */
function entries(logs: string[], since = 0): Record<string, unknown>[] {
  return logs.slice(since).map((line) => JSON.parse(line));
}

Deno.test("a network change that kills the path mid-call (nothing gets through on the old flow, new flows pass): the page reconnects on a new connection, which takes its track over from the dead session while that session is still open, and the same call's audio plays again", async () => {
  await echoCallThroughPath(async ({ fx, path, context, page }) => {
    const cut = fx.logs.length;
    path.cutOldFlows();
    await context.setOffline(true);
    await context.setOffline(false);
    const started = performance.now();
    // No far-end audio after the change: the page drops the dead connection and re-attaches
    // on a new one. The relay still holds the dead session (it can only time out), and the
    // new session's PUBLISH of the page's uplink takes the track over from it.
    await waitForMessage(page, /Audio interrupted/, 120_000);
    await waitForMessage(page, /Audio reconnected/, 120_000);
    const played = await page.evaluate(() =>
      (globalThis as unknown as SoftphonePage).softphone.mediaStats?.player?.playedMs ?? 0
    );
    await waitForPlayed(page, played + 1000, 60_000);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    // Signal order, read at the moment the echo of the new uplink has played for a second:
    // the dead session handed the uplink over (its own log line, written only while it is
    // open) and has not ended yet — the audio came back before its idle timeout.
    const since = entries(fx.logs, cut);
    const takeover = since.find((e) => e.msg === "Publication taken over by a newer publisher");
    assert(takeover, "the dead session's uplink was taken over by the new session");
    const dead = takeover.remote;
    const ended = since.filter((e) => e.msg === "MoQT session closed" && e.remote === dead);
    assertEquals(ended, [], "the dead session was still open when the audio was back");
    const said = await page.evaluate(() => (globalThis as unknown as SoftphonePage).softphoneLog);
    console.log(
      `audio again ${seconds} s after the path died, the dead session (${dead}) still open; ` +
        `the page said: ${[...new Set(said)].join(" | ")}`,
    );
    assert(
      !said.some((line) => line.includes("already published")),
      "the re-PUBLISH was never refused",
    );
    const [, now] = path.generations;
    assert(now.toRelay > 0 && now.fromRelay > 0, "the new connection crossed the new flow");
  });
});
