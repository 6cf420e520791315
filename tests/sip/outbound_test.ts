import { assert, assertEquals } from "@std/assert";
import { freeUdpPort, haveSipp, scenario, spawnSipp, startGateway } from "./_harness.ts";

const uas = (port: number, ...args: string[]) => [
  "-i",
  "127.0.0.1",
  "-p",
  String(port),
  "-m",
  "1",
  ...args,
];

Deno.test("outbound: originate to a sipp UAS walks dialing → ringing → in_progress → completed", async () => {
  if (!haveSipp()) return;
  const port = freeUdpPort();
  await using peer = spawnSipp(uas(port, "-sn", "uas"));
  await using fx = await startGateway({ uasPort: port });
  await new Promise((r) => setTimeout(r, 300));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  // The built-in uas answers right away and the caller hangs up.
  await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "in_progress" ? c : undefined;
  });
  await fx.calls.hangup(call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  const ended = await fx.calls.get(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "in_progress", "completed"]);
});

Deno.test("outbound: a 486 from the far end fails the call as busy with the SIP status", async () => {
  if (!haveSipp()) return;
  const port = freeUdpPort();
  await using peer = spawnSipp(uas(port, "-sf", scenario("uas_busy.xml")));
  await using fx = await startGateway({ uasPort: port });
  await new Promise((r) => setTimeout(r, 300));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  const ended = await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "failed" ? c : undefined;
  });
  assertEquals([ended.endReason, ended.sipStatus], ["busy", 486]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "failed"]);
  assertEquals((await peer.done).code, 0);
});

Deno.test("outbound: a UAS that never answers gets CANCEL after the ring timeout and the call is no_answer", async () => {
  if (!haveSipp()) return;
  const port = freeUdpPort();
  await using peer = spawnSipp(uas(port, "-sf", scenario("uas_no_answer.xml")));
  await using fx = await startGateway({ uasPort: port, sip: { ringTimeoutMs: 1000 } });
  await new Promise((r) => setTimeout(r, 300));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  const ended = await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "no_answer" ? c : undefined;
  });
  assertEquals(ended.endReason, "no_answer");
  // sipp exits 0 only once it saw the CANCEL and the ACK to its 487.
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
});

Deno.test("outbound: hangup while ringing sends CANCEL and the call completes as canceled", async () => {
  if (!haveSipp()) return;
  const port = freeUdpPort();
  await using peer = spawnSipp(uas(port, "-sf", scenario("uas_no_answer.xml")));
  await using fx = await startGateway({ uasPort: port });
  await new Promise((r) => setTimeout(r, 300));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "ringing" ? c : undefined;
  });
  await fx.calls.hangup(call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  const ended = await fx.calls.get(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "canceled"]);
  assert(fx.gateway.activeLegs === 0);
});
