import { assert, assertEquals, assertGreater } from "@std/assert";
import { createResampler } from "../../../src/codecs/resampler.ts";
import { bestLagCorrelation } from "../../_lib/correlate.ts";
import { segmentSpeech } from "./_recognizers.ts";
import { transcripts } from "./_server.ts";
import { ENDPOINT_MS, UTTERANCES, withClientTurns } from "./_turns.ts";

Deno.test("asr-tap speaks AssemblyAI v3 to a local recognizer: pcm_s16le 16 kHz in 50–1000 ms chunks after Begin, Turn partials and formatted end-of-turn finals as transcript events, Terminate at the end", async () => {
  await withClientTurns(
    "assemblyai",
    {},
    { codec: "pcm16", sampleRate: 48000, publishCodec: "opus" },
    async ({ fx, fake, sid, events, source }) => {
      assertEquals(fake.connections.length, 1);
      const conn = fake.connections[0];
      const q = conn.url.searchParams;
      assertEquals([q.get("sample_rate"), q.get("encoding")], ["16000", "pcm_s16le"]);
      assertEquals(q.get("format_turns"), "true");
      assertEquals(conn.headers.get("authorization"), "assemblyai-test-key");
      // Every audio message is 50–1000 ms (AssemblyAI's limits) of 16 kHz linear16.
      const sizes = conn.received.flatMap((r) => r.kind === "audio" ? [r.bytes.length / 32] : []);
      assert(sizes.every((ms) => ms >= 50 && ms <= 1000), `chunk ms: ${[...new Set(sizes)]}`);
      assertEquals(conn.texts("Terminate").length, 1);
      assertGreater(conn.texts("ForceEndpoint").length, 0);

      using down = await createResampler({ inputRate: 48000, outputRate: 16000 });
      const ref16 = down.process(source);
      const first = bestLagCorrelation(
        ref16.subarray(1.5 * 16000, 6.5 * 16000),
        conn.pcm().subarray(0, 7 * 16000),
        { minLag: 0, maxLag: 16000 },
      );
      assertGreater(first.r, 0.95, JSON.stringify(first));

      const finals = transcripts(events, "final");
      // The formatted turn's text, once per turn (the unformatted end_of_turn is not repeated).
      assertEquals(
        finals.map((f) => f.text),
        UTTERANCES.map((u) => u[0].toUpperCase() + u.slice(1) + "."),
      );
      const expected = segmentSpeech(ref16, 16000, { endpointMs: ENDPOINT_MS });
      for (const [i, f] of finals.entries()) {
        assert(
          Math.abs(f.start - expected[i].start) <= 80 && Math.abs(f.end - expected[i].end) <= 80,
          `final ${i}: ${f.start}–${f.end} ms, source ${expected[i].start}–${expected[i].end} ms`,
        );
      }
      const kinds = transcripts(events).map((e) => e.kind);
      assertEquals(kinds[0], "speech_start");
      assert(kinds.includes("partial"), kinds.join(","));
      assert(kinds.indexOf("end_of_turn") > kinds.indexOf("final"), kinds.join(","));
      const body = await (await fx.fetch(`/v1/calls/${sid}/transcript`)).json();
      assertEquals(body.finals.map((f: { text: string }) => f.text), finals.map((f) => f.text));
    },
  );
});
