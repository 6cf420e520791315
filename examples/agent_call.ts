/**
 * Hand a call to an AI voice agent from the SDK: `call.agent.attach("greeter")`.
 *
 * Start the server with the agent (`examples/greeter_agent.ts`, configured by
 * `examples/agent.json`), then run this (two shells):
 *
 * ```sh
 * npx --yes deno@2.9.6 task start --config examples/agent.json
 * npx --yes deno@2.9.6 run -A --unstable-net examples/agent_call.ts
 * ```
 *
 * Kim's app registers, is rung and answers by attaching as the caller; the application binds
 * the `greeter` agent to the call through the `Call` handle, Kim hears its greeting (a 660 Hz
 * tone), and the application unbinds the agent and hangs up. Settings: `CLUTCHCALL_URL`
 * (http://127.0.0.1:8080) and `CLUTCHCALL_DATA_DIR` (./.voice).
 *
 * @module
 */
import { createBridge, MoqClient, Voice } from "@clutchcall/voice";

const baseUrl = Deno.env.get("CLUTCHCALL_URL") ?? "http://127.0.0.1:8080";
const dataDir = Deno.env.get("CLUTCHCALL_DATA_DIR") ?? ".voice";
const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
const relay = await (await fetch(`${baseUrl}/v1/relay/certificate`)).json();
await using moq = await MoqClient.connect({
  hostname: new URL(relay.url).hostname,
  port: Number(new URL(relay.url).port),
  token,
  caCerts: [await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`)],
});
const voice = new Voice({ baseUrl, token, bridge: createBridge(moq) });

/** True when a frame is mostly `hz` (a one-bin Goertzel detector against the frame's energy). */
function carries(samples: Int16Array, hz: number): boolean {
  const k = 2 * Math.cos(2 * Math.PI * hz / 16000);
  let s1 = 0, s2 = 0, energy = 0;
  for (const x of samples) {
    [s1, s2] = [x + k * s1 - s2, s1];
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy > 0 && power / (energy * samples.length / 2) > 0.5;
}

// The call, and Kim's phone answering it.
await voice.clients.add("kim");
await using call = await voice.calls.originate({ from: "+14155550100", to: "client:kim" });
await using kim = await call.attachCaller({ codec: "pcm16", sampleRate: 16000 });
for await (const event of call.events()) {
  if (event.type === "status" && event.call.status === "in_progress") break;
}
console.log(`${call.sid} is ${call.status}`);

// The agent takes the call's far end; Kim hears it.
await call.agent.attach("greeter");
console.log(`agent ${call.agent.name} attached to ${call.sid}`);
for (let frame; (frame = await kim.read());) {
  if (frame.samples && carries(frame.samples, 660)) break;
}
console.log("kim heard the greeter");

await call.agent.detach();
await call.hangup();
console.log(`call ${call.sid} ${call.status} (${call.endReason})`);
