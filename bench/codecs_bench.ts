/**
 * Cost of the codec layer per 20 ms frame of real speech (the shared fixtures), and of a
 * transcoded call: both directions of one leg for one 20 ms tick.
 *
 * Run: `deno bench -A bench/codecs_bench.ts`. Calls per core = 20 ms / (time of a "call"
 * iteration). Results and analysis: BENCHMARKS.md, section "Codecs".
 *
 * @module
 */
import {
  createOpusDecoder,
  createOpusEncoder,
  createResampler,
  createTranscoder,
  decodeAlaw,
  decodeUlaw,
  decodeWav,
  encodeAlaw,
  encodeUlaw,
  type OpusBackend,
  opusNativeAvailability,
  type OpusSampleRate,
  RESAMPLER_RATES,
} from "../src/codecs/mod.ts";

const FIXTURES = Deno.env.get("CLUTCHCALL_FIXTURES") ??
  new URL("../tests/fixtures", import.meta.url).pathname;

function speechFrames(rate: OpusSampleRate): Int16Array[] {
  const { samples } = decodeWav(Deno.readFileSync(`${FIXTURES}/speech-${rate / 1000}k.wav`));
  const frame = rate / 50;
  const frames: Int16Array[] = [];
  for (let at = 0; at + frame <= samples.length; at += frame) {
    frames.push(samples.slice(at, at + frame));
  }
  return frames;
}

/** Cycles through `items` forever. */
function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length];
}

const SPEECH = { 8000: speechFrames(8000), 16000: speechFrames(16000), 48000: speechFrames(48000) };
const BACKENDS: OpusBackend[] = opusNativeAvailability().available ? ["native", "wasm"] : ["wasm"];

// G.711 -----------------------------------------------------------------------------------
{
  const pcm = cycle(SPEECH[8000]);
  const ulaw = cycle(SPEECH[8000].map((f) => encodeUlaw(f)));
  const alaw = cycle(SPEECH[8000].map((f) => encodeAlaw(f)));
  const out8 = new Uint8Array(160), out16 = new Int16Array(160);
  Deno.bench("µ-law encode 8 kHz", { group: "g711", baseline: true }, () => {
    encodeUlaw(pcm(), out8);
  });
  Deno.bench("µ-law decode 8 kHz", { group: "g711" }, () => {
    decodeUlaw(ulaw(), out16);
  });
  Deno.bench("A-law encode 8 kHz", { group: "g711" }, () => {
    encodeAlaw(pcm(), out8);
  });
  Deno.bench("A-law decode 8 kHz", { group: "g711" }, () => {
    decodeAlaw(alaw(), out16);
  });
}

// Opus ------------------------------------------------------------------------------------
const ENCODE_CASES: [OpusSampleRate, number][] = [
  [8000, 5],
  [16000, 5],
  [48000, 0],
  [48000, 5],
  [48000, 10],
];
for (const backend of BACKENDS) {
  for (const [rate, complexity] of ENCODE_CASES) {
    const encoder = createOpusEncoder({ sampleRate: rate as 8000, complexity, backend });
    const next = cycle(SPEECH[rate as 8000]);
    Deno.bench(`opus encode ${rate / 1000} kHz c${complexity} ${backend}`, {
      group: "opus encode",
      baseline: backend === "native" && rate === 48000 && complexity === 5,
    }, () => {
      encoder.encode(next());
    });
  }
  for (const rate of [8000, 16000, 48000] as const) {
    using encoder = createOpusEncoder({ sampleRate: rate, backend: "wasm" });
    const packets = SPEECH[rate].map((f) => encoder.encode(f));
    const decoder = createOpusDecoder({ sampleRate: rate, backend });
    const next = cycle(packets);
    Deno.bench(`opus decode ${rate / 1000} kHz ${backend}`, {
      group: "opus decode",
      baseline: backend === "native" && rate === 48000,
    }, () => {
      decoder.decode(next());
    });
  }
}

// Resampling ------------------------------------------------------------------------------
for (const inputRate of RESAMPLER_RATES) {
  for (const outputRate of RESAMPLER_RATES) {
    if (inputRate === outputRate) continue;
    const resampler = await createResampler({ inputRate, outputRate });
    const frame = inputRate === 24000
      ? SPEECH[48000][50].filter((_, i) => i % 2 === 0)
      : SPEECH[inputRate as 8000][50];
    Deno.bench(`resample ${inputRate / 1000} → ${outputRate / 1000} kHz`, {
      group: "resample",
      baseline: inputRate === 8000 && outputRate === 16000,
    }, () => {
      resampler.process(frame);
    });
  }
}

// Transcoded calls: both directions of one leg per 20 ms tick -------------------------------
const ulawFrames = cycle(SPEECH[8000].map((f) => encodeUlaw(f)));
{
  const transcoder = await createTranscoder({
    from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
    to: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
  });
  const back = await createTranscoder({
    from: { codec: "pcm16", sampleRate: 16000, frameMs: 20 },
    to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
  });
  const pcm16 = cycle(SPEECH[16000].map((f) => new Uint8Array(f.buffer)));
  Deno.bench("call µ-law 8k ↔ PCM16 16k", { group: "call", baseline: true }, () => {
    transcoder.transcode(ulawFrames());
    back.transcode(pcm16());
  });
}
for (const backend of BACKENDS) {
  for (const complexity of [5, 0]) {
    const toWeb = await createTranscoder({
      from: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
      to: { codec: "opus", sampleRate: 48000, frameMs: 20 },
      opus: { backend, complexity },
    });
    const toPhone = await createTranscoder({
      from: { codec: "opus", sampleRate: 48000, frameMs: 20 },
      to: { codec: "g711_ulaw", sampleRate: 8000, frameMs: 20 },
      opus: { backend },
    });
    // What a browser sends: fullband speech from a 48 kHz encoder.
    using browser = createOpusEncoder({ sampleRate: 48000, bitrate: 32000, backend: "wasm" });
    const packets = cycle(SPEECH[48000].map((f) => browser.encode(f)));
    Deno.bench(`call µ-law 8k ↔ Opus 48k c${complexity} ${backend}`, { group: "call" }, () => {
      toWeb.transcode(ulawFrames());
      toPhone.transcode(packets());
    });
  }
}
