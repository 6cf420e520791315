/**
 * Answer an inbound SIP call from code, through the bridge: the gateway routes every call from
 * the trunk to `client:desk` (see `examples/inbound_sip.json`); this program registers as
 * `desk`, answers the first call, plays a 660 Hz tone to the caller and listens to the caller.
 * With sipp echoing our audio back, the program hears its own tone come back over SIP/RTP.
 *
 * Start the server with the SIP section, run this, then call it (three shells):
 *
 * ```sh
 * npx --yes deno@2.9.6 task start --config examples/inbound_sip.json
 * npx --yes deno@2.9.6 run -A --unstable-net examples/inbound_sip.ts
 * sipp -sf tests/sip/scenarios/uac_echo.xml -rtp_echo -mp 6000 -m 1 -d 4000 -s desk -p 5070 127.0.0.1:5060
 * ```
 *
 * Settings: `CLUTCHCALL_URL` (http://127.0.0.1:8080) and `CLUTCHCALL_DATA_DIR` (./.voice).
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

/** 20 ms of a 660 Hz tone, PCM16 at 16 kHz. */
function tone(frame: number): Int16Array {
  const samples = new Int16Array(320);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(8000 * Math.sin(2 * Math.PI * 660 * (frame * 320 + i) / 16000));
  }
  return samples;
}

/** Power at `hz` in a frame (Goertzel), relative to the frame's total power. */
function share(samples: Int16Array, hz: number): number {
  const k = 2 * Math.cos(2 * Math.PI * hz / 16000);
  let s1 = 0, s2 = 0, total = 0;
  for (const x of samples) {
    [s1, s2] = [x + k * s1 - s2, s1];
    total += x * x;
  }
  return total === 0 ? 0 : (s1 * s1 + s2 * s2 - k * s1 * s2) / (total * samples.length / 2);
}

const stop = new AbortController();
console.log("waiting for a call to client:desk");
for await (const { call } of voice.clients.register("desk", { signal: stop.signal })) {
  console.log(`ringing: ${call.sid} from ${call.from}`);
  await voice.calls.answer(call.sid);
  await using leg = await voice.bridge!.attach({
    sid: call.sid,
    codec: "pcm16",
    sampleRate: 16000,
  });
  const ended = (async () => {
    for await (const event of voice.calls.events(call.sid)) {
      if (event.type === "status" && ["completed", "failed"].includes(event.call.status)) {
        return event.call;
      }
    }
  })();
  let playing = true;
  const speaking = (async () => {
    for (let frame = 0; playing; frame++) {
      leg.write(tone(frame));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  // The caller's audio: with sipp's RTP echo, our own tone comes back through the SIP leg.
  let heard = false;
  for await (const frame of leg) {
    if (frame.samples && share(frame.samples, 660) > 0.5) {
      heard = true;
      console.log(`heard our tone back from the caller on ${call.sid}`);
      break;
    }
  }
  const final = await ended;
  playing = false;
  await speaking;
  console.log(
    `call ${call.sid} ${final?.status} (${final?.endReason})${heard ? "" : ", tone never heard"}`,
  );
  stop.abort();
  break;
}
