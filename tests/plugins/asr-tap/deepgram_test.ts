import { assert, assertEquals, assertGreater, assertLess } from "@std/assert";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { bestLagCorrelation } from "../../_lib/correlate.ts";
import { segmentSpeech } from "./_recognizers.ts";
import { transcripts } from "./_server.ts";
import { ENDPOINT_MS, UTTERANCES, withClientTurns } from "./_turns.ts";

Deno.test("asr-tap streams a client: Opus leg to a Deepgram-style recognizer as linear16 16 kHz and puts its results on the call: transcript events on SSE in order, the finals at GET /transcript", async () => {
  await withClientTurns(
    "deepgram",
    {},
    { codec: "pcm16", sampleRate: 48000, publishCodec: "opus" },
    async ({ fx, fake, sid, events, source, webhooks }) => {
      // What the recognizer was asked for and got.
      assertEquals(fake.connections.length, 1);
      const conn = fake.connections[0];
      const q = conn.url.searchParams;
      assertEquals(
        ["encoding", "sample_rate", "channels", "interim_results", "endpointing"].map((k) =>
          q.get(k)
        ),
        ["linear16", "16000", "1", "true", String(ENDPOINT_MS)],
      );
      assertEquals(conn.headers.get("authorization"), "Token deepgram-test-key");
      // Keep-alives while silence was left out: before the first audio (1.2 s of silence).
      const firstAudio = conn.received.findIndex((r) => r.kind === "audio");
      const before = conn.received.slice(0, firstAudio);
      assert(
        before.some((r) => r.kind === "text" && r.message.type === "KeepAlive"),
        JSON.stringify(before),
      );
      assertGreater(conn.texts("Finalize").length, 0);
      assertEquals(conn.texts("CloseStream").length, 1);
      // The audio received is the caller's: utterance 1 of the fixture, resampled to 16 kHz.
      using down = await createResampler({ inputRate: 48000, outputRate: 16000 });
      const ref16 = down.process(source);
      const received = conn.pcm();
      const first = bestLagCorrelation(
        ref16.subarray(1.5 * 16000, 6.5 * 16000),
        received.subarray(0, 7 * 16000),
        { minLag: 0, maxLag: 16000 },
      );
      assertGreater(first.r, 0.95, JSON.stringify(first));
      // Silence was not streamed: much less than the 13.9 s of the call.
      assertLess(received.length / 16000, 13.9 - 2, `${received.length / 16000} s streamed`);

      // Events on SSE, in order, on the call's timeline.
      const kinds = transcripts(events).map((e) => e.kind);
      assertEquals(kinds[0], "speech_start");
      assertEquals(kinds.filter((k) => k === "final").length, 2, JSON.stringify(conn.utterances));
      const iFinal = kinds.indexOf("final"), iTurn = kinds.indexOf("end_of_turn");
      assert(kinds.slice(1, iFinal).every((k) => k === "partial") && iFinal > 1, kinds.join(","));
      assert(iTurn > iFinal, kinds.join(","));
      const finals = transcripts(events, "final");
      assertEquals(finals.map((f) => f.text), UTTERANCES);
      assertEquals(finals.map((f) => f.track), ["uplink", "uplink"]);
      // Where the same segmenter finds the utterances in the source; 4 windows of slack:
      // Opus and resampler delays shift where the energy crosses the threshold.
      const expected = segmentSpeech(ref16, 16000, { endpointMs: ENDPOINT_MS });
      assertEquals(expected.length, 2, JSON.stringify(expected));
      for (const [i, f] of finals.entries()) {
        assert(
          Math.abs(f.start - expected[i].start) <= 80 && Math.abs(f.end - expected[i].end) <= 80,
          `final ${i}: ${f.start}–${f.end} ms, source ${expected[i].start}–${expected[i].end} ms`,
        );
      }
      assertEquals(finals[0].confidence, 0.98);
      assertEquals(transcripts(events, "end_of_turn").map((t) => t.text), UTTERANCES);
      const speechStart = transcripts(events, "speech_start")[0].start;
      assert(Math.abs(speechStart - expected[0].start) <= 80, `${speechStart}`);
      assert(events.some((e) => e.type === "asr" && e.state === "connected"));

      // Webhooks carry the transcript too, all but the partials.
      const hooked = webhooks.filter((w) => w.type === "transcript").map((w) => w.kind);
      assertEquals(hooked.filter((k) => k === "final").length, 2, JSON.stringify(webhooks));
      assertEquals(hooked.includes("partial"), false);
      assert(webhooks.some((w) => w.type === "asr"));

      // The transcript route lists the finals in order (and the SDK reads it).
      const res = await fx.fetch(`/v1/calls/${sid}/transcript`);
      assertEquals(res.status, 200);
      const body = await res.json();
      assertEquals(body.sid, sid);
      assertEquals(body.finals.map((f: { text: string }) => f.text), UTTERANCES);
      assertEquals(body.finals[0].start, finals[0].start);
      assertEquals((await (await fx.voice()).calls.transcript(sid)).finals.length, 2);
      assertEquals((await fx.fetch(`/v1/calls/CAnosuchcall/transcript`)).status, 404);
    },
  );
});
