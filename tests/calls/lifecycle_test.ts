import { assert, assertEquals } from "@std/assert";
import type { CallEvent } from "../../src/sdk/mod.ts";
import { eventually, startServer } from "./_server.ts";
import { pace, waitFor } from "../_lib/wait.ts";

Deno.test("a client: call rings the client, is answered by attachCaller, carries audio both ways, and hangs up to completed with both tracks gone", async () => {
  await using fx = await startServer();
  const app = await fx.voice({ media: true }); // the originating app, attaching server-side
  const phone = await fx.voice({ media: true }); // the browser/SDK client "alice"

  const ringing = new AbortController();
  const incoming = phone.clients.register("alice", { signal: ringing.signal })[
    Symbol.asyncIterator
  ]();
  // register() posts the registration when first pulled; wait for it to land.
  const firstRing = incoming.next();
  await eventually(
    async () => (await fx.fetch("/v1/clients/alice")).ok || undefined,
    5000,
    "registration",
  );

  const call = await app.calls.originate({ from: "+14155550100", to: "client:alice" });
  assertEquals(call.status, "dialing");
  assertEquals(call.tracks, {
    uplink: `voice/${call.sid}/uplink`,
    downlink: `voice/${call.sid}/downlink`,
  });
  const events: CallEvent[] = [];
  const watching = (async () => {
    for await (const event of app.calls.events(call.sid)) events.push(event);
  })();

  const ring = await firstRing;
  assertEquals(ring.done, false);
  assertEquals(ring.value!.call.sid, call.sid);
  assertEquals((await app.calls.get(call.sid)).status, "ringing");

  // The client answers by attaching as the caller; the app attaches as the server side.
  const callerLeg = await phone.bridge.attachCaller({ sid: call.sid, codec: "g711_ulaw" });
  const answered = await eventually(
    async () => {
      const c = await app.calls.get(call.sid);
      return c.status === "in_progress" ? c : undefined;
    },
    5000,
    "in_progress",
  );
  assert(answered.times.ringing && answered.times.in_progress);
  const serverLeg = await app.bridge.attach({ sid: call.sid, codec: "g711_ulaw" });

  // Audio both ways through the relay: distinct byte patterns per frame.
  const frames = 25;
  const heardByServer: number[] = [];
  const heardByCaller: number[] = [];
  const readServer = (async () => {
    for await (const frame of serverLeg) {
      if (!frame.concealed) heardByServer.push(frame.payload[0]);
      if (heardByServer.length >= frames - 5) return;
    }
  })();
  const readCaller = (async () => {
    for await (const frame of callerLeg) {
      if (!frame.concealed) heardByCaller.push(frame.payload[0]);
      if (heardByCaller.length >= frames - 5) return;
    }
  })();
  for (let i = 0; i < frames; i++) {
    callerLeg.write(new Uint8Array(160).fill(0x10 + i));
    serverLeg.write(new Uint8Array(160).fill(0x80 + i));
    await pace(20); // real-time audio, a frame every 20 ms
  }
  await Promise.race([
    Promise.all([readServer, readCaller]),
    new Promise((_, reject) => setTimeout(() => reject(new Error("audio timeout")), 10_000)),
  ]);
  assert(heardByServer.every((b) => b >= 0x10 && b < 0x10 + frames), `uplink ${heardByServer}`);
  assert(heardByCaller.every((b) => b >= 0x80 && b < 0x80 + frames), `downlink ${heardByCaller}`);
  assert(heardByServer.length >= frames - 5 && heardByCaller.length >= frames - 5);

  const tracksBefore = fx.server.relay.origin.trackCount;
  assert(tracksBefore >= 2, `tracks live: ${tracksBefore}`);
  const ended = await app.calls.hangup(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  await eventually(
    () => Promise.resolve(fx.server.relay.origin.trackCount === 0 || undefined),
    5000,
    "both tracks gone",
  );
  await watching; // the event stream ends after the terminal status
  const statuses = events.filter((e) => e.type === "status").map((e) =>
    e.type === "status" ? e.call.status : ""
  );
  // The stream starts with the status at subscription (dialing or, already, ringing).
  assertEquals(statuses.slice(-3), ["ringing", "in_progress", "completed"]);
  assert(statuses.length === 3 || statuses[0] === "dialing", `${statuses}`);
  const media = events.filter((e) => e.type === "media").map((e) =>
    e.type === "media" ? `${e.track}:${e.state}` : ""
  );
  assert(media.includes("uplink:published") && media.includes("downlink:published"), `${media}`);
  assert(media.includes("uplink:ended"), `${media}`);

  // Hanging up again is an illegal transition.
  const again = await fx.fetch(`/v1/calls/${call.sid}/hangup`, { method: "POST" });
  assertEquals(again.status, 409);
  assertEquals(again.headers.get("content-type"), "application/problem+json");
  assertEquals((await again.json()).type, "https://clutchcall.dev/problems/illegal-transition");

  ringing.abort();
  await incoming.return?.(undefined).catch(() => {});
  await callerLeg[Symbol.asyncDispose]?.();
  await serverLeg[Symbol.asyncDispose]?.();
});

Deno.test("an unanswered client: call ends no_answer after the ring timeout and the client gets a cancel", async () => {
  await using fx = await startServer({ CLUTCHCALL_RING_TIMEOUT_MS: "300" });
  const voice = await fx.voice();
  await voice.clients.add("bob");
  const ac = new AbortController();
  const events: string[] = [];
  const listening = (async () => {
    try {
      for await (const e of voice.clients.incoming("bob", { signal: ac.signal })) {
        events.push(e.type);
        if (e.type === "cancel") return;
      }
    } catch { /* aborted */ }
  })();
  // The ring must come after the stream subscribed (the access log line is written once the
  // stream's response, and so its subscription, exists): a ring between its subscription and
  // its snapshot of ringing calls would be told twice.
  await waitFor(
    "bob's incoming stream to open",
    () =>
      fx.logs.some((line) =>
        line.includes('"route":"/v1/clients/:identity/incoming"') &&
        line.includes('"path":"/v1/clients/bob/incoming"')
      ),
  );
  const call = await voice.calls.originate({ from: "+14155550100", to: "client:bob" });
  const done = await eventually(
    async () => {
      const c = await voice.calls.get(call.sid);
      return c.status === "no_answer" ? c : undefined;
    },
    3000,
    "no_answer",
  );
  assertEquals(done.endReason, "no_answer");
  await listening;
  ac.abort();
  assertEquals(events, ["ring", "cancel"]);
});

Deno.test("calls that cannot be placed fail with a clear end reason instead of hanging", async () => {
  await using fx = await startServer();
  const voice = await fx.voice();
  const pstn = await voice.calls.originate({ from: "+14155550100", to: "+442071838750" });
  const sip = await voice.calls.originate({ from: "+14155550100", to: "sip:bob@example.com" });
  const nobody = await voice.calls.originate({ from: "+14155550100", to: "client:nobody" });
  for (
    const [sid, reason] of [
      [pstn.sid, "no_sip_gateway"],
      [sip.sid, "no_sip_gateway"],
      [nobody.sid, "client_not_registered"],
    ]
  ) {
    const call = await eventually(
      async () => {
        const c = await voice.calls.get(sid);
        return c.status === "failed" ? c : undefined;
      },
      3000,
      `${sid} failed`,
    );
    assertEquals(call.endReason, reason);
  }
});
