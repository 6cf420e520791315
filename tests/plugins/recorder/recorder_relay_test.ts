import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import { PluginHost } from "../../../src/plugins/host.ts";
import { decodeWav } from "../../../src/codecs/wav.ts";
import { createOpusDecoder } from "../../../src/codecs/opus.ts";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { oggCrc32, parseOggPages } from "../../../src/plugins/recorder/ogg.ts";
import { nowMicros } from "../../../src/voice/track.ts";
import { startRelay, testLogger } from "../../_lib/relay_fixture.ts";
import { align, readFixture } from "../../codecs/_signal.ts";
import { channelsAt8k, opusFrames, publishFrames, ulawFrames, waitForRecording } from "./_call.ts";

// Uplink: µ-law 8 kHz speech ("Thank you for calling…", 5 s). Downlink: Opus 48 kHz of a
// different utterance ("I would like to speak with billing…", turns-*.wav from 7.5 s).
const SPEECH_8K = readFixture("speech-8k.wav").samples;
const TURNS_8K = readFixture("turns-8k.wav").samples.subarray(7.5 * 8000, 12.5 * 8000);
const TURNS_48K = readFixture("turns-48k.wav").samples.subarray(7.5 * 48000, 12.5 * 48000);

/** Best lag searched: ±50 ms at 8 kHz. */
const MAX_LAG = 400;

Deno.test("the recorder writes a call through a real relay as one stereo WAV: uplink left, downlink right, time-aligned; Opus also as Ogg", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-recorder-" });
  await using relay = await startRelay();
  const { log } = testLogger();
  await using host = new PluginHost({ origin: relay.relay.origin, log, dataDir });
  const status = await host.load({
    module: "builtin:recorder",
    options: { sampleRate: 16000, ogg: true, flushIntervalMs: 200, lingerMs: 300 },
  });
  assertEquals(status.state, "running");

  const client = await relay.client();
  const sid = "CArelay1";
  const uplink = await client.publish({
    namespace: ["voice", sid],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  const downlink = await client.publish({
    namespace: ["voice", sid],
    name: "downlink",
    capability: "voice/opus",
  });
  const upFrames = ulawFrames(SPEECH_8K); // 249 whole 20 ms frames
  const downFrames = opusFrames(TURNS_48K); // 250
  await publishFrames([
    { producer: uplink, frames: upFrames },
    { producer: downlink, frames: downFrames },
  ], { startMicros: nowMicros(), paceMs: 10 });
  uplink.close();
  downlink.close();

  const meta = await waitForRecording(`${dataDir}/recordings/${sid}.json`);
  assertEquals(meta.state, "completed");
  assertEquals(meta.path, `${dataDir}/recordings/${sid}.wav`);
  assertEquals(meta.tracks.map((t) => [t.name, t.channel, t.objects]).sort(), [
    ["downlink", 1, downFrames.length],
    ["uplink", 0, upFrames.length],
  ]);

  const wav = decodeWav(await Deno.readFile(meta.path));
  assertEquals([wav.sampleRate, wav.channels], [16000, 2]);
  const seconds = wav.samples.length / 2 / 16000;
  assert(Math.abs(seconds - 5) < 0.1, `duration ${seconds} s, sent 5 s per track`);
  assertEquals(meta.bytes, wav.samples.length * 2);

  const [left, right] = await channelsAt8k(wav.samples, 16000);
  const up = align(SPEECH_8K, left, MAX_LAG);
  const down = align(TURNS_8K, right, MAX_LAG);
  const crossLeft = align(TURNS_8K, left, MAX_LAG);
  const crossRight = align(SPEECH_8K, right, MAX_LAG);
  console.log({ up, down, crossLeft, crossRight });
  // µ-law + 8→16→8 kHz resampling keeps speech nearly intact; Opus voip at its default
  // bitrate a little less. Cross-wise the two utterances are unrelated.
  assertGreater(up.correlation, 0.95, `uplink → left ${JSON.stringify(up)}`);
  assertGreater(down.correlation, 0.85, `downlink → right ${JSON.stringify(down)}`);
  assertLess(Math.abs(crossLeft.correlation), 0.3, `downlink ↛ left ${JSON.stringify(crossLeft)}`);
  assertLess(Math.abs(crossRight.correlation), 0.3, `uplink ↛ right ${JSON.stringify(crossRight)}`);
  // Same capture clock on both tracks: the two channels line up within 10 ms.
  assertLess(Math.abs(up.lag - down.lag), 80, `lags ${up.lag} vs ${down.lag} samples at 8 kHz`);

  // The Opus downlink also went untranscoded into Ogg Opus.
  const oggPath = meta.tracks.find((t) => t.name === "downlink")?.ogg;
  assertEquals(oggPath, `${dataDir}/recordings/${sid}.downlink.opus`);
  const bytes = await Deno.readFile(oggPath!);
  const ogg = parseOggPages(bytes);
  assertEquals([ogg.badCrc, ogg.validBytes], [0, bytes.length]);
  for (let at = 0, i = 0; i < ogg.pages.length; i++) {
    // Each page's CRC, recomputed independently of the parser's own check.
    const page = bytes.slice(
      at,
      at + 27 + bytes[at + 26] +
        bytes.subarray(at + 27, at + 27 + bytes[at + 26]).reduce((n, v) => n + v, 0),
    );
    const stored = new DataView(page.buffer).getUint32(22, true);
    page.fill(0, 22, 26);
    assertEquals(oggCrc32(page), stored, `page ${i} CRC`);
    at += page.length;
  }
  const [head, tags, ...audio] = ogg.packets;
  assertEquals(new TextDecoder().decode(head.subarray(0, 8)), "OpusHead");
  assertEquals([head[8], head[9], head[18]], [1, 1, 0]); // version 1, mono, mapping 0
  assertEquals(new TextDecoder().decode(tags.subarray(0, 8)), "OpusTags");
  assertEquals(ogg.pages[0].flags & 0x02, 0x02, "first page is BOS");
  assertEquals(ogg.pages.at(-1)!.flags & 0x04, 0x04, "last page is EOS");
  assertEquals(audio.length, 250);
  assertEquals(ogg.pages.at(-1)!.granule, 250n * 960n);

  using decoder = createOpusDecoder({ sampleRate: 48000, channels: 1 });
  const decoded = new Int16Array(250 * 960);
  audio.forEach((packet, i) => decoded.set(decoder.decode(packet), i * 960));
  using down48 = await createResampler({ inputRate: 48000, outputRate: 8000 });
  const oggAlign = align(TURNS_8K, down48.process(decoded), MAX_LAG);
  console.log({ oggAlign });
  assertGreater(oggAlign.correlation, 0.85, `Ogg Opus → source ${JSON.stringify(oggAlign)}`);

  // The same metadata through the HTTP route's reader.
  const { readRecording, listRecordings } = await import(
    "../../../src/plugins/recorder/metadata.ts"
  );
  assertEquals((await readRecording(`${dataDir}/recordings`, sid))?.bytes, meta.bytes);
  assertEquals((await listRecordings(`${dataDir}/recordings`)).map((r) => r.sid), [sid]);

  await host.close();
  await Deno.remove(dataDir, { recursive: true });
});
