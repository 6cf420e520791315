/**
 * The softphone on a 2-shard server (`relay.shards: 2`): real headless Chromium, two pages
 * calling each other, the call placed on the Worker shard. Each page connects to the shard
 * that owns the call (the placement API), so the call's audio crosses no shard; so does the
 * operators' `/calls` page, whose live view watches both of the call's tracks.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import {
  dialAndAnswer,
  explained,
  haveChromium,
  launchChromium,
  openPage,
  openPhones,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";

Deno.test("shards=2: two softphones in a call placed on the Worker shard both connect to it, audio both ways, the operators' /calls page watches both tracks there, no object crosses shards", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer({}, undefined, { relay: { shards: 2 } });
  // least_loaded: this sid takes shard 0, so the next call (the pages') goes to shard 1.
  const first = await (await fx.fetch("/v1/relay/placement/CAfirstOnShard0")).json();
  assertEquals(first.shard, 0);
  await using browser = await launchChromium();
  const [alice, bob] = await openPhones(browser, fx.url, fx.token, ["alice", "bob"]);
  await explained({ alice, bob }, async () => {
    await dialAndAnswer(alice, bob, "bob");
    await waitForPlayed(alice, 1000);
    await waitForPlayed(bob, 1000);
    const sid = await alice.getByTestId("sid").innerText();
    // The operators' live view sees frames on both of the call's tracks.
    const ops = await openPage(browser, `${fx.url}/calls?token=${encodeURIComponent(fx.token)}`);
    await explained({ ops }, () =>
      ops.waitForFunction(
        `(() => { const el = document.querySelector('[data-testid="call-${sid}"]');
          return Number(el?.dataset.uplinkFrames) > 0 && Number(el?.dataset.downlinkFrames) > 0;
        })()`,
        undefined,
        { timeout: 30_000 },
      ));
    const placed = await (await fx.fetch(`/v1/relay/placement/${sid}`)).json();
    assertEquals(placed.shard, 1, "the call is on the Worker shard");
    const stats = await (await fx.fetch("/v1/relay/stats")).json();
    assertEquals(stats.crossShardObjects, 0, "the pages' audio never crossed shards");
    const shards = (await (await fx.fetch("/v1/relay/shards")).json()).shards;
    assert(shards[1].sessions >= 3, `both phones and /calls on shard 1: ${JSON.stringify(shards)}`);
    for (const { index, cross } of shards) {
      const crossed = cross.pulledTracks + cross.pushedTracks + cross.objectsIn + cross.objectsOut;
      assertEquals(crossed, 0, `shard ${index} moved nothing across: ${JSON.stringify(cross)}`);
    }
    await alice.getByTestId("hangup").click();
    await waitForStatus(bob, "completed");
  });
});
