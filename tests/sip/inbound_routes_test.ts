import { assert, assertEquals } from "@std/assert";
import type { Call } from "../../src/calls/call.ts";
import { definePlugin, PluginHost } from "../../src/plugins/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import {
  callerArgs,
  type Fixture,
  haveSipp,
  readCallTracks,
  scenario,
  sipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";
import { firstLine, rawInvite, rawPeer } from "./_raw_peer.ts";

/** A real HTTP receiver on loopback that records what it was POSTed and answers `reply`. */
function webhookReceiver(reply: (body: Record<string, unknown>) => Response | Promise<Response>) {
  const received: Record<string, unknown>[] = [];
  const hang = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    received.push(body);
    return await reply(body);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/inbound`,
    received,
    /** A reply that never comes (until the receiver closes). */
    never: () => hang.promise.then(() => new Response("late")),
    async [Symbol.asyncDispose]() {
      hang.resolve();
      await server.shutdown();
    },
  };
}

function callSipp(fx: Fixture, scenarioArgs: string[], timeoutMs = 30_000) {
  return sipp(callerArgs(fx.port, [...scenarioArgs], 0), timeoutMs);
}

function ended(fx: Fixture): Promise<Call> {
  return fx.waitFor(() => {
    const e = fx.events.find((e) =>
      e.type === "status" && ["completed", "failed", "no_answer"].includes(e.call.status)
    );
    return e?.type === "status" ? e.call : undefined;
  });
}

Deno.test("inbound webhook: the call (sid, from, to) is POSTed and a reject answer gets the caller that SIP status; the call fails as rejected", async () => {
  if (!haveSipp()) return;
  await using hook = webhookReceiver(() => Response.json({ action: "reject", status: 486 }));
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { webhook: hook.url } }] },
  });
  const result = await callSipp(fx, ["-sf", scenario("uac_rejected.xml")]);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await ended(fx);
  assertEquals(call.status, "failed");
  assertEquals(call.endReason, "rejected");
  assertEquals(call.sipStatus, 486);
  assertEquals(hook.received.length, 1);
  const [body] = hook.received;
  assertEquals(body.type, "inbound");
  assertEquals(body.sid, call.sid);
  assertEquals(body.from, "+14155550100");
  assertEquals(body.to, "+14155550199");
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("inbound webhook: a webhook that does not answer in time gets the caller 480 and the call fails with gateway_error", async () => {
  if (!haveSipp()) return;
  await using hook = webhookReceiver(() => hook.never());
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { webhook: hook.url } }], webhookTimeoutMs: 200 },
  });
  const result = await callSipp(fx, ["-sf", scenario("uac_rejected.xml")]);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await ended(fx);
  assertEquals(call.status, "failed");
  assertEquals(call.endReason, "gateway_error");
  assertEquals(call.sipStatus, 480);
});

Deno.test("inbound webhook: an HTTP error or an answer outside the schema gets the caller 500 and the call fails with gateway_error", async () => {
  if (!haveSipp()) return;
  for (
    const reply of [
      () => new Response("boom", { status: 502 }),
      () => Response.json({ action: "dance" }),
      () => new Response("not json", { headers: { "content-type": "application/json" } }),
    ]
  ) {
    await using hook = webhookReceiver(reply);
    await using fx = await startGateway({
      sip: { inbound: [{ match: "*", action: { webhook: hook.url } }] },
    });
    const result = await callSipp(fx, ["-sf", scenario("uac_rejected.xml")]);
    assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
    const call = await ended(fx);
    assertEquals([call.status, call.endReason, call.sipStatus], ["failed", "gateway_error", 500]);
  }
});

Deno.test("inbound webhook: an answer instruction answers the call, which stays on the RTP path publishing its uplink with no bridge attached", async () => {
  if (!haveSipp()) return;
  await using hook = webhookReceiver(() => Response.json({ action: "answer" }));
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { webhook: hook.url } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", vad: true }),
  });
  let uplinkObjects = 0;
  using _route = readCallTracks(fx, ["uplink"], () => uplinkObjects++);
  const result = await callSipp(fx, ["-sf", scenario("uac_pcap_short.xml")], 60_000);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await ended(fx);
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assert(uplinkObjects > 10, `uplink objects: ${uplinkObjects}`);
});

Deno.test("inbound plugin route: the call is answered and a plugin's ctx.route(\"voice/*\") receives the call's uplink audio", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { plugin: "uplink-counter" } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const counted = new Map<string, number>();
  const uplinkCounter = definePlugin({
    name: "uplink-counter",
    setup(ctx) {
      ctx.route("voice/*", async (track) => {
        const key = [...track.info.namespace, track.info.name].join("/");
        for (let group; (group = await track.nextGroup());) {
          while (await group.readObject()) counted.set(key, (counted.get(key) ?? 0) + 1);
        }
      });
    },
  });
  const log = createLogger({ level: "error", json: true, sink: () => {} });
  await using host = new PluginHost({ origin: fx.origin, log, dataDir: "/tmp" });
  assertEquals((await host.start(uplinkCounter, {})).state, "running");
  const result = await callSipp(fx, ["-sf", scenario("uac_pcap_short.xml")], 60_000);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await ended(fx);
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  const uplink = counted.get(`voice/${call.sid}/uplink`) ?? 0;
  assert(uplink > 10, `plugin saw ${uplink} uplink objects (${[...counted.keys()]})`);
});

Deno.test("inbound agent route: the call is answered, handed to the agent (transfer event) and its uplink is published", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { agent: "support" } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  let uplinkObjects = 0;
  using _route = readCallTracks(fx, ["uplink"], () => uplinkObjects++);
  const result = await callSipp(fx, ["-sf", scenario("uac_pcap_short.xml")], 60_000);
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await ended(fx);
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  const transfer = fx.events.find((e) => e.type === "transfer" && e.sid === call.sid);
  assertEquals(transfer?.type === "transfer" ? transfer.transfer.agent : undefined, "support");
  assert(uplinkObjects > 10, `uplink objects: ${uplinkObjects}`);
});

Deno.test("inbound to a client: the registered client is rung (the caller hears 180) and its answer picks up the call", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { client: "alice" } }] },
  });
  await fx.calls.registerClient("alice");
  const rung: string[] = [];
  const stop = fx.calls.events.onIncoming("alice", (event) => {
    if (event.type === "ring") rung.push(event.call.sid);
  });
  const caller = callSipp(fx, ["-sn", "uac", "-d", "500"]);
  const ringing = await waitForStatus(fx, "ringing");
  assertEquals(ringing.direction, "inbound");
  assertEquals(rung, [ringing.sid], "the client got a ring event for the inbound call");
  await fx.calls.answer(ringing.sid);
  const result = await caller;
  stop();
  assertEquals(result.code, 0, result.stdout.slice(-1500) + result.stderr);
  const call = await ended(fx);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "in_progress", "completed"]);
});

Deno.test("RTP inactivity: a caller that sends no RTP is hung up (BYE) and the call ends media_timeout", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { plugin: "listener" } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", inactivityTimeoutMs: 500 }),
  });
  // sipp's built-in uac sends no RTP and would hang up only after 10 s.
  const caller = callSipp(fx, ["-sn", "uac", "-d", "10000"], 30_000);
  const call = await ended(fx);
  assertEquals([call.status, call.endReason], ["completed", "media_timeout"]);
  await caller; // sipp fails its call: our BYE came during its pause (that is the point)
});

Deno.test("inbound to a client nobody registered: the caller gets 480 Temporarily Unavailable (not 487, which means canceled) and the call fails client_not_registered", async () => {
  using peer = rawPeer();
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { client: "nobody" } }] },
  });
  const invite = rawInvite(fx.port, peer.port);
  await peer.send(invite.text, { transport: "udp", hostname: "127.0.0.1", port: fx.port });
  await peer.waitFor(
    (all) => all.some((d) => /^SIP\/2\.0 [3-6]/.test(d.text)),
    "a final response",
  );
  const final = peer.received.find((d) => /^SIP\/2\.0 [3-6]/.test(d.text))!;
  assertEquals(firstLine(final).slice(0, 11), "SIP/2.0 480");
  const call = await ended(fx);
  assertEquals([call.status, call.endReason], ["failed", "client_not_registered"]);
});
