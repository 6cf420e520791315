import { assertEquals } from "@std/assert";
import {
  callerArgs,
  haveSipp,
  recordingMedia,
  scenario,
  sipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

Deno.test("in-dialog: hold and resume re-INVITEs get the right SDP answers (sendonly→recvonly, inactive, c=0.0.0.0→recvonly, sendrecv) and reach the media; an offerless refresh and an in-dialog OPTIONS get 200", async () => {
  if (!haveSipp()) return;
  const media: string[] = [];
  await using fx = await startGateway({ media: () => recordingMedia(media, true) });
  const result = await sipp(callerArgs(fx.port, ["-sf", scenario("uac_hold.xml")]), 30_000);
  // sipp exits non-zero when any `check_it` regexp on our answers failed.
  assertEquals(result.code, 0, result.stdout.slice(-3000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
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
