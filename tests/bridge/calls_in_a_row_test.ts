import { assert, assertEquals, assertRejects } from "@std/assert";
import { TrackError } from "../../src/relay/model/mod.ts";
import { attach, attachCaller } from "../../src/bridge/mod.ts";
import { startRelay } from "../_lib/relay_fixture.ts";

/** Reads frames until one arrives or the bridge ends. */
async function firstFrame(bridge: { read(): Promise<{ payload: Uint8Array } | undefined> }) {
  return await bridge.read();
}

Deno.test("one MoqClient serves call after call: the server hangs up, the caller attaches again", async () => {
  await using fx = await startRelay();
  const callerClient = await fx.client();
  const origin = fx.relay.origin;
  for (let call = 0; call < 4; call++) {
    const sid = `CArow${call}`;
    const phone = await attachCaller(callerClient, { sid, codec: "g711_ulaw" });
    // The server's leg runs in the relay's process, as the Calls service's legs do.
    const agent = await attach(origin, { sid, codec: "g711_ulaw" });
    await phone.receiving;
    phone.write(new Uint8Array(160).fill(0x55 + call));
    agent.write(new Uint8Array(160).fill(0x22 + call));
    const [heardByAgent, heardByPhone] = await Promise.all([firstFrame(agent), firstFrame(phone)]);
    assertEquals(heardByAgent?.payload[0], 0x55 + call, `call ${call}: the agent hears the caller`);
    assertEquals(heardByPhone?.payload[0], 0x22 + call, `call ${call}: the caller hears the agent`);
    // Hang up as the Calls service does: every track of the call ends at the relay's origin,
    // the uplink the caller still publishes included; then both legs close.
    origin.closeTracks(["voice", sid]);
    await agent[Symbol.asyncDispose]();
    await phone[Symbol.asyncDispose]();
  }
  assertEquals(callerClient.session.state, "established", "the caller's session is still up");
  const violations = fx.lines.filter((line) => /violation|unknown request/i.test(line));
  assertEquals(violations, [], "the relay saw no protocol violation");
});

Deno.test("one MoqClient serves call after call when the caller hangs up first", async () => {
  await using fx = await startRelay();
  const callerClient = await fx.client();
  const serverClient = await fx.client();
  for (let call = 0; call < 3; call++) {
    const sid = `CArowc${call}`;
    const phone = await attachCaller(callerClient, { sid, codec: "g711_ulaw" });
    const agent = await attach(serverClient, { sid, codec: "g711_ulaw" });
    await phone.receiving;
    phone.write(new Uint8Array(160).fill(7));
    assert(await firstFrame(agent), `call ${call}: the agent hears the caller`);
    await phone[Symbol.asyncDispose]();
    await agent[Symbol.asyncDispose]();
  }
  assertEquals(callerClient.session.state, "established");
  assertEquals(serverClient.session.state, "established");
});

Deno.test("a MoqClient whose session closed refuses a new call at once instead of hanging", async () => {
  await using fx = await startRelay();
  const client = await fx.client();
  client.close();
  await client.closed;
  await assertRejects(
    () => client.publish({ namespace: ["voice", "CAgone"], name: "uplink" }),
    TrackError,
    "closed",
  );
  await assertRejects(() => attachCaller(client, { sid: "CAgone", codec: "g711_ulaw" }));
});
