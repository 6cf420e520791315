import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { nowMicros } from "../../../src/voice/track.ts";
import { bestLagCorrelation } from "../../_lib/correlate.ts";
import { readFixtureWav } from "../../_lib/fixtures.ts";
import { segmentSpeech, startFakeRecognizer } from "./_recognizers.ts";
import { collectEvents, startAsrServer, transcripts } from "./_server.ts";
import { callClient, speak } from "./_call.ts";

const UTTERANCES = [
  "thank you for calling please say the name of the person you would like to reach",
  "i would like to speak with the billing department about my last invoice",
];

Deno.test("asr-tap streams a client: Opus leg to a Deepgram-style recognizer as linear16 16 kHz and puts its results on the call: transcript events on SSE in order, the finals at GET /transcript", async () => {
  await using fake = startFakeRecognizer({
    protocol: "deepgram",
    key: "dg-key",
    utterances: UTTERANCES,
  });
  await using fx = await startAsrServer(
    {
      provider: "deepgram",
      url: fake.url,
      apiKeyEnv: "ASR_TEST_DG_KEY",
      keepAliveMs: 200,
      endpointingMs: 700, // longer than the pauses inside an utterance of the fixture
      hangoverMs: 900,
    },
    { env: { ASR_TEST_DG_KEY: "dg-key" } },
  );
  const { app, sid, leg } = await callClient(fx, {
    codec: "pcm16",
    sampleRate: 48000,
    publishCodec: "opus",
  });
  const sse = collectEvents(app, sid);
  const source = readFixtureWav("turns-48k.wav").samples;
  await speak(leg, source, 48000, nowMicros());
  await sse.until((e) => transcripts(e, "final").length >= 2, "two finals");
  await sse.until((e) => transcripts(e, "end_of_turn").length >= 2, "two turn ends");
  await app.calls.hangup(sid);
  await sse.done;
  await fake.until(() => fake.connections[0]?.texts("CloseStream").length === 1, "CloseStream");

  // What the recognizer was asked for and got.
  assertEquals(fake.connections.length, 1);
  const conn = fake.connections[0];
  const q = conn.url.searchParams;
  assertEquals(
    [
      q.get("encoding"),
      q.get("sample_rate"),
      q.get("channels"),
      q.get("interim_results"),
      q.get("endpointing"),
    ],
    ["linear16", "16000", "1", "true", "700"],
  );
  assertEquals(conn.headers.get("authorization"), "Token dg-key");
  // Keep-alives while silence was left out: before the first audio (1.2 s of silence).
  const firstAudio = conn.received.findIndex((r) => r.kind === "audio");
  const before = conn.received.slice(0, firstAudio).filter((r) => r.kind === "text");
  assert(
    before.some((r) => r.kind === "text" && r.message.type === "KeepAlive"),
    JSON.stringify(before),
  );
  assertGreater(conn.texts("Finalize").length, 0);
  // The audio received is the caller's speech: utterance 1 of the fixture, resampled to 16 kHz.
  using down = await createResampler({ inputRate: 48000, outputRate: 16000 });
  const ref16 = down.process(source);
  const received = conn.pcm();
  const first = bestLagCorrelation(
    ref16.subarray(1.5 * 16000, 6.5 * 16000),
    received.subarray(0, 7 * 16000),
    {
      minLag: 0,
      maxLag: 16000,
    },
  );
  assertGreater(first.r, 0.95, JSON.stringify(first));
  // Silence was not streamed: much less than the 13.9 s of the call.
  assertLess(received.length / 16000, 13.9 - 2, `${received.length / 16000} s streamed`);

  // Events on SSE, in order, on the call's timeline.
  const events = transcripts(sse.events);
  const kinds = events.map((e) => e.kind);
  assertEquals(kinds[0], "speech_start");
  assertEquals(kinds.filter((k) => k === "final").length, 2, JSON.stringify(conn.utterances));
  const iFinal = kinds.indexOf("final"), iTurn = kinds.indexOf("end_of_turn");
  assert(kinds.slice(1, iFinal).every((k) => k === "partial") && iFinal > 1, kinds.join(","));
  assert(iTurn > iFinal, kinds.join(","));
  const finals = transcripts(sse.events, "final");
  assertEquals(finals.map((f) => f.text), UTTERANCES);
  assertEquals(finals.map((f) => f.track), ["uplink", "uplink"]);
  // On the call's timeline: where the same segmenter finds the utterances in the source.
  const expected = segmentSpeech(ref16, 16000, { endpointMs: 700 });
  assertEquals(expected.length, 2, JSON.stringify(expected));
  for (const [i, f] of finals.entries()) {
    const want = expected[i];
    assert(
      // 4 windows: Opus and resampler delays shift where the energy crosses the threshold.
      Math.abs(f.start - want.start) <= 80 && Math.abs(f.end - want.end) <= 80,
      `final ${i}: ${f.start}–${f.end} ms, source ${want.start}–${want.end} ms`,
    );
  }
  assertEquals(finals[0].confidence, 0.98);
  const turns = transcripts(sse.events, "end_of_turn");
  assertEquals(turns.map((t) => t.text), UTTERANCES);
  const speechStarts = transcripts(sse.events, "speech_start").map((e) => e.start);
  assert(
    Math.abs(speechStarts[0] - expected[0].start) <= 80,
    `${speechStarts} vs ${expected[0].start}`,
  );
  assert(sse.events.some((e) => e.type === "asr" && e.state === "connected"));

  // The transcript route lists the finals in order.
  const res = await fx.fetch(`/v1/calls/${sid}/transcript`);
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.sid, sid);
  assertEquals(body.finals.map((f: { text: string }) => f.text), UTTERANCES);
  assertEquals(body.finals[0].start, finals[0].start);
  assertEquals((await app.calls.transcript(sid)).finals.length, 2);
});
