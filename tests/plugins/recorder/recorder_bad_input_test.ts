import { assert, assertEquals, assertGreater } from "@std/assert";
import { PluginHost } from "../../../src/plugins/host.ts";
import { Origin } from "../../../src/relay/model/mod.ts";
import { decodeWav } from "../../../src/codecs/wav.ts";
import { deinterleave } from "../../../src/codecs/pcm16.ts";
import { nowMicros } from "../../../src/voice/track.ts";
import { testLogger } from "../../_lib/relay_fixture.ts";
import { rms } from "../../codecs/_signal.ts";
import { waitForRecording } from "./_call.ts";

Deno.test("the recorder survives bad input: corrupt frames, bogus timestamps, unknown capabilities, tracks ending mid-group", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-recorder-bad-" });
  const origin = new Origin();
  const { log } = testLogger();
  await using host = new PluginHost({ origin, log, dataDir });
  await host.load({
    module: "builtin:recorder",
    options: { sampleRate: 8000, flushIntervalMs: 100, lingerMs: 200 },
  });
  const sid = "CAbad1";
  const t0 = nowMicros();
  const at = (k: number) => Math.round(t0 + k * 20_000);

  // Uplink, PCM16 16 kHz: a loud frame, an odd-length one, an empty one, garbage
  // extensions, a timestamp a year ahead, then a 1 s gap, then a group cut off mid-way.
  const up = origin.publishTrack({
    namespace: ["voice", sid],
    name: "uplink",
    capability: "voice/pcm16",
  });
  const loud = new Uint8Array(new Int16Array(320).fill(8000).buffer);
  let g = up.appendGroup();
  g.write({ id: 0, payload: loud, timestamp: at(0) });
  g.write({ id: 1, payload: new Uint8Array(321), timestamp: at(1) });
  g.write({ id: 2, payload: new Uint8Array(0), timestamp: at(2) });
  g.write({ id: 3, payload: loud, extensions: new Uint8Array([0xff, 0xff, 0xff]) });
  g.write({ id: 4, payload: loud, timestamp: Math.round(t0 + 365 * 86400e6) });
  g.close();
  g = up.appendGroup();
  g.write({ id: 0, payload: loud, timestamp: at(55) }); // 1 s after frame 5
  g.write({ id: 1, payload: loud, timestamp: at(56) });
  g.abort(new Error("publisher went away mid-group"));

  // Downlink, Opus: random bytes as packets, then the track ends with its group open.
  const down = origin.publishTrack({
    namespace: ["voice", sid],
    name: "downlink",
    capability: "voice/opus",
  });
  g = down.appendGroup();
  for (let k = 0; k < 10; k++) {
    g.write({ id: k, payload: crypto.getRandomValues(new Uint8Array(40)), timestamp: at(k) });
  }
  // Not a codec, not a call track, not a call namespace: ignored.
  const odd = [
    origin.publishTrack({
      namespace: ["voice", "CAodd"],
      name: "uplink",
      capability: "voice/g729",
    }),
    origin.publishTrack({ namespace: ["voice", sid], name: "sidetone", capability: "voice/pcm16" }),
    origin.publishTrack({ namespace: ["other"], name: "uplink", capability: "voice/pcm16" }),
  ];
  for (const t of odd) t.appendGroup().write({ id: 0, payload: loud });
  // The recorder's route took both call tracks as they were published (a consumer each), so
  // what was written above is read from the tracks' groups even after they end here.
  assertEquals([up.consumers, down.consumers], [1, 1], "the recorder consumes both call tracks");
  up.close();
  down.close();
  for (const t of odd) t.close();

  const meta = await waitForRecording(`${dataDir}/recordings/${sid}.json`);
  assertEquals(host.status()[0].state, "running", "the recorder is still attached");
  const byName = Object.fromEntries(meta.tracks.map((t) => [t.name, t]));
  assertEquals(byName.uplink.objects, 7);
  assertGreater(byName.uplink.concealed, 0, "odd-length PCM16 concealed");
  assertEquals(byName.uplink.badTimestamps, 1, "the year-ahead timestamp was ignored");
  assertEquals(byName.downlink.objects, 10);
  assertEquals(byName.downlink.ended, true);

  const wav = decodeWav(await Deno.readFile(meta.path));
  const [left] = deinterleave(wav.samples, 2);
  // Frames 0–5 (~120 ms), a 1 s gap of silence, frames 55–56: about 1.14 s in all.
  const seconds = left.length / 8000;
  assert(seconds > 1.05 && seconds < 1.3, `duration ${seconds} s`);
  assertGreater(rms(left, 0, 400), 1000, "the loud frames are there");
  assertEquals(rms(left, 0.4 * 8000, 1.0 * 8000), 0, "the gap is silence");
  assertGreater(rms(left, 1.1 * 8000, left.length), 500, "frames after the gap are there");
  // Random bytes as Opus packets decode to noise or are concealed (any Int16 value is then
  // possible, so the right channel's content is not asserted); the counters above show the
  // recorder took all ten and stayed attached.

  const names: string[] = [];
  for await (const e of Deno.readDir(`${dataDir}/recordings`)) names.push(e.name);
  assertEquals(names.sort(), [`${sid}.json`, `${sid}.wav`], "nothing recorded for odd tracks");
  await host.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("an unknown builtin: plugin or bad recorder options are configuration errors", async () => {
  const { log } = testLogger();
  await using host = new PluginHost({ origin: new Origin(), log, dataDir: "/tmp" });
  const { assertRejects } = await import("@std/assert");
  await assertRejects(() => host.load({ module: "builtin:nope" }), TypeError, "no built-in plugin");
  const status = await host.load({ module: "builtin:recorder", options: { sampleRate: 44100 } });
  assertEquals(status.state, "detached");
  assert(status.error?.includes("sampleRate"));
});
