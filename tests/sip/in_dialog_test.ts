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
        log.push(`start ${p.direction} ${p.audio.remote.address}`);
        return leg.start(p);
      },
      update(p) {
        log.push(`update ${p.direction} ${p.audio.remote.address}`);
        return leg.update(p);
      },
    };
  };
}

Deno.test("in-dialog: hold and resume re-INVITEs get the right SDP answers (sendonly→recvonly, inactive, c=0.0.0.0→recvonly, sendrecv) and reach the media; an offerless refresh and an in-dialog OPTIONS get 200", async () => {
  if (!haveSipp()) return;
  const media: string[] = [];
  await using fx = await startGateway({ media: () => recordingMedia(media) });
  const result = await sipp([
    "-sf",
    scenario("uac_hold.xml"),
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
  assertEquals(media.slice(0, 5), [
    "start sendrecv 127.0.0.1",
    "update recvonly 127.0.0.1",
    "update inactive 127.0.0.1",
    "update recvonly 0.0.0.0",
    "update sendrecv 127.0.0.1",
  ]);
  assertEquals(fx.gateway.activeLegs, 0);
});
