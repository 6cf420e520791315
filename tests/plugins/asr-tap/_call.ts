/**
 * A `client:` call for the ASR tests: the app originates to client:alice, alice answers by
 * attaching as the caller over MoQT, and speaks a fixture in real time with capture
 * timestamps.
 *
 * @module
 */
import type { AttachOptions, AudioBridge, Voice } from "../../../src/sdk/mod.ts";
import type { AsrServer } from "./_server.ts";

/** Originates to client:alice, runs `beforeAttach`, answers with a caller leg in `format`. */
export async function callClient(
  fx: AsrServer,
  format: Omit<AttachOptions, "sid">,
  beforeAttach?: (app: Voice, sid: string) => Promise<void>,
  statusCallback?: string,
): Promise<{ app: Voice; phone: Voice; sid: string; leg: AudioBridge }> {
  const app = await fx.voice();
  const phone = await fx.voice({ media: true });
  await phone.clients.add("alice");
  const call = await app.calls.originate({
    from: "+14155550100",
    to: "client:alice",
    ...(statusCallback ? { statusCallback } : {}),
  });
  await beforeAttach?.(app, call.sid);
  const leg = await phone.bridge.attachCaller({ sid: call.sid, ...format });
  return { app, phone, sid: call.sid, leg };
}

/** Writes `pcm` as 20 ms frames paced in real time, frame k stamped `startMicros + k·20 ms`. */
export async function speak(
  leg: AudioBridge,
  pcm: Int16Array,
  sampleRate: number,
  startMicros: number,
): Promise<void> {
  const n = sampleRate / 50;
  const t0 = performance.now();
  for (let k = 0; (k + 1) * n <= pcm.length; k++) {
    leg.write(pcm.subarray(k * n, (k + 1) * n), startMicros + k * 20_000);
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
