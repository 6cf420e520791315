/**
 * Ring the browser softphone from code and talk to whoever answers it.
 *
 * Start the server (`npx --yes deno@2.9.6 task start`), open the softphone page this program
 * prints (`/softphone?identity=alice&token=…`, in Chrome or Chromium; allow the microphone),
 * then run:
 *
 * ```sh
 * npx --yes deno@2.9.6 run -A --unstable-net examples/call_softphone.ts
 * ```
 *
 * The page rings; press Answer. The program attaches to the call's far end and plays a 660 Hz
 * tone the page plays out, says when it hears the page's microphone, and ends when the page
 * hangs up. Settings:
 * `CLUTCHCALL_URL` (http://127.0.0.1:8080), `CLUTCHCALL_DATA_DIR` (./.voice) and
 * `SOFTPHONE_IDENTITY` (alice).
 *
 * @module
 */
import { createBridge, MoqClient, Voice } from "@clutchcall/voice";

const baseUrl = Deno.env.get("CLUTCHCALL_URL") ?? "http://127.0.0.1:8080";
const dataDir = Deno.env.get("CLUTCHCALL_DATA_DIR") ?? ".voice";
const identity = Deno.env.get("SOFTPHONE_IDENTITY") ?? "alice";
const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
const relay = await (await fetch(`${baseUrl}/v1/relay/certificate`)).json();
await using moq = await MoqClient.connect({
  hostname: new URL(relay.url).hostname,
  port: Number(new URL(relay.url).port),
  token,
  caCerts: [await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`)],
});
const voice = new Voice({ baseUrl, token, bridge: createBridge(moq) });
console.log(`softphone: ${baseUrl}/softphone?${new URLSearchParams({ identity, token })}`);

// Ring the page, and wait for it to answer (the page registers `client:<identity>`).
await using call = await voice.calls.originate({
  from: "+14155550100",
  to: `client:${identity}`,
});
console.log(`ringing client:${identity}`);
for await (const event of call.events()) {
  if (event.type === "status" && event.call.status === "in_progress") break;
  if (event.type === "status" && event.call.endedAt) {
    throw new Error(`The call ended unanswered: ${event.call.endReason}`);
  }
}
console.log(`${identity} answered ${call.sid}`);

// The far end: play a tone to the page and listen to its microphone until the page hangs up.
await using app = await call.attach({ codec: "pcm16", sampleRate: 16000 });
const ended = (async () => {
  for await (const _ of call.events()) { /* the snapshot follows; the stream ends with the call */ }
})();
const stop = new AbortController();
const playing = (async () => {
  const frame = new Int16Array(320);
  for (let n = 0; !stop.signal.aborted; n++) {
    for (let i = 0; i < frame.length; i++) {
      frame[i] = Math.round(8000 * Math.sin(2 * Math.PI * 660 * (n * 320 + i) / 16000));
    }
    app.write(frame);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
})();
let voiced = 0; // 20 ms frames louder than -40 dBFS: a second of them is someone talking
for (;;) {
  const frame = await Promise.race([app.read(), ended.then(() => undefined)]);
  if (!frame) break;
  if (!frame.samples) continue;
  let energy = 0;
  for (const x of frame.samples) energy += x * x;
  if (Math.sqrt(energy / frame.samples.length) > 328 && ++voiced === 50) {
    console.log(`heard ${identity}'s microphone on ${call.sid}; hang up on the page to end`);
  }
}
stop.abort();
await Promise.all([playing, ended]);
console.log(`call ${call.sid} ${call.status} (${call.endReason})`);
