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

Deno.test("session refresh: in-dialog UPDATEs get 200 — an offer's direction change (hold, resume) is answered and applied like a re-INVITE's, an offerless refresh gets 200 echoing Session-Expires", async () => {
  if (!haveSipp()) return;
  const media: string[] = [];
  await using fx = await startGateway({ media: () => recordingMedia(media) });
  const result = await sipp(callerArgs(fx.port, ["-sf", scenario("uac_update.xml")]), 30_000);
  // sipp exits non-zero when any `check_it` regexp on our answers failed.
  assertEquals(result.code, 0, result.stdout.slice(-3000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(media, ["start sendrecv", "update recvonly", "update sendrecv"]);
  assertEquals(fx.gateway.activeLegs, 0);
});
