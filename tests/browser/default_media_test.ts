import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { TrackError } from "../../src/relay/model/mod.ts";
import { Voice } from "../../src/sdk/mod.ts";
import { haveChromium, launchChromium, openPage } from "./_browser.ts";

Deno.test("attachCaller({ sid }) alone, in a page opened with ?token=, connects from the page's origin, publishes the microphone on the uplink and plays the downlink", async () => {
  await attachCallerAlone(1);
});

Deno.test("shards=2: attachCaller({ sid }) alone connects to the Worker shard that owns the call; no object crosses shards", async () => {
  await attachCallerAlone(2);
});

async function attachCallerAlone(shards: number): Promise<void> {
  if (!haveChromium()) return;
  await using fx = await startServer({}, undefined, { relay: { shards } });
  // least_loaded: with 2 shards this sid takes shard 0, so the call below goes to shard 1.
  if (shards > 1) await fx.fetch("/v1/relay/placement/CAfirstOnShard0");
  const voice = new Voice({ baseUrl: fx.url, token: fx.token });
  await voice.clients.add("page");
  // A call dialed through the API to client:page: the page is the caller's side.
  await using call = await voice.calls.originate({ from: "client:far", to: "client:page" });
  const sid = call.sid;
  const placed = await (await fx.fetch(`/v1/relay/placement/${sid}`)).json();
  assertEquals(placed.shard, shards - 1);

  // The far end, in the test: loops what the page publishes on the uplink back on the downlink.
  await using moq = Object.assign(
    await MoqClient.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(placed.url).port),
      caCerts: [fx.server.certificate.certPem],
      token: fx.token,
    }),
    {
      async [Symbol.asyncDispose]() {
        moq.close();
        await moq.closed;
      },
    },
  );
  const ns = ["voice", sid];
  const downlink = await moq.publish({ namespace: ns, name: "downlink", capability: "voice/opus" });
  let received = 0;
  const looped = (async () => {
    for (;;) {
      let uplink;
      try {
        uplink = await moq.subscribe(ns, "uplink");
      } catch (error) {
        if (error instanceof TrackError && !downlink.done) continue; // not published yet
        return;
      }
      for (let group; (group = await uplink.nextGroup());) {
        const out = downlink.appendGroup(group.id);
        (async () => {
          for (let object; (object = await group.readObject());) {
            out.write(object);
            received++;
          }
          out.close();
        })().catch(() => out.close());
      }
      return;
    }
  })();

  await using browser = await launchChromium();
  // Any page of the server's origin: the token is in its URL, nothing else is configured. Not
  // the operators' /calls page: its live view subscribes to the call's tracks on the main relay.
  const page = await openPage(
    browser,
    `${fx.url}/v1/relay/certificate?token=${encodeURIComponent(fx.token)}`,
  );
  try {
    await page.evaluate(async (sid) => {
      const sdk = await import("/sdk/browser.js" as string);
      const media = await sdk.attachCaller({ sid });
      Object.assign(globalThis, { media });
    }, sid);
    // The page's frames reach the far end, and the far end's (looped) frames play in the page.
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as { media: { stats: { player?: { playedMs: number } } } })
          .media.stats.player?.playedMs ?? 0) > 1000,
      undefined,
      { timeout: 60_000 },
    );
    const sent = await page.evaluate(() =>
      (globalThis as unknown as { media: { stats: { sent: number } } }).media.stats.sent
    );
    console.log(`attachCaller({ sid }): page sent ${sent} frames, far end received ${received}`);
    assert(sent > 0 && received > 0, `frames flowed: sent ${sent}, received ${received}`);
    // The page's uplink answered the ringing call.
    await call.refresh();
    assert(call.status === "in_progress", `the call is answered: ${call.status}`);
    if (shards > 1) {
      const all = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
      for (const { index, cross } of all) {
        assertEquals(
          cross.objectsIn + cross.objectsOut,
          0,
          `shard ${index}: ${JSON.stringify(cross)}`,
        );
      }
    }
    await page.evaluate(() =>
      (globalThis as unknown as { media: { close(): Promise<void> } }).media.close()
    );
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  } finally {
    downlink.close();
    await call.hangup().catch(() => {});
  }
  await looped;
}
