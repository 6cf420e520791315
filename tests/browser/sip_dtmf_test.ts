import { assertEquals } from "@std/assert";
import { haveSipp } from "../sip/_harness.ts";
import { answerSippCall, startSipToAliceServer } from "./_sip_call.ts";
import { readSse } from "../../src/sdk/mod.ts";
import type { CallEvent } from "../../src/calls/events.ts";
import { haveChromium, launchChromium, openPage, softphoneUrl, waitForStatus } from "./_browser.ts";

/**
 * The page's DTMF buttons on a SIP call: each click posts the digit, the gateway sends it on
 * the RTP leg as RFC 4733 telephone-events to sipp, whose RTP echo sends the packets straight
 * back; the gateway's telephone-event receiver turns them into `dtmf` call events. A digit
 * seen on the call's event stream therefore left as RFC 4733 and reached sipp.
 */
Deno.test("the softphone's dtmf-* buttons on a call from sipp reach sipp as RFC 4733 telephone-events (echoed back by sipp, seen as dtmf call events)", async () => {
  if (!haveChromium() || !haveSipp()) return;
  await using fx = await startSipToAliceServer();
  await using browser = await launchChromium();
  const page = await openPage(browser, softphoneUrl(fx.url, fx.token, { identity: "alice" }));
  const abort = new AbortController();
  try {
    const { peer: sipp, sid } = await answerSippCall(page, fx.sipPort);
    await using peer = sipp;

    const events = await fetch(`${fx.url}/v1/calls/${sid}/events`, {
      headers: { authorization: `Bearer ${fx.token}` },
      signal: abort.signal,
    });
    assertEquals(events.status, 200);
    const received: string[] = [];
    const want = ["1", "*", "9", "#"];
    let arrived = Promise.withResolvers<void>();
    const seen = (async () => {
      for await (const message of readSse(events.body!)) {
        const event = JSON.parse(message.data) as CallEvent;
        if (event.type !== "dtmf") continue;
        received.push(...event.digits);
        arrived.resolve();
        if (received.length >= want.length) return;
      }
      throw new Error(`The call's events ended after dtmf ${received.join("")}`);
    })();
    // One digit at a time: each click waits for its digit to come back before the next.
    for (const [i, key] of ["1", "star", "9", "hash"].entries()) {
      await page.getByTestId(`dtmf-${key}`).click();
      while (received.length <= i) {
        await Promise.race([seen, arrived.promise]);
        arrived = Promise.withResolvers<void>();
      }
    }
    await seen;
    console.log(`dtmf from the page's buttons, back from sipp: ${received.join("")}`);
    assertEquals(received, want);
    await page.getByTestId("hangup").click();
    await waitForStatus(page, "completed");
    await peer[Symbol.asyncDispose]();
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  } finally {
    abort.abort();
  }
});
