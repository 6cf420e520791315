import { assert, assertEquals, assertGreaterOrEqual } from "@std/assert";
import { decodeWav } from "../../../src/codecs/wav.ts";
import { MoqClient } from "../../../src/relay/client.ts";
import { nowMicros } from "../../../src/voice/track.ts";
import { testLogger } from "../../_lib/relay_fixture.ts";
import { align, readFixture } from "../../codecs/_signal.ts";
import { channelsAt8k, publishFrames, ulawFrames } from "./_call.ts";
import { spawnServer } from "../../_lib/server_process.ts";
import { waitFor } from "../../_lib/wait.ts";

const SPEECH_8K = readFixture("speech-8k.wav").samples;

Deno.test("kill -9 of the server mid-call leaves a valid WAV holding all but at most the last second, repaired and served after restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-recorder-crash-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      host: "127.0.0.1",
      httpPort: 0,
      moqPort: 0,
      dataDir,
      logLevel: "info",
      plugins: [{ module: "builtin:recorder" }], // defaults: 16 kHz, flush every 500 ms
    }),
  );
  const sid = "CAcrash1";
  let server = await spawnServer({ dataDir, configPath });
  try {
    const certPem = await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`);
    // Development mode: the server minted a token with every scope into the data dir.
    const token = (await Deno.readTextFile(`${dataDir}/dev-token`)).trim();
    const headers = { authorization: `Bearer ${token}` };
    const client = await MoqClient.connect({
      token,
      hostname: "127.0.0.1",
      port: Number(new URL(server.listening.moq).port),
      caCerts: [certPem],
      log: testLogger().log,
    });
    const uplink = await client.publish({
      namespace: ["voice", sid],
      name: "uplink",
      capability: "voice/g711_ulaw",
    });
    const downlink = await client.publish({
      namespace: ["voice", sid],
      name: "downlink",
      capability: "voice/g711_ulaw",
    });
    // Real time: 20 ms of audio every 20 ms; SIGKILL while still sending, once the recorder
    // has 2 s of it on disk (16 kHz stereo: 64,000 bytes a second after the 44-byte header).
    const path = `${dataDir}/recordings/${sid}.wav`;
    const onDisk = () => {
      try {
        return Deno.statSync(path).size;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return 0; // not opened yet
        throw error;
      }
    };
    const stop = new AbortController();
    const frames = ulawFrames(SPEECH_8K);
    const start = nowMicros();
    const publishing = publishFrames([
      { producer: uplink, frames },
      { producer: downlink, frames: frames.map((f) => f.map((b) => b ^ 0x55)) },
    ], { startMicros: start, paceMs: 20, signal: stop.signal });
    await waitFor("2 s of audio in the recording on disk", () => onDisk() >= 44 + 2 * 64_000, {
      timeoutMs: 20_000,
    });
    server.child.kill("SIGKILL");
    const sentSeconds = (nowMicros() - start) / 1e6;
    stop.abort();
    const sentFrames = await publishing;
    await server.child.status;
    await server.pump;
    client.close();

    // Before any restart: the file a crash left is already a valid WAV.
    const crashed = await Deno.readFile(path);
    const crashedWav = decodeWav(crashed);
    const view = new DataView(crashed.buffer);
    const dataBytes = view.getUint32(40, true);
    assert(dataBytes > 0 && 44 + dataBytes <= crashed.length, "sizes cover data on disk");
    assertEquals(view.getUint32(4, true), 36 + dataBytes);
    const crashedSeconds = crashedWav.samples.length / 2 / crashedWav.sampleRate;
    console.log({ sentSeconds, sentFrames, crashedSeconds, fileBytes: crashed.length });
    // What was sent = frames written to the client (counted up to a little after the kill,
    // which only makes this stricter), 20 ms each.
    const sentAudio = sentFrames * 0.02;
    assertGreaterOrEqual(crashedSeconds, sentAudio - 1, "all but at most the last second");

    // Restart on the same data dir: the recorder repairs the header, the API serves it.
    server = await spawnServer({ dataDir, configPath });
    const repaired = await Deno.readFile(path);
    const repairedView = new DataView(repaired.buffer);
    assertEquals(repairedView.getUint32(40, true), repaired.length - 44, "data size = file");
    assertEquals(repairedView.getUint32(4, true), repaired.length - 8, "RIFF size = file");
    const wav = decodeWav(repaired);
    assertEquals([wav.sampleRate, wav.channels], [16000, 2]);
    const seconds = wav.samples.length / 2 / 16000;
    assertGreaterOrEqual(seconds, sentAudio - 1);

    const [left, right] = await channelsAt8k(wav.samples, 16000);
    const sent = SPEECH_8K.subarray(0, left.length);
    const up = align(sent, left, 400);
    console.log({ up, seconds });
    assert(up.correlation > 0.9, `left correlates with what was sent: ${JSON.stringify(up)}`);
    assert(align(sent, right, 400).correlation < 0.5, "right holds the other signal");

    const response = await fetch(`${server.listening.http}/v1/recordings/${sid}`, { headers });
    assertEquals(response.status, 200);
    const meta = await response.json();
    // The API shows the file relative to the recordings folder, never an absolute path.
    assertEquals([meta.sid, meta.path, meta.state], [sid, `${sid}.wav`, "interrupted"]);
    assertEquals(meta.bytes, repaired.length - 44);
    assert(Math.abs(meta.duration - seconds) < 1e-6);
    assertEquals(meta.tracks.map((t: { name: string }) => t.name).sort(), ["downlink", "uplink"]);
    const list = await (await fetch(`${server.listening.http}/v1/recordings`, { headers })).json();
    assertEquals(list.recordings.map((r: { sid: string }) => r.sid), [sid]);
    const missing = await fetch(`${server.listening.http}/v1/recordings/CAnope`, { headers });
    assertEquals(missing.status, 404);
    assertEquals(missing.headers.get("content-type"), "application/problem+json");
    assertEquals((await missing.json()).status, 404);

    server.child.kill("SIGTERM");
    await server.child.status;
    await server.pump;
  } finally {
    try {
      server.child.kill("SIGKILL");
    } catch { /* exited */ }
    await Deno.remove(dataDir, { recursive: true });
  }
});
