/**
 * CPU per tapped call of the ASR tap (`builtin:asr-tap`, Deepgram protocol), in one process
 * against a baseline in the same run:
 *
 * - baseline: N calls publishing 20 ms frames into an in-process origin, each track read by
 *   a plugin that only drains it (the relay fan-out a tap needs, without the tap's work);
 * - tap: the same N calls with the ASR tap streaming each uplink to a recognizer sink that
 *   runs in its own process (`bench/asr_sink.ts`), so only the tap's CPU is counted here.
 *
 * Two media paths: G.711 µ-law passthrough (bytes sent as they are) and Opus → linear16
 * 16 kHz (decode + resample). Speech is turns-8k/-48k.wav looped; the VAD gate is on
 * (defaults), so silence is not sent. A third run, G.711 with the gate off and a write-time
 * stamp in each frame, gives the added latency from the frame's write to its arrival at
 * the sink (same clock, loopback).
 *
 * `deno run -A --unstable-net bench/asr_tap_bench.ts [--calls 50] [--seconds 20]`
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { encodeUlaw } from "../src/codecs/g711.ts";
import { createOpusEncoder } from "../src/codecs/opus.ts";
import { decodeWav } from "../src/codecs/wav.ts";
import { createLogger } from "../src/log/mod.ts";
import { definePlugin, PluginHost } from "../src/plugins/mod.ts";
import { Origin, type TrackProducer } from "../src/relay/model/mod.ts";
import { FRAMES_PER_GROUP } from "../src/voice/track.ts";
import asrTap from "../src/plugins/asr-tap/mod.ts";
import { startSinkProcess } from "./_sink_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { calls: { type: "string", default: "50" }, seconds: { type: "string", default: "20" } },
});
const CALLS = Number(values.calls);
const SECONDS = Number(values.seconds);
const fixtures = new URL("../tests/fixtures/", import.meta.url);
const wav = (name: string) => decodeWav(Deno.readFileSync(new URL(name, fixtures))).samples;

const ulaw: Uint8Array[] = [];
{
  const pcm = wav("turns-8k.wav");
  for (let i = 0; i + 160 <= pcm.length; i += 160) ulaw.push(encodeUlaw(pcm.subarray(i, i + 160)));
}
const opus: Uint8Array[] = [];
{
  const pcm = wav("turns-48k.wav");
  using enc = createOpusEncoder({ sampleRate: 48000, channels: 1, application: "voip" });
  for (let i = 0; i + 960 <= pcm.length; i += 960) opus.push(enc.encode(pcm.subarray(i, i + 960)));
}

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;

function startSink() {
  return startSinkProcess(new URL("./asr_sink.ts", import.meta.url));
}

/** Runs N calls for SECONDS with `setup` plugins; returns process CPU µs over the window. */
async function run(
  mode: "g711" | "opus",
  tap: Record<string, unknown> | undefined,
  stamp = false,
): Promise<{ cpuUs: number; wallMs: number; heapMiB: number }> {
  const origin = new Origin();
  const log = createLogger({ level: "error", json: true, sink: () => {} });
  await using host = new PluginHost({ origin, log, dataDir: "/tmp" });
  if (tap) {
    Deno.env.set("ASR_BENCH_KEY", "bench");
    const status = await host.start(asrTap, { apiKeyEnv: "ASR_BENCH_KEY", ...tap } as never);
    if (status.state !== "running") throw new Error(status.error);
  } else {
    await host.start(
      definePlugin({
        name: "drain",
        setup(ctx) {
          ctx.route("voice/*", async (track) => {
            for (let g = await track.nextGroup(); g; g = await track.nextGroup()) {
              while (await g.readObject().catch(() => undefined));
            }
          });
        },
      }),
      {},
    );
  }
  const frames = mode === "g711" ? ulaw : opus;
  const capability = mode === "g711" ? "voice/g711_ulaw" : "voice/opus";
  const tracks: TrackProducer[] = [];
  for (let i = 0; i < CALLS; i++) {
    tracks.push(
      origin.publishTrack({ namespace: ["voice", `CAbench${i}`], name: "uplink", capability }),
    );
  }
  const groups = tracks.map(() =>
    undefined as ReturnType<TrackProducer["appendGroup"]> | undefined
  );
  await new Promise((r) => setTimeout(r, 500)); // connections up
  const t0 = performance.now();
  const c0 = cpu();
  const total = SECONDS * 50;
  for (let k = 0; k < total; k++) {
    const at = nowMicros();
    for (let i = 0; i < CALLS; i++) {
      if (k % FRAMES_PER_GROUP === 0) {
        groups[i]?.close();
        groups[i] = tracks[i].appendGroup();
      }
      let payload = frames[(k + i * 37) % frames.length];
      if (stamp) {
        payload = payload.slice();
        new DataView(payload.buffer).setFloat64(0, nowMicros(), true);
      }
      groups[i]!.write({ id: k % FRAMES_PER_GROUP, payload, timestamp: Math.round(at) });
    }
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const cpuUs = cpu() - c0;
  const wallMs = performance.now() - t0;
  const heapMiB = Deno.memoryUsage().heapUsed / 2 ** 20;
  for (const g of groups) g?.close();
  for (const t of tracks) t.close();
  await host.close();
  return { cpuUs, wallMs, heapMiB };
}

const pct = (cpuUs: number, wallMs: number) => (cpuUs / 1000 / wallMs) * 100;
console.log(`asr-tap bench: ${CALLS} calls × ${SECONDS} s, Deno ${Deno.version.deno}`);
for (const mode of ["g711", "opus"] as const) {
  const sink = await startSink();
  const url = `ws://127.0.0.1:${sink.port}/v1/listen`;
  const base = await run(mode, undefined);
  const tapped = await run(mode, { provider: "deepgram", url });
  const stats = await sink.stop();
  const basePct = pct(base.cpuUs, base.wallMs), tapPct = pct(tapped.cpuUs, tapped.wallMs);
  const perCall = (tapPct - basePct) / CALLS;
  console.log(
    `${mode === "g711" ? "G.711 passthrough" : "Opus → linear16 16 kHz"}: baseline ${
      basePct.toFixed(1)
    }% of a core, tapped ${tapPct.toFixed(1)}% (×${(tapPct / basePct).toFixed(2)}); ` +
      `tap adds ${perCall.toFixed(3)}% of a core per call → ~${
        Math.floor(100 / perCall)
      } taps per core; ` +
      `heap ${base.heapMiB.toFixed(1)} → ${tapped.heapMiB.toFixed(1)} MiB; sink ${
        JSON.stringify(stats)
      }`,
  );
}
{
  const sink = await startSink();
  const url = `ws://127.0.0.1:${sink.port}/v1/listen`;
  await run("g711", { provider: "deepgram", url, gateSilence: false }, true);
  const stats = await sink.stop();
  console.log(
    `latency write → recognizer (G.711, gate off): ${JSON.stringify(stats.latencyMs)} ms`,
  );
}
