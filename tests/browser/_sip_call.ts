/**
 * The SIP-into-browser set-up shared by the softphone's SIP tests: a server whose inbound
 * route rings the client `alice`, and a sipp call (PCMA, RTP echo, held 30 s) that the page
 * answers.
 *
 * @module
 */
import type { Page } from "playwright-core";
import { callerArgs, scenario, spawnSipp } from "../sip/_harness.ts";
import { startServerWithConfig, waitForMessage, waitForStatus } from "./_browser.ts";

/**
 * A server whose inbound route rings the client `alice`, with SIP on a port it binds itself
 * (0: a port probed free here could be taken by a test beside this one before the server binds
 * it); `sipPort` is the one it bound.
 */
export async function startSipToAliceServer() {
  const fx = await startServerWithConfig({
    sip: {
      listen: { host: "127.0.0.1", port: 0 },
      publicAddress: "127.0.0.1",
      trunks: [{ name: "loop", address: "127.0.0.1:5999", allowFrom: ["127.0.0.1"] }],
      inbound: [{ match: "*", action: { client: "alice" } }],
    },
  });
  return Object.assign(fx, { sipPort: fx.server.sipPort! });
}

/**
 * Once the page is registered as alice, sipp calls in (its RTP echoes what it receives, and
 * it holds the call 30 s after the answer); the page answers and the call is in progress.
 * Returns sipp (dispose it to wait for its end) and the call's sid.
 */
export async function answerSippCall(page: Page, sipPort: number) {
  await page.locator("body[data-registered=alice]").waitFor();
  const peer = spawnSipp(
    callerArgs(
      sipPort,
      ["-sf", scenario("uac_echo.xml"), "-d", "30000", "-rtp_echo"],
    ),
  );
  await waitForStatus(page, "ringing");
  await waitForMessage(page, /Incoming call from/);
  await page.getByTestId("answer").click();
  await waitForStatus(page, "in_progress");
  const sid = await page.getByTestId("sid").innerText();
  return { peer, sid };
}
