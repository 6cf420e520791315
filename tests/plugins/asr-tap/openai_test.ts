import { assert, assertEquals, assertGreater } from "@std/assert";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { bestLagCorrelation } from "../../_lib/correlate.ts";
import { segmentSpeech } from "./_recognizers.ts";
import { transcripts } from "./_server.ts";
import { ENDPOINT_MS, UTTERANCES, withClientTurns } from "./_turns.ts";

Deno.test("asr-tap speaks OpenAI realtime transcription to a local recognizer: intent=transcription, transcription_session.update, 24 kHz pcm16 in input_audio_buffer.append (silence too: server VAD), deltas as partials, completed as finals", async () => {
  await withClientTurns(
    "openai",
    { model: "gpt-4o-transcribe" },
    { codec: "pcm16", sampleRate: 48000, publishCodec: "opus" },
    async ({ fx, fake, sid, events, source }) => {
      assertEquals(fake.connections.length, 1);
      const conn = fake.connections[0];
      assertEquals(conn.url.searchParams.get("intent"), "transcription");
      assertEquals(conn.headers.get("authorization"), "Bearer openai-test-key");
      assertEquals(conn.headers.get("openai-beta"), "realtime=v1");
      const [update] = conn.texts("transcription_session.update");
      const session = update.session as Record<string, Record<string, unknown>>;
      assertEquals(session.input_audio_format as unknown, "pcm16");
      assertEquals(session.input_audio_transcription, {
        model: "gpt-4o-transcribe",
        language: "en",
      });
      assertEquals(session.turn_detection.type, "server_vad");
      // Audio came only as append events, after the update.
      const appends = conn.texts("input_audio_buffer.append").length;
      assertGreater(appends, 0);
      assertEquals(conn.received.filter((r) => r.kind === "audio").length, 0);

      using down = await createResampler({ inputRate: 48000, outputRate: 24000 });
      const ref24 = down.process(source);
      const received = conn.pcm();
      // Silence is streamed: the whole call, correlated as one.
      const whole = bestLagCorrelation(ref24.subarray(0, 12 * 24000), received, {
        minLag: -2400,
        maxLag: 2400,
      });
      assertGreater(whole.r, 0.95, JSON.stringify(whole));

      const finals = transcripts(events, "final");
      assertEquals(finals.map((f) => f.text), UTTERANCES);
      const expected = segmentSpeech(ref24, 24000, { endpointMs: ENDPOINT_MS });
      for (const [i, f] of finals.entries()) {
        assert(
          Math.abs(f.start - expected[i].start) <= 80 && Math.abs(f.end - expected[i].end) <= 80,
          `final ${i}: ${f.start}–${f.end} ms, source ${expected[i].start}–${expected[i].end} ms`,
        );
      }
      const partials = transcripts(events, "partial");
      assert(partials.length > 0);
      assert(partials[0].text.length <= finals[0].text.length);
      assertEquals(transcripts(events, "end_of_turn").map((t) => t.text), UTTERANCES);
      const body = await (await fx.fetch(`/v1/calls/${sid}/transcript`)).json();
      assertEquals(body.finals.length, 2);
    },
  );
});
