import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { Call, CallHandle, VoiceApiError } from "../../src/sdk/mod.ts";

Deno.test("originate returns a Call handle: snapshot, events that update it, attach/attachCaller, and await using hangs up what it opened", async () => {
  await using fx = await startServer();
  const voice = await fx.voice({ media: true });
  await voice.clients.add("hana");
  let sid: string;
  {
    await using call = await voice.calls.originate({ from: "+14155550100", to: "client:hana" });
    assertInstanceOf(call, CallHandle);
    sid = call.sid;
    assertEquals([call.status, call.from, call.to], ["dialing", "+14155550100", "client:hana"]);
    // The snapshot is the JSON call: what the server returns for GET, field for field.
    assertEquals(JSON.parse(JSON.stringify(call)).sid, sid);
    for await (const event of call.events()) {
      if (event.type === "status" && event.call.status === "ringing") break;
    }
    assertEquals(call.status, "ringing", "the snapshot followed the status event");

    // The caller answers through the handle; the app attaches through another handle (get).
    const phone = await call.attachCaller({ codec: "pcm16", sampleRate: 16000 });
    await using app = await voice.calls.get(sid);
    const agent = await app.attach({ codec: "pcm16", sampleRate: 16000 });
    phone.write(new Int16Array(320).fill(1000));
    const frame = await agent.read();
    assertEquals(frame?.samples?.length, 320);
    assertEquals((await call.refresh()).status, "in_progress");
    assert(call.times.in_progress, "the refreshed snapshot carries the answer time");
    // Leaving the block disposes both handles: legs closed, and the originated call hung up.
  }
  const ended = await voice.calls.get(sid);
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
});

Deno.test("a handle from get() leaves the call alone when disposed; one from originate() leaves an ended call ended", async () => {
  await using fx = await startServer();
  const voice = await fx.voice();
  await voice.clients.add("ivo");
  const call = await voice.calls.originate({ from: "+14155550100", to: "client:ivo" });
  {
    await using seen = await voice.calls.get(call.sid);
    assertEquals(seen.sid, call.sid);
  }
  assertEquals((await voice.calls.get(call.sid)).status === "completed", false);
  await call.hangup();
  assertEquals(call.status, "completed");
  await call[Symbol.asyncDispose](); // ended already: nothing to hang up, no error
  await call[Symbol.asyncDispose](); // twice is a no-op
  const list = await voice.calls.list();
  assertEquals(list.calls.map((c) => c.sid), [call.sid]);
  assertEquals(list.calls[0] instanceof CallHandle, false, "list results stay plain JSON");
});

Deno.test("call.agent.attach() binds a configured agent through the handle, detach() unbinds it; CallHandle is the deprecated name of Call", async () => {
  assertEquals(CallHandle, Call);
  await using fx = await startServer({}, undefined, {
    agents: { echo: { type: "module", module: "builtin:echo" } },
  });
  const voice = await fx.voice({ media: true });
  await voice.clients.add("juno");
  await using call = await voice.calls.originate({ from: "+14155550100", to: "client:juno" });
  await using phone = await call.attachCaller({ codec: "pcm16", sampleRate: 16000 });
  for await (const event of call.events()) {
    if (event.type === "status" && event.call.status === "in_progress") break;
  }
  assertEquals(call.agent.name, undefined);
  assertEquals(await call.agent.attach("echo"), call, "resolves with the handle, updated");
  assertEquals(call.agent.name, "echo");
  assertEquals(JSON.parse(JSON.stringify(call)).agent, "echo", "toJSON writes the JSON field");
  assertEquals((await voice.calls.list()).calls[0].agent, "echo", "the server has it");
  assertEquals(phone.sid, call.sid);
  await call.agent.detach();
  assertEquals(call.agent.name, undefined);
  assertEquals((await voice.calls.get(call.sid)).agent.name, undefined);
  const unknown = await assertRejects(() => call.agent.attach("nobody"), VoiceApiError);
  assertEquals(unknown.status, 404);
});
