import { assertEquals } from "@std/assert";
import type { MediaLegFactory } from "../../src/sip/media.ts";
import { signallingOnlyMedia } from "../../src/sip/media.ts";
import { freeUdpPort, haveSipp, scenario, sipp, startGateway } from "./_harness.ts";

/** Wraps the signalling-only media to record what the gateway told it. */
function recordingMedia(log: string[]): MediaLegFactory {
  return async (init) => {
    const leg = await signallingOnlyMedia(init);
    return {
      ...leg,
      start(p) {
        log.push(`start ${p.direction}`);
        return leg.start(p);
      },
      update(p) {
        log.push(`update ${p.direction}`);
        return leg.update(p);
      },
    };
  };
}

Deno.test("session refresh: in-dialog UPDATEs get 200 — an offer's direction change (hold, resume) is answered and applied like a re-INVITE's, an offerless refresh gets 200 echoing Session-Expires", async () => {
  if (!haveSipp()) return;
  const media: string[] = [];
  await using fx = await startGateway({ media: () => recordingMedia(media) });
  const result = await sipp([
    "-sf",
    scenario("uac_update.xml"),
    "-s",
    "+14155550199",
    "-m",
    "1",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    "-mp",
    String(freeUdpPort()),
    `127.0.0.1:${fx.port}`,
  ], 30_000);
  // sipp exits non-zero when any `check_it` regexp on our answers failed.
  assertEquals(result.code, 0, result.stdout.slice(-3000) + result.stderr);
  const call = await fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status" && e.call.status === "completed");
    return e?.type === "status" ? e.call : undefined;
  });
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(media, ["start sendrecv", "update recvonly", "update sendrecv"]);
  assertEquals(fx.gateway.activeLegs, 0);
});
