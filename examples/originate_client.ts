/**
 * Originate a call to `client:alice`, answer it from an SDK client, and talk both ways.
 *
 * Run it against a server started with `deno task start` (in another shell):
 *
 * ```sh
 * npx --yes deno@2.9.6 run -A --unstable-net examples/originate_client.ts
 * ```
 *
 * Alice's app registers, is rung, answers by attaching as the caller and says "hello" (a
 * 440 Hz tone); the server-side app attaches to the same call, hears her, answers with a
 * 660 Hz tone she hears in turn, and hangs up. Settings: `CLUTCHCALL_URL`
 * (http://127.0.0.1:8080) and `CLUTCHCALL_DATA_DIR` (./.voice, for the development token and
 * certificate).
 *
 * @module
 */
import { createBridge, MoqClient, Voice } from "@clutchcall/voice";

const baseUrl = Deno.env.get("CLUTCHCALL_URL") ?? "http://127.0.0.1:8080";
const dataDir = Deno.env.get("CLUTCHCALL_DATA_DIR") ?? ".voice";
const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();

// Where the relay listens and which certificate it presents: the server says.
const relay = await (await fetch(`${baseUrl}/v1/relay/certificate`)).json();
await using moq = await MoqClient.connect({
  hostname: new URL(relay.url).hostname,
  port: Number(new URL(relay.url).port),
  token,
  caCerts: [await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`)],
});
const voice = new Voice({ baseUrl, token, bridge: createBridge(moq) });

/** 20 ms of a sine tone, PCM16 at 16 kHz. */
function tone(hz: number, frame: number): Int16Array {
  const samples = new Int16Array(320);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(8000 * Math.sin(2 * Math.PI * hz * (frame * 320 + i) / 16000));
  }
  return samples;
}

/** The strongest of two tones in a frame (a two-bin Goertzel detector). */
function louder(samples: Int16Array, a: number, b: number): number {
  const power = (hz: number) => {
    const k = 2 * Math.cos(2 * Math.PI * hz / 16000);
    let s1 = 0, s2 = 0;
    for (const x of samples) [s1, s2] = [x + k * s1 - s2, s1];
    return s1 * s1 + s2 * s2 - k * s1 * s2;
  };
  return power(a) > power(b) ? a : b;
}

/** Writes `hz` in real time until `signal` aborts. */
async function speak(leg: { write(frame: Int16Array): boolean }, hz: number, signal: AbortSignal) {
  for (let frame = 0; !signal.aborted; frame++) {
    leg.write(tone(hz, frame));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads frames until one carries `hz` louder than `other`. */
async function hear(leg: AsyncIterable<{ samples?: Int16Array }>, hz: number, other: number) {
  for await (const frame of leg) {
    if (frame.samples && louder(frame.samples, hz, other) === hz) return;
  }
  throw new Error(`The call ended before ${hz} Hz was heard`);
}

// Alice's app: register, and answer the first call that rings by attaching as the caller.
const done = new AbortController();
const aliceHeard = Promise.withResolvers<void>();
await voice.clients.add("alice");
const alice = (async () => {
  for await (const { call } of voice.clients.register("alice", { signal: done.signal })) {
    await using phone = await voice.bridge!.attachCaller({
      sid: call.sid,
      codec: "pcm16",
      sampleRate: 16000,
    });
    const talking = speak(phone, 440, done.signal);
    await hear(phone, 660, 440);
    console.log(`alice heard the app on ${call.sid}`);
    aliceHeard.resolve();
    // Alice keeps talking until the app hangs up (the call's end stops her).
    await talking;
    return;
  }
})();

// The application: originate, attach to the call, hear alice, answer her, hang up.
const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
console.log(`originated ${call.sid} to ${call.to}`);
await using app = await voice.bridge!.attach({ sid: call.sid, codec: "pcm16", sampleRate: 16000 });
const replying = speak(app, 660, done.signal);
await hear(app, 440, 660);
console.log(`the app heard alice on ${call.sid}`);
await Promise.race([aliceHeard.promise, alice]); // both have heard each other: hang up
const ended = await voice.calls.hangup(call.sid);
done.abort();
await Promise.all([replying, alice]);
console.log(`call ${ended.sid} ${ended.status} (${ended.endReason})`);
