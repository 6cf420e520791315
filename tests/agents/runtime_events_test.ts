import { assert, assertEquals } from "@std/assert";
import { type CallEvent, verifyWebhook } from "../../src/sdk/mod.ts";
import { startAgentServer } from "./_fixture.ts";
import { feedUlaw, Recorder, rms, turns8k } from "./_audio.ts";

Deno.test("agent events reach the call's status callback as signed webhooks: agent attached, turn start/end, interruption, agent detached — the same as on SSE, in order", async () => {
  const hooks: CallEvent[] = [];
  const invalid: string[] = [];
  const waiters = new Set<() => void>();
  let secret = "";
  await using receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const checked = await verifyWebhook<CallEvent>(req, secret);
      if (checked.valid) hooks.push(checked.event);
      else invalid.push(checked.reason);
      for (const w of [...waiters]) w();
      return new Response(null, { status: 204 });
    },
  );
  const hooked = (match: (e: CallEvent) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => hooks.some(match) && (waiters.delete(check), resolve());
      waiters.add(check);
      check();
    });
  await using fx = await startAgentServer({
    agents: { echo: { type: "module", module: "builtin:echo" } },
    webhooks: { allowNetworks: ["127.0.0.0/8"] },
  });
  secret = (await Deno.readTextFile(`${fx.dataDir}/webhook-secret`)).trim();
  const { sid, caller, events } = await fx.liveCall("g711_ulaw", "g711_ulaw", {
    statusCallback: `http://127.0.0.1:${receiver.addr.port}/status`,
  });
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "echo" });
  // Utterance 1, then, two seconds into the echo of it, utterance 2 over it (a barge-in).
  const speech = turns8k();
  await feedUlaw(caller, speech.subarray(0, 7_900 * 8));
  const replyStart = await heard.next((f) => rms(f.pcm) > 1000);
  await heard.next((_, i) => i >= replyStart + 100, replyStart);
  await feedUlaw(caller, speech.subarray(7_900 * 8, 11_000 * 8));
  await events.next((e) => e.type === "interruption");
  await fx.voice.agents.detach(sid);
  await hooked((e) => e.type === "agent" && e.state === "detached");

  const agentEvents = (list: CallEvent[]) =>
    list.filter((e) => e.type === "agent" || e.type === "turn" || e.type === "interruption");
  const kinds = (list: CallEvent[]) =>
    agentEvents(list).map((e) =>
      e.type === "interruption" ? "interruption" : `${e.type} ${(e as { state: string }).state}`
    );
  assertEquals(invalid, []);
  const got = kinds(hooks);
  assertEquals(got[0], "agent attached");
  assertEquals(got[got.length - 1], "agent detached");
  for (const kind of ["turn start", "turn end", "interruption"]) {
    assert(got.includes(kind), `no ${kind} webhook in ${got.join(", ")}`);
  }
  // Webhooks are delivered one at a time per call, in the order the events happened.
  assertEquals(got, kinds(events.events.filter((e) => agentEvents([e]).length > 0)));
  for (const e of agentEvents(hooks)) {
    assertEquals([e.sid, (e as { agent: string }).agent], [sid, "echo"]);
  }
  await fx.voice.calls.hangup(sid);
  await heard.done;
});
