import { assertEquals } from "@std/assert";
import { haveSipp, sipp, startGateway } from "./_harness.ts";

Deno.test("inbound: a sipp call from the trunk becomes an inbound call that walks to in_progress and completes on BYE", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway();
  const result = await sipp([
    "-sn",
    "uac",
    "-s",
    "+14155550199",
    "-m",
    "1",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    `127.0.0.1:${fx.port}`,
  ]);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status" && e.call.status === "completed");
    return e?.type === "status" ? e.call : undefined;
  });
  assertEquals(call.direction, "inbound");
  assertEquals(call.to, "+14155550199");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(fx.gateway.activeLegs, 0);
});
